"""Spec parsing: positioned YAML → a flat list of layer specs (blocks and repeats expanded).

Every problem becomes a Diagnostic located at the offending YAML node; parsing goes on
after an error where it can, so that `lint` reports every problem in one run.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from . import expr
from .errors import Collector, Diagnostic, LayerError, Loc, SpecError
from .layers import REQUIRED, Layer, Tensor, all_types, lookup
from .layers.params import check_value, shape_text
from .limits import MAX_BLOCK_DEPTH, MAX_CONNECTIONS, MAX_COPIES, MAX_DIM, MAX_ERRORS, MAX_FAN_IN, MAX_LAYERS
from .yamlio import Node, decode, load_yaml, read_bytes

TOP_KEYS = ("name", "input", "inputs", "outputs", "layout", "params", "blocks", "layers", "expect", "description")
LAYER_KEYS = ("type", "name", "inputs", "repeat", "if", "expect")
BLOCK_USE_KEYS = ("block", "name", "inputs", "repeat", "if", "expect")
SHARE_KEYS = ("share", "name", "inputs", "repeat", "if", "expect")  # a layer or block use called again
BLOCK_KEYS = ("params", "inputs", "layers", "description")
LAYOUTS = ("channels_last", "channels_first")
INPUT = "input"  # the name of the network input (and, inside a block, of the block input)
# every spelling `layout:` takes, in any case: the frameworks' names of the two layouts
LAYOUT_ALIASES = {
    **{a: "channels_last" for a in ("channels_last", "channels-last", "nhwc", "hwc", "nlc", "ndhwc")},
    **{a: "channels_first" for a in ("channels_first", "channels-first", "nchw", "chw", "ncl", "ncdhw")},
}
# `$x` and `${expr}` inside a layer name; a lone `$` stays
_NAME_PIECE = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")
_VALID_NAME = re.compile(r"\w[\w.\-]*")  # word characters, '.' and '-', not starting with '.' or '-'


def _substitute(value: str, env: dict[str, Any]) -> str:
    """`$x` and `${expr}` inside a layer name replaced by their values, left to right."""
    return _NAME_PIECE.sub(lambda piece: str(expr.evaluate(piece[0], env)), value)


def _valid_name(value: str) -> bool:
    return _VALID_NAME.fullmatch(value) is not None


class LayerSpec:
    __slots__ = ("name", "type", "params", "inputs", "loc", "param_locs", "inputs_loc", "origin", "expect", "blocks",
                 "shares")

    def __init__(self, name: str, type: type[Layer], params: dict[str, Any], inputs: list[str], loc: Loc,
                 param_locs: dict[str, Loc] | None = None, inputs_loc: Loc | None = None, origin: str = "",
                 expect: Node | None = None, blocks: tuple[tuple[str, str], ...] = (), shares: str | None = None):
        self.name = name
        self.type = type
        self.params = params
        self.inputs = inputs
        self.loc = loc
        self.param_locs: dict[str, Loc] = {} if param_locs is None else param_locs
        self.inputs_loc = inputs_loc
        self.origin = origin  # "block 'x' used at line N" for layers expanded from a block
        self.expect = expect
        self.blocks = blocks  # enclosing block uses, outermost first: (instance name, block)
        # the layer whose weights this one uses (`share:`): it is that layer called again, so its
        # parameters are counted there, once, and its operations here, every time
        self.shares = shares

    def __repr__(self) -> str:
        return f"LayerSpec({self.name!r}, {self.type.name}, inputs={self.inputs})"

    def where(self, key: str | None = None) -> Loc:
        if key == "inputs" and self.inputs_loc:
            return self.inputs_loc
        return self.param_locs.get(key, self.loc) if key else self.loc


class Network:
    """A parsed spec. `input`/`input_loc` and `output` are the first input and output; `inputs` lists
    every input as (name, tensor, location) and `outputs` every output layer. `named_inputs` and
    `named_outputs` say whether the spec used the `inputs:` / `outputs:` forms (the JSON output gains
    keys only then); `shared_uses` maps a block use given as `share: <use>` to that use."""

    __slots__ = ("name", "file", "layout", "input", "input_loc", "layers", "params", "warnings", "expect", "output",
                 "block_expects", "inputs", "outputs", "named_inputs", "named_outputs", "shared_uses", "text")

    def __init__(self, name: str, file: str, layout: str, input: Tensor, input_loc: Loc, layers: list[LayerSpec],
                 params: dict[str, Any], warnings: list[Diagnostic], expect: Node | None = None, output: str = "",
                 block_expects: list[tuple[str, str, Node, slice]] | None = None,
                 inputs: list[tuple[str, Tensor, Loc]] | None = None, outputs: list[str] | None = None,
                 named_inputs: bool = False, named_outputs: bool = False, shared_uses: dict[str, str] | None = None):
        self.name = name
        self.file = file
        self.layout = layout
        self.input = input
        self.input_loc = input_loc
        self.layers = layers
        self.params = params
        self.warnings = warnings
        self.expect = expect
        self.output = output
        # `expect:` on block uses: (instance name, output layer, expect node, slice of `layers` it expanded to)
        self.block_expects: list[tuple[str, str, Node, slice]] = [] if block_expects is None else block_expects
        self.inputs: list[tuple[str, Tensor, Loc]] = inputs if inputs is not None else [(INPUT, input, input_loc)]
        self.outputs: list[str] = outputs if outputs is not None else ([output] if output else [])
        self.named_inputs = named_inputs
        self.named_outputs = named_outputs
        self.shared_uses: dict[str, str] = shared_uses or {}
        self.text: str | None = None  # the spec's text when it was made in memory (a model file imported)

    @property
    def input_names(self) -> list[str]:
        return [name for name, _, _ in self.inputs]

    def __repr__(self) -> str:
        return f"Network({self.name!r}, {len(self.layers)} layers)"


# Words of opposite meaning: a name that differs from another only by one of these pairs is not a
# misspelling of it (`in_channels` is not a typo of `out_channels`), so it is never suggested.
_OPPOSITES = frozenset(frozenset(pair) for pair in (
    ("in", "out"), ("input", "output"), ("inputs", "outputs"), ("min", "max"), ("begin", "end"),
    ("start", "end"), ("first", "last"), ("left", "right"), ("top", "bottom"), ("height", "width"),
    ("pre", "post"), ("encoder", "decoder"), ("upper", "lower"), ("up", "down")))
_WORDS = re.compile(r"[_\-.\s]+")


def same_meaning(word: str, option: str) -> bool:
    """False when `option` is `word` with a word swapped for its opposite (in_/out_, min/max, ...)."""
    a, b = _WORDS.split(word.lower()), _WORDS.split(option.lower())
    if len(a) != len(b):
        return True
    return not any(frozenset((x, y)) in _OPPOSITES for x, y in zip(a, b, strict=True) if x != y)


def close_match(word: str, options: list[str] | tuple[str, ...] | Any) -> str | None:
    """The option `word` is most likely a misspelling of, or None; never one of another meaning."""
    import difflib  # only on the error path

    for option in difflib.get_close_matches(str(word), list(options), n=3, cutoff=0.6):
        if same_meaning(str(word), option):
            return option
    return None


def suggest(word: str, options: list[str] | tuple[str, ...] | Any) -> str:
    close = close_match(word, options)
    return f"; did you mean {close!r}?" if close else ""


def display_name(path: str | os.PathLike[str]) -> str:
    """The file name every message gives: as the user wrote it, spelt as pathlib spells it (no '.'
    parts, no repeated or trailing '/'), so that `./a.yaml` and `a.yaml` are one file."""
    return str(Path(path))


def load(path: str | os.PathLike[str], overrides: dict[str, Any] | None = None) -> Network:
    """Read and parse a spec file. Raises SpecError listing every problem found."""
    return loads(read(path), display_name(path), overrides)


def read(path: str | os.PathLike[str]) -> str:
    """The text of a spec file (at most MAX_BYTES are read); raises SpecError (rule `unreadable`)."""
    file = display_name(path)
    return decode(read_bytes(file), file)


def loads(text: str, file: str = "<string>", overrides: dict[str, Any] | None = None) -> Network:
    """Parse a spec from text; `file` is used in messages."""
    root = load_yaml(text, file)
    return _Parser(file, overrides or {}).parse(root)


class _Use:
    """A block use, kept so that `share: <its name>` can expand the same block again."""

    __slots__ = ("glob", "block", "env")

    def __init__(self, glob: str, block: str, env: dict[str, Any]):
        self.glob = glob
        self.block = block
        self.env = env


class _Scope:
    """Name table of one block instance (or the top level). `inputs` maps the local names of its
    inputs (`input`, or a block's or the network's named inputs) to the global names they stand for."""

    def __init__(self, prefix: str, inputs: dict[str, str]):
        self.prefix = prefix
        self.names: dict[str, str] = dict(inputs)
        self.inputs = tuple(inputs)
        # what the first layer reads when it names nothing: the one input (several: it must say)
        self.first: str | None = next(iter(inputs.values())) if len(inputs) == 1 else None
        self.counters: dict[str, int] = {}
        self.pending: list[tuple[LayerSpec, list[Node]]] = []  # explicit `inputs`, resolved at scope end
        self.blocks: tuple[tuple[str, str], ...] = ()
        self.uses: dict[str, _Use] = {}  # the block uses of this scope, by local name

    def reads_nothing(self) -> str:
        """The message for a layer that names no input where there is no single one to read."""
        where = "this block has" if self.prefix else "the network has"
        names = ", ".join(self.inputs)
        return (f"{where} several inputs ({names}); say which this layer reads, e.g. "
                f"`inputs: [{self.inputs[0]}]`")


class _Parser:
    def __init__(self, file: str, overrides: dict[str, Any]):
        self.file = file
        self.overrides = overrides
        self.out = Collector()
        self.layers: list[LayerSpec] = []
        self.globals: dict[str, Any] = {}
        self.blocks: dict[str, Node] = {}
        self.all_names: dict[str, LayerSpec] = {}
        self.block_expects: list[tuple[str, str, Node, slice]] = []
        self.block_inputs: dict[str, list[str]] = {}  # a block's declared `inputs` (none: one, `input`)
        self.shared_uses: dict[str, str] = {}  # block use → the block use whose weights it uses (`share:`)
        self.expanded = 0  # layer and block copies made so far, dropped ones too (bounded by MAX_COPIES)
        self.connections = 0  # explicit `inputs` read so far (bounded by MAX_CONNECTIONS)
        self.suggestion_budget = 20_000  # names compared for did-you-mean hints (see `suggest`)
        self.n_errors = 0
        # layers[:clean] were parsed before the first error and do not depend on it (see `partial`)
        self.clean: int | None = None
        self.position: dict[str, int] = {}
        self.reported: set[tuple[Loc, str]] = set()
        self.templates: dict[int, _Template] = {}  # id(entry node) → its template
        self.wrapped: dict[int, Node] = {}  # id(bare type-name node) → it as a {type: ...} entry

    def suggest(self, word: str, options: Any) -> str:
        """`; did you mean ...?` while the file's budget of comparisons lasts: a did-you-mean over
        thousands of layer names costs ~0.15 s, and a file may hold a thousand bad references."""
        options = list(options)
        if len(options) > self.suggestion_budget:
            return ""
        self.suggestion_budget -= len(options)
        return suggest(word, options)

    def err(self, message: str, loc: Loc, rule: str) -> None:
        if self.clean is None:
            self.clean = len(self.layers)
        self.n_errors += 1
        if (loc, message) not in self.reported:  # a broken layer in a repeated block: report it once
            self.reported.add((loc, message))
            self.out.error(message, loc, rule)
        if self.n_errors >= MAX_ERRORS:
            raise SpecError(self.out.diagnostics + [Diagnostic(
                "error", f"stopped after {MAX_ERRORS} errors; fix these first", loc, "too-many-errors")])

    # ---- top level -------------------------------------------------------------------------
    def parse(self, root: Node) -> Network:
        if not isinstance(root.value, dict):
            raise SpecError(Diagnostic("error", "a spec is a YAML mapping with `input` and `layers`; "
                                       f"this file holds a {_kind(root.value)}", root.loc, "not-a-spec"))
        top = root.value
        if "layers" not in top and "input" not in top and "inputs" not in top:  # e.g. a CI workflow found by `lint DIR`
            raise SpecError(Diagnostic("error", "not a cnncalc spec: a spec is a mapping with `input` and `layers`",
                                       root.loc, "not-a-spec"))
        for key, kloc in (root.key_locs or {}).items():
            if key not in TOP_KEYS:
                self.err(f"unknown top-level key {key!r}{self.suggest(key, TOP_KEYS)}", kloc, "unknown-key")
        if "layers" not in top:
            raise SpecError(self.out.diagnostics + [Diagnostic(
                "error", "missing `layers`: list the network's layers under `layers:`", root.loc, "missing-key")])
        name = top["name"].value if "name" in top else Path(self.file).stem
        if not isinstance(name, str):
            self.err("`name` must be a string", top["name"].loc, "invalid-value")
            name = str(name)
        if "description" in top and not isinstance(top["description"].value, str):
            self.err("`description` must be a string", top["description"].loc, "invalid-value")
        layout = self._layout(top.get("layout"))
        self._params(top.get("params"))
        inputs = self._inputs(top, root.loc, layout)
        _, tensor, input_loc = inputs[0]
        self._blocks(top.get("blocks"))
        scope = _Scope("", {n: n for n, _, _ in inputs})
        layers_node = top["layers"]
        if not isinstance(layers_node.value, list) or not layers_node.value:
            self.err("`layers` must be a non-empty list of layers", layers_node.loc, "invalid-value")
            raise SpecError(self.out.diagnostics)
        last = self._sequence(layers_node, scope, self.globals, scope.first, "", 0)
        self._resolve(scope)
        outputs = self._outputs(top.get("outputs"), scope, last)
        if self.out.errors:
            # not bound to a local first: exception → traceback → this frame → exception would be a
            # cycle, keeping the whole parse alive until the collector runs
            raise SpecError(self.out.errors, partial=Network(
                name, self.file, layout, tensor, input_loc, self.layers[: self.clean], dict(self.globals), [], None, "",
                inputs=inputs, outputs=[], named_inputs="inputs" in top))
        net = Network(name, self.file, layout, tensor, input_loc, self.layers, dict(self.globals),
                      self.out.warnings, top.get("expect"), outputs[0], self.block_expects, inputs, outputs,
                      "inputs" in top, "outputs" in top, self.shared_uses)
        return net

    def _layout(self, node: Node | None) -> str:
        if node is None:
            return "channels_last"
        value = node.value
        if isinstance(value, str) and value.strip().lower() in LAYOUT_ALIASES:
            return LAYOUT_ALIASES[value.strip().lower()]
        hint = ""
        if isinstance(value, str):
            close = close_match(value.strip().lower(), list(LAYOUT_ALIASES))
            hint = f"; did you mean {LAYOUT_ALIASES[close]!r}?" if close else ""
        self.err(f"layout must be channels_last (NHWC, the default: height, width, channels) or channels_first "
                 f"(NCHW: channels, height, width), got {node.plain()!r}{hint}", node.loc, "invalid-value")
        return "channels_last"

    def _inputs(self, top: dict[str, Node], root_loc: Loc, layout: str) -> list[tuple[str, Tensor, Loc]]:
        """The network inputs: `input: <shape>` (one, called `input`) or `inputs: {name: shape, ...}`."""
        explicit = "layout" in top
        node = top.get("inputs")
        if node is None:
            tensor, loc = self._input(top.get("input"), root_loc, layout, explicit)
            return [(INPUT, tensor, loc)]
        if "input" in top:
            self.err("give `input` (one input) or `inputs` (named inputs), not both", top["input"].loc,
                     "duplicate-key")
        if not isinstance(node.value, dict) or not node.value:
            self.err("`inputs` names the network inputs and their shapes, e.g. "
                     "`inputs: {image: 224x224x3, mask: 224x224x1}`", node.loc, "invalid-value")
            return [(INPUT, Tensor(1, (1, 1)), node.loc)]
        out = []
        key_locs = node.key_locs or {}
        for iname, vnode in node.value.items():
            if not (iname.isascii() and iname.isidentifier() or _valid_name(iname)):
                self.err(f"input name must be letters, digits, '_', '.' or '-' (not starting with '.' or '-'), "
                         f"got {iname!r}", key_locs.get(iname, vnode.loc), "invalid-value")
                continue
            tensor, loc = self._input(vnode, root_loc, layout, explicit, iname)
            out.append((iname, tensor, loc))
        return out or [(INPUT, Tensor(1, (1, 1)), node.loc)]

    def _input(self, node: Node | None, root_loc: Loc, layout: str, explicit: bool = True,
               iname: str = INPUT) -> tuple[Tensor, Loc]:
        if node is None:
            self.err("missing `input`: give the input shape, e.g. `input: [32, 32, 3]`", root_loc, "missing-key")
            return Tensor(1, (1, 1)), root_loc
        try:
            value = self._shape_value(node)
        except LayerError as exc:
            self.err(exc.message, node.loc, exc.rule)
            return Tensor(1, (1, 1)), node.loc
        what = "input" if iname == INPUT else f"input {iname!r}"
        ok = isinstance(value, list) and 1 <= len(value) <= 4 and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value)
        if not ok:
            self.err(f"{what} must be a list of 1 to 4 positive integers in {layout} order "
                     f"(e.g. [32, 32, 3]), got {node.plain()!r}", node.loc, "invalid-value")
            return Tensor(1, (1, 1)), node.loc
        if any(v < 1 or v > MAX_DIM for v in value):
            self.err(f"{what} sizes must be between 1 and {MAX_DIM}, got {value}", node.loc,
                     "nonpositive-size" if any(v < 1 for v in value) else "too-large")
            return Tensor(1, (1, 1)), node.loc
        if not explicit and len(value) >= 2 and value[0] <= 4 and all(v >= 16 for v in value[1:]):
            # [3, 224, 224] without `layout:`: 224 channels of 3x224, almost surely not what was meant
            dims = "x".join(map(str, value))
            read = Tensor.from_dims(value, layout)
            sizes = "x".join(map(str, read.spatial))
            self.out.warning(f"{what} {dims} is read channels-last (the default layout): {read.c} channels of "
                             f"{sizes}; it looks channels-first ({value[0]} channels of "
                             f"{'x'.join(map(str, value[1:]))}): add `layout: channels_first` (or "
                             "`layout: channels_last` to keep this reading)", node.loc, "channels-first-input")
        return Tensor.from_dims(value, layout), node.loc

    def _shape_value(self, node: Node) -> Any:
        """An input shape as written: a list (items may be `$` expressions), `227x227x3` (which may hold
        `$name` / `${expr}` pieces) or one expression giving either. Raises LayerError."""
        value = node.value
        if isinstance(value, list):
            return [self._eval(v, self.globals) for v in value]
        if isinstance(value, str) and "$" in value:
            if _NAME_PIECE.fullmatch(value.strip()):
                value = self._eval(Node(value.strip(), node.loc), self.globals)
                if isinstance(value, list) or not isinstance(value, str):
                    return value
            else:
                try:
                    value = _substitute(value, self.globals)
                except expr.ExprError as exc:
                    raise LayerError(str(exc), "bad-expression") from None
        if isinstance(value, str):
            return shape_text(value) or value
        return value

    def _outputs(self, node: Node | None, scope: _Scope, last: str | None) -> list[str]:
        """The network outputs: the last layer, or the layers `outputs:` names (in that order)."""
        if node is None:
            return [last] if last is not None else [""]
        items = node.value if isinstance(node.value, list) else [node]
        if not items:
            self.err("`outputs` lists the layers whose results the network returns, e.g. `outputs: [seg, cls]`",
                     node.loc, "invalid-value")
            return [last or ""]
        out: list[str] = []
        for item in items:
            ref = item.value
            if not isinstance(ref, str):
                self.err(f"outputs must be layer names, got {item.plain()!r}", item.loc, "invalid-value")
                continue
            target = scope.names.get(ref)
            if target is None or ref in scope.inputs:
                layers = [n for n in scope.names if n not in scope.inputs]
                what = "is a network input, not a layer" if target is not None else "is not a layer of `layers`"
                self.err(f"output {ref!r} {what}{self.suggest(ref, layers)}", item.loc, "unknown-reference")
                continue
            if target in out:
                self.err(f"output {ref!r} is listed twice; list each output once", item.loc, "duplicate-name")
                continue
            out.append(target)
        return out or [last or ""]

    def _params(self, node: Node | None) -> None:
        given: dict[str, Any] = {}
        if node is not None:
            if not isinstance(node.value, dict):
                self.err("`params` must be a mapping of names to values", node.loc, "invalid-value")
            else:
                for k, v in node.value.items():
                    if isinstance(v.value, (dict, list)):
                        self.err(f"param {k!r} must be a single value", v.loc, "invalid-value")
                    given[k] = v.value
        for k, v in self.overrides.items():
            if k not in given:
                known = ", ".join(sorted(given)) or "none"
                raise SpecError(Diagnostic("error", f"--set {k}: the spec has no param {k!r} (its params: {known})"
                                           f"{self.suggest(k, list(given))}", node.loc if node else Loc(self.file),
                                           "unknown-param"))
            given[k] = v
        self.globals = given

    def _blocks(self, node: Node | None) -> None:
        if node is None:
            return
        if not isinstance(node.value, dict):
            self.err("`blocks` must be a mapping of block names to definitions", node.loc, "invalid-value")
            return
        for bname, bnode in node.value.items():
            # a block's name becomes the name of its unnamed uses' layers: the same rule as layer names
            if not (bname.isascii() and bname.isidentifier() or _valid_name(bname)):
                self.err(f"block name must be letters, digits, '_', '.' or '-' (not starting with '.' or '-'), "
                         f"got {bname!r}", (node.key_locs or {}).get(bname, bnode.loc), "invalid-value")
                continue
            if not isinstance(bnode.value, dict):
                self.err(f"block {bname!r} must be a mapping with `layers` (and optional `params`)",
                         bnode.loc, "invalid-value")
                continue
            for key, kloc in (bnode.key_locs or {}).items():
                if key not in BLOCK_KEYS:
                    self.err(f"unknown key {key!r} in block {bname!r}{self.suggest(key, BLOCK_KEYS)}",
                             kloc, "unknown-key")
            described = bnode.value.get("description")
            if described is not None and not isinstance(described.value, str):
                self.err(f"`description` of block {bname!r} must be a string", described.loc, "invalid-value")
            layers = bnode.value.get("layers")
            if layers is None or not isinstance(layers.value, list) or not layers.value:
                self.err(f"block {bname!r} needs a non-empty `layers` list", bnode.loc, "missing-key")
                continue
            p = bnode.value.get("params")
            if p is not None and not isinstance(p.value, dict):
                self.err(f"`params` of block {bname!r} must be a mapping (name: default, null = required)",
                         p.loc, "invalid-value")
                continue
            inames = self._block_input_names(bname, bnode.value.get("inputs"))
            if inames is None:
                continue
            if inames:
                self.block_inputs[bname] = inames
            self.blocks[bname] = bnode

    def _block_input_names(self, bname: str, node: Node | None) -> list[str] | None:
        """A block's `inputs: [up, skip]`: the local names of the tensors a use passes in (None: an error)."""
        if node is None:
            return []
        items = node.value if isinstance(node.value, list) else None
        if not items:
            self.err(f"`inputs` of block {bname!r} lists the names its layers call the block's inputs, "
                     "e.g. `inputs: [up, skip]`", node.loc, "invalid-value")
            return None
        names: list[str] = []
        for item in items:
            v = item.value
            if not isinstance(v, str) or not (v.isascii() and v.isidentifier() or _valid_name(v)):
                self.err(f"block input names must be letters, digits, '_', '.' or '-', got {item.plain()!r}",
                         item.loc, "invalid-value")
                return None
            if v in names:
                self.err(f"block input {v!r} is named twice", item.loc, "duplicate-name")
                return None
            names.append(v)
        return names

    # ---- sequences, layers and blocks ----------------------------------------------------------
    def _sequence(self, seq: Node, scope: _Scope, env: dict[str, Any], prev: str | None, origin: str,
                  depth: int) -> str | None:
        for entry in seq.value:
            prev = self._entry(entry, scope, env, prev, origin, depth)
        return prev

    def _eval(self, node: Node, env: dict[str, Any]) -> Any:
        """The node's plain value with `$` expressions evaluated; raises LayerError on bad expressions."""
        v = node.value
        if isinstance(v, list):
            return [self._eval(x, env) for x in v]
        if isinstance(v, dict):
            return {k: self._eval(x, env) for k, x in v.items()}
        if type(v) is str and v.startswith("$"):  # expr.is_expr
            try:
                return expr.evaluate(v, env)
            except expr.ExprError as exc:
                raise LayerError(str(exc), "bad-expression") from None
        return v

    def _entry(self, node: Node, scope: _Scope, env: dict[str, Any], prev: str | None, origin: str,
               depth: int) -> str | None:
        if isinstance(node.value, str):  # a bare type name; wrapped once, so its template is found again
            wrapped = self.wrapped.get(id(node))
            if wrapped is None:
                wrapped = self.wrapped[id(node)] = Node({"type": node}, node.loc, {"type": node.loc})
            node = wrapped
        if not isinstance(node.value, dict):
            self.err(f"a layer is a mapping with a `type` (or a bare type name), got a {_kind(node.value)}",
                     node.loc, "invalid-value")
            return prev
        entry = node.value
        keys = node.key_locs or {}
        try:
            n_repeat = 1
            if "repeat" in entry:
                n_repeat = self._eval(entry["repeat"], env)
                if not isinstance(n_repeat, int) or isinstance(n_repeat, bool) or n_repeat < 1:
                    raise LayerError(f"repeat must be a positive integer, got {n_repeat!r}", "invalid-value",
                                     key="repeat")
                if n_repeat > MAX_LAYERS:
                    raise LayerError(f"repeat {n_repeat} is more than the {MAX_LAYERS} layers a spec may have",
                                     "too-large", key="repeat")
        except LayerError as exc:
            self.err(exc.message, entry["repeat"].loc, exc.rule)
            return prev
        name_node = entry.get("name")
        repeated = "repeat" in entry
        condition = entry.get("if")
        block = "block" in entry
        share = "share" in entry
        if share and (block or "type" in entry):
            other = "block" if block else "type"
            self.err(f"a layer with `share` is the shared layer called again: it takes its type and parameters "
                     f"from there; remove `{other}`", keys.get(other, node.loc), "invalid-value")
            return prev
        for i in range(n_repeat):
            # count every copy, also those dropped by `if` or failing: nested repeats of a broken
            # or empty block must not loop 1000**3 times
            self.expanded += 1
            if self.expanded > MAX_COPIES:
                raise SpecError(self.out.diagnostics + [Diagnostic(
                    "error", f"the spec expands to more than {MAX_COPIES} layer and block copies", node.loc,
                    "too-large")])
            local = dict(env, i=i) if repeated else env
            if condition is not None:
                try:
                    keep = self._eval(condition, local)
                    if not isinstance(keep, int):  # bools are ints; a string such as 'false' would be true
                        raise LayerError(f"`if` must be true or false (or an expression giving one), got "
                                         f"{condition.plain()!r}", "invalid-value")
                    if not keep:
                        continue
                except LayerError as exc:
                    self.err(exc.message, condition.loc, exc.rule)
                    return prev
            name = None
            if name_node is not None:
                name = name_node.value
                # the common case inline: a plain identifier (what _name would accept as it is)
                if not (type(name) is str and name.isidentifier() and name.isascii() and name != "input"):
                    name = self._name(name_node, local)
                    if name is None:
                        return prev
                if repeated and "$" not in str(name_node.value):
                    name = f"{name}.{i}"
            if share:
                prev = self._share(node, scope, local, prev, name, origin, depth)
            elif block:
                prev = self._block_use(node, scope, local, prev, name, origin, depth)
            else:
                prev = self._layer(node, keys, scope, local, prev, name, origin, depth == 0 and not repeated)
        return prev

    def _name(self, node: Node, env: dict[str, Any]) -> str | None:
        """A layer name; `${expr}` and `$param` inside it are substituted (e.g. `conv${i + 2}`)."""
        value = node.value
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and "$" in value:
            try:
                value = _substitute(value, env)
            except expr.ExprError as exc:
                self.err(str(exc), node.loc, "bad-expression")
                return None
        if not isinstance(value, str) or not (value.isascii() and value.isidentifier() or _valid_name(value)):
            self.err(f"name must be letters, digits, '_', '.' or '-' (not starting with '.' or '-'), "
                     f"got {value!r}", node.loc, "invalid-value")
            return None
        if value == "input":
            self.err("`input` is reserved for the network input; choose another name", node.loc, "duplicate-name")
            return None
        return value

    def _auto_name(self, scope: _Scope, prefix: str) -> str:
        n = scope.counters.get(prefix, 0)
        while True:
            n += 1
            if f"{prefix}{n}" not in scope.names:
                scope.counters[prefix] = n
                return f"{prefix}{n}"

    def _register(self, scope: _Scope, local: str, spec: LayerSpec | None, entry: dict[str, Node], node: Node
                  ) -> str | None:
        """The global name for `local`, or None (reported at the entry's name) if it is taken."""
        if local in scope.names:
            glob = scope.prefix + local
            first = self.all_names.get(glob)
            where = f" (first at line {first.loc.line})" if first else ""
            self.err(f"duplicate layer name {local!r}{where}; names must be unique",
                     (entry.get("name") or node).loc, "duplicate-name")
            return None
        glob = scope.prefix + local
        scope.names[local] = glob
        if spec is not None:
            self.all_names[glob] = spec
        return glob

    def _layer(self, node: Node, keys: dict[str, Loc], scope: _Scope, env: dict[str, Any], prev: str | None,
               name: str | None, origin: str, once: bool = False) -> str | None:
        """One layer; `once`: the entry is expanded only this time (top level, no repeat), so the
        template, which pays for itself on the second copy, is skipped."""
        entry = node.value
        tpl = None if once else self.templates.get(id(node))
        if tpl is None and not once:
            tpl = self.templates[id(node)] = _template(node)
        if tpl is not None and tpl.cls is not None:
            cls = tpl.cls
            locs = tpl.locs
            ok = True
            if tpl.static is not None:
                params: dict[str, Any] = dict(tpl.static)
            else:
                params = {}
                for pname, vnode, value in tpl.items:
                    if value is _DYNAMIC:
                        try:
                            value = self._param(cls, pname, vnode, env)
                        except LayerError as exc:
                            self.err(f"{cls.name}: {exc.message}", vnode.loc, exc.rule)
                            ok = False
                            continue
                    params[pname] = value
                params.update(tpl.defaults)
        else:
            found = self._layer_params(node, keys, env)
            if found is None:
                return prev
            cls, params, locs, ok = found
        local = name or self._auto_name(scope, cls.prefix)
        spec = LayerSpec(scope.prefix + local, cls, params, [], node.loc, locs, None, origin, entry.get("expect"),
                         scope.blocks)
        return self._add(spec, local, ok, node, scope, env, prev)

    def _add(self, spec: LayerSpec, local: str, ok: bool, node: Node, scope: _Scope, env: dict[str, Any],
             prev: str | None) -> str | None:
        """Register `spec` under `local` and connect it: its `inputs:` (resolved when the scope ends) or
        `prev`. A spec with an error (`ok` false) keeps its name, so that later references to it
        report nothing more, but is not added to the network."""
        entry = node.value
        inode = entry.get("inputs")
        if inode is None:
            if prev is None:
                self.err(f"{spec.name}: {scope.reads_nothing()}", node.loc, "missing-input")
                ok = False
            else:
                spec.inputs = [prev]
        glob = self._register(scope, local, spec if ok else None, entry, node)
        if glob is None:
            return prev
        if inode is not None:
            spec.inputs_loc = inode.loc
            items = inode.value if isinstance(inode.value, list) else [inode]
            if not items:
                self.err(f"{spec.name}: `inputs` is empty; name the layers it reads (or leave `inputs` out to "
                         "read the layer before it)", inode.loc, "invalid-value")
                return glob
            if len(items) > MAX_FAN_IN:
                self.err(f"{len(items)} inputs are more than the {MAX_FAN_IN} one layer may read", inode.loc,
                         "too-large")
                return glob
            self.connections += len(items)
            if self.connections > MAX_CONNECTIONS:
                raise SpecError(self.out.diagnostics + [Diagnostic(
                    "error", f"the spec expands to more than {MAX_CONNECTIONS} layer inputs", inode.loc, "too-large")])
            try:
                evaluated = [Node(self._eval(x, env), x.loc) for x in items]
            except LayerError as exc:
                self.err(exc.message, inode.loc, exc.rule)
                return glob
            scope.pending.append((spec, evaluated))
        if ok:
            if len(self.layers) == MAX_LAYERS:
                raise SpecError(self.out.diagnostics + [Diagnostic(
                    "error", f"the spec has more than {MAX_LAYERS} layers", node.loc, "too-large")])
            self.position[glob] = len(self.layers)
            self.layers.append(spec)
        return glob

    def _share(self, node: Node, scope: _Scope, env: dict[str, Any], prev: str | None, name: str | None,
               origin: str, depth: int) -> str | None:
        """`share: <layer or block use>`: that layer (or every layer of that block use) called again on
        this entry's inputs, with the same weights."""
        entry = node.value
        keys = node.key_locs or {}
        for key in entry:
            if key not in SHARE_KEYS:
                self.err(f"{key!r} cannot be given with `share`: a shared layer is the layer it names called again, "
                         "with its type and parameters; remove it (or drop `share` for a layer of its own)",
                         keys.get(key, entry[key].loc), "unknown-key")
                return prev
        snode = entry["share"]
        try:
            ref = self._eval(snode, env)
        except LayerError as exc:
            self.err(exc.message, snode.loc, exc.rule)
            return prev
        use = scope.uses.get(ref) if isinstance(ref, str) else None
        if use is not None:
            return self._expand(node, scope, env, use.block, use.env, prev, name, origin, depth, use)
        target = scope.names.get(ref) if isinstance(ref, str) else None
        owner = self.all_names.get(target) if target is not None else None
        if owner is None:
            layers = [n for n in scope.names if n not in scope.inputs]
            if isinstance(ref, str) and ref in scope.inputs:
                why = "is an input, not a layer"
            elif target is not None:
                why = "has an error (see above)"
            else:
                why = "is not a layer or block use defined before this point"
            self.err(f"share: {ref!r} {why}{self.suggest(ref, layers) if isinstance(ref, str) else ''}", snode.loc,
                     "unknown-reference")
            return prev
        local = name or self._auto_name(scope, owner.type.prefix)
        spec = LayerSpec(scope.prefix + local, owner.type, dict(owner.params), [], node.loc, {"share": snode.loc},
                         None, origin, entry.get("expect"), scope.blocks, owner.shares or owner.name)
        return self._add(spec, local, True, node, scope, env, prev)

    def _param(self, cls: type[Layer], pname: str, vnode: Node, env: dict[str, Any]) -> Any:
        """One parameter value, evaluated and checked; raises LayerError."""
        return checked_param(cls, pname, self._eval(vnode, env))

    def _layer_params(self, node: Node, keys: dict[str, Loc], env: dict[str, Any]
                      ) -> tuple[type[Layer], dict[str, Any], dict[str, Loc], bool] | None:
        """(type, checked params, their locations, no error): the general path, which reports every
        problem of the entry (the template path of `_layer` takes entries that have none)."""
        entry = node.value
        tnode = entry.get("type")
        if tnode is None:
            self.err("layer has no `type` (e.g. `type: conv2d`) and no `block`", node.loc, "missing-key")
            return None
        if not isinstance(tnode.value, str):
            self.err(f"type must be a layer type name, got {tnode.value!r}", tnode.loc, "unknown-layer")
            return None
        cls = lookup(tnode.value)
        if cls is None:
            spellings = [n for cls in all_types().values() for n in (cls.name, *cls.aliases)]
            hint = self.suggest(tnode.value.lower(), spellings) or "; run `cnncalc types` for the list"
            self.err(f"unknown layer type {tnode.value!r}{hint}", tnode.loc, "unknown-layer")
            return None
        canon = _canon(cls)  # aliases → canonical parameter names
        params: dict[str, Any] = {}
        locs: dict[str, Loc] = {}
        ok = True
        given: set[str] = set()
        typo_of: set[str] = set()
        for key, vnode in entry.items():
            if key in _ENTRY_KEYS:
                continue
            if key not in canon:
                options = list(canon) + list(LAYER_KEYS)
                close = close_match(key, options) if len(options) <= self.suggestion_budget else None
                self.suggestion_budget -= len(options)
                if close in canon:
                    typo_of.add(canon[close])  # one error for a typo, not also "needs <param>"
                known = ", ".join(cls.params) or "none"
                hint = f"; did you mean {close!r}?" if close else ""
                if not close and _RESTATES_INPUT.match(key):
                    hint = (f": the input size comes from the layer this one reads, so leave `{key}` out")
                self.err(f"unknown parameter {key!r} for {cls.name}{hint} (its parameters: {known})",
                         keys.get(key, vnode.loc), "unknown-param")
                ok = False
                continue
            pname = canon[key]
            if pname in given:
                self.err(f"{key!r} and {pname!r} are the same parameter; give it once", keys.get(key, vnode.loc),
                         "duplicate-key")
                ok = False
                continue
            given.add(pname)
            try:
                params[pname] = self._param(cls, pname, vnode, env)
            except LayerError as exc:
                self.err(f"{cls.name}: {exc.message}", vnode.loc, exc.rule)
                ok = False
            locs[pname] = vnode.loc
        defaults = _defaults(cls)
        for pname in cls.params:
            if pname not in given:
                if pname in defaults:
                    params[pname] = defaults[pname]
                else:
                    ok = False
                    if pname not in typo_of:
                        self.err(f"{cls.name} needs `{pname}`", tnode.loc, "missing-param")
        return cls, params, locs, ok

    def _block_use(self, node: Node, scope: _Scope, env: dict[str, Any], prev: str | None, name: str | None,
                   origin: str, depth: int) -> str | None:
        entry = node.value
        keys = node.key_locs or {}
        bnode = entry["block"]
        bname = bnode.value
        if not isinstance(bname, str) or bname not in self.blocks:
            hint = self.suggest(bname, list(self.blocks)) if isinstance(bname, str) else ""
            defined = ", ".join(self.blocks) or "none"
            self.err(f"unknown block {bname!r}{hint} (blocks defined: {defined})", bnode.loc, "unknown-block")
            return prev
        if depth >= MAX_BLOCK_DEPTH:
            self.err(f"blocks nested more than {MAX_BLOCK_DEPTH} deep (does block {bname!r} use itself?)",
                     bnode.loc, "block-recursion")
            return prev
        bdef = self.blocks[bname].value
        declared: dict[str, Node] = bdef["params"].value if "params" in bdef else {}
        args: dict[str, Any] = {}
        for key, vnode in entry.items():
            if key in BLOCK_USE_KEYS:
                continue
            if key not in declared:
                known = ", ".join(declared) or "none"
                self.err(f"block {bname!r} has no param {key!r}{self.suggest(key, list(declared))} (its params: {known})",
                         keys.get(key, vnode.loc), "unknown-param")
                continue
            try:
                args[key] = self._eval(vnode, env)
            except LayerError as exc:
                self.err(exc.message, vnode.loc, exc.rule)
        benv = dict(self.globals)
        for key, dnode in declared.items():
            if key in args:
                benv[key] = args[key]
            elif dnode.value is None:
                self.err(f"block {bname!r} needs param {key!r}", bnode.loc, "missing-param")
                return prev
            else:
                try:
                    benv[key] = self._eval(dnode, benv)
                except LayerError as exc:
                    self.err(exc.message, dnode.loc, exc.rule)
                    return prev
        return self._expand(node, scope, env, bname, benv, prev, name, origin, depth)

    def _expand(self, node: Node, scope: _Scope, env: dict[str, Any], bname: str, benv: dict[str, Any],
                prev: str | None, name: str | None, origin: str, depth: int, shared: _Use | None = None) -> str | None:
        """One use of block `bname` with its parameters `benv`: its layers, named `<use>.<layer>`, read the
        use's `inputs` (or `prev`). `shared`: the use this one is `share:` of; every layer then uses the
        weights of the same layer there."""
        entry = node.value
        local = name or self._auto_name(scope, bname)
        glob = self._register(scope, local, None, entry, node)
        if glob is None:
            return prev
        declared = self.block_inputs.get(bname)
        wanted = declared or [INPUT]
        if "inputs" in entry:
            inode = entry["inputs"]
            items = inode.value if isinstance(inode.value, list) else [inode]
            if len(items) != len(wanted):
                names = f" ({', '.join(declared)})" if declared else ""
                self.err(f"block {bname!r} takes {len(wanted)} input{'s' if len(wanted) > 1 else ''}{names}, "
                         f"got {len(items)}", inode.loc, "wrong-input-count")
                return prev
            resolved: list[str] = []
            for item in items:
                try:
                    ref = self._eval(item, env)
                except LayerError as exc:
                    self.err(exc.message, item.loc, exc.rule)
                    return prev
                target = scope.names.get(ref) if isinstance(ref, str) else None
                if target is None:
                    self.err(f"block input {ref!r} is not a layer defined before this point"
                             f"{self.suggest(ref, list(scope.names)) if isinstance(ref, str) else ''}", item.loc,
                             "unknown-reference")
                    return prev
                resolved.append(target)
        elif len(wanted) > 1:
            self.err(f"block {bname!r} takes {len(wanted)} inputs ({', '.join(wanted)}); give them in order: "
                     f"`inputs: [{', '.join(['...'] * len(wanted))}]`", node.loc, "missing-input")
            return prev
        elif prev is None:
            self.err(f"{glob}: {scope.reads_nothing()}", node.loc, "missing-input")
            return prev
        else:
            resolved = [prev]
        inner = _Scope(glob + ".", dict(zip(wanted, resolved, strict=True)))
        inner.blocks = (*scope.blocks, (glob, bname))
        where = f"block {bname!r} used at line {node.loc.line}"
        start = len(self.layers)
        last = self._sequence(self.blocks[bname].value["layers"], inner, benv, inner.first,
                              f"{where}; {origin}" if origin else where, depth + 1)
        self._resolve(inner)
        if last is None:
            return prev
        # the block's own name refers to its output
        scope.names[local] = last
        scope.uses[local] = _Use(glob, bname, benv)
        if shared is not None:
            self._link(glob, shared.glob, start, node)
        if "expect" in entry:
            self.block_expects.append((glob, last, entry["expect"], slice(start, len(self.layers))))
        return last

    def _link(self, glob: str, owner: str, start: int, node: Node) -> None:
        """Every layer of block use `glob` (the layers from `start`) uses the weights of the same layer
        of block use `owner`, which is the same block with the same parameters."""
        self.shared_uses[glob] = owner
        for spec in self.layers[start:]:
            mine = self.all_names.get(owner + spec.name[len(glob):])
            if mine is None or mine.type is not spec.type or mine.params != spec.params:
                self.err(f"share: {spec.name} has no twin in {owner} (its layers depend on something besides the "
                         "block's parameters); share single layers instead", node.value["share"].loc,
                         "share-mismatch")
                return
            spec.shares = mine.shares or mine.name
            spec.param_locs = {**spec.param_locs, "share": node.value["share"].loc}

    def _taint(self, spec: LayerSpec) -> None:
        """`spec` (parsed before the error) lost an input: it and what follows are not intact."""
        if spec.name in self.position and self.clean is not None:
            self.clean = min(self.clean, self.position[spec.name])

    def _resolve(self, scope: _Scope) -> None:
        for spec, items in scope.pending:
            resolved = []
            for item in items:
                ref = item.value
                if not isinstance(ref, str):
                    self.err(f"inputs must be layer names, got {ref!r}", item.loc, "invalid-value")
                    self._taint(spec)
                    continue
                target = scope.names.get(ref)
                if target is None:
                    hint = self.suggest(ref, list(scope.names))
                    if ref == INPUT and scope.inputs != (INPUT,):  # the scope names its inputs
                        hint += f" (the {'block' if scope.prefix else 'network'} inputs are {', '.join(scope.inputs)})"
                    self.err(f"{spec.name}: unknown layer {ref!r} in inputs{hint}",
                             item.loc, "unknown-reference")
                    self._taint(spec)
                    continue
                resolved.append(target)
            spec.inputs = resolved


_ENTRY_KEYS = frozenset((*LAYER_KEYS, "block", "share"))
# parameter names that restate the size of a layer's input (PyTorch asks for them; cnncalc derives them)
_RESTATES_INPUT = re.compile(r"(?:in|input|num_input)_(?:channels|features|size|dim|shape|planes)$|input_dim$|"
                             r"num_features$|input_shape$", re.IGNORECASE)
_DYNAMIC = object()  # a template item whose value depends on `$` params


class _Template:
    """What a layer entry gives every time it is expanded, worked out once (a block repeated 1,000
    times expands the same YAML entries 1,000 times): its type, its constant parameters already
    checked, its defaults, and which values hold `$` expressions and need evaluating per copy.

    `cls` is None for an entry with a problem that does not depend on `$` params (unknown type or
    key, missing or invalid constant value): `_layer_params` then reports it, per copy as before."""

    __slots__ = ("node", "cls", "items", "defaults", "locs", "static")

    def __init__(self, node: Node, cls: type[Layer] | None = None, items: list[tuple[str, Node, Any]] | None = None,
                 defaults: dict[str, Any] | None = None, locs: dict[str, Loc] | None = None):
        self.node = node  # keeps the node alive, so that its id() (the cache key) is never reused
        self.cls = cls
        self.items = items or []
        self.defaults = defaults or {}
        self.locs = locs or {}
        # every parameter, when none depends on `$` params: the whole dict, copied per layer
        self.static: dict[str, Any] | None = None
        if cls is not None and all(value is not _DYNAMIC for _, _, value in self.items):
            self.static = {pname: value for pname, _, value in self.items}
            self.static.update(self.defaults)


def _constant(node: Node) -> bool:
    v = node.value
    if isinstance(v, str):
        return not v.startswith("$")
    if isinstance(v, list):
        return all(_constant(x) for x in v)
    if isinstance(v, dict):
        return all(_constant(x) for x in v.values())
    return True


def _template(node: Node) -> _Template:
    entry = node.value
    tnode = entry.get("type")
    cls = lookup(tnode.value) if tnode is not None and isinstance(tnode.value, str) else None
    if cls is None:
        return _Template(node)
    canon = _canon(cls)
    params = cls.params
    items = []
    locs = {}
    for key, vnode in entry.items():
        if key in _ENTRY_KEYS:
            continue
        pname = canon.get(key)
        if pname is None or pname in locs:
            return _Template(node)
        value = vnode.value
        if type(value) is str and value.startswith("$") or not _constant(vnode):
            value = _DYNAMIC
        else:
            try:
                value = checked_param(cls, pname, vnode.plain())
            except LayerError:
                return _Template(node)
        items.append((pname, vnode, value))
        locs[pname] = vnode.loc
    all_defaults = _defaults(cls)
    if not all(p in locs for p in params if p not in all_defaults):
        return _Template(node)  # a required parameter is missing
    return _Template(node, cls, items, {k: v for k, v in all_defaults.items() if k not in locs}, locs)


# Per layer type, computed once: at 10,000 layers these were a tenth of the parse.
_CANON: dict[type[Layer], dict[str, str]] = {}
_DEFAULTS: dict[type[Layer], dict[str, Any]] = {}


def _canon(cls: type[Layer]) -> dict[str, str]:
    canon = _CANON.get(cls)
    if canon is None:
        canon = {}
        for pname, p in cls.params.items():
            canon[pname] = pname
            for a in p.aliases:
                canon[a] = pname
        _CANON[cls] = canon
    return canon


def _defaults(cls: type[Layer]) -> dict[str, Any]:
    """The checked default values of a type's optional parameters (immutable: ints, strings, tuples)."""
    defaults = _DEFAULTS.get(cls)
    if defaults is None:
        defaults = _DEFAULTS[cls] = {
            name: check_value(name, p, p.default, cls.ndim) if p.default is not None else None
            for name, p in cls.params.items() if p.default is not REQUIRED}
    return defaults



_CHECKED: dict[tuple[Any, ...], Any] = {}
_CACHED_TYPES = (int, str, bool)  # hashable, and equal only when alike (floats: -0.0 == 0.0)


def checked_param(cls: type[Layer], pname: str, value: Any) -> Any:
    """check_value plus the MAX_DIM limit; raises LayerError. Scalar values are checked once per
    type and parameter (the same `filters: 64` or `kernel: 3` recurs throughout a network)."""
    key = None
    if type(value) in _CACHED_TYPES:
        key = (cls, pname, type(value), value)
        found = _CHECKED.get(key, _DYNAMIC)
        if found is not _DYNAMIC:
            return found
    checked = check_value(pname, cls.params[pname], value, cls.ndim)
    if _too_large(checked):
        raise LayerError(f"{pname} {value!r} is too large (limit {MAX_DIM})", "too-large")
    if key is not None:
        if len(_CHECKED) >= 10_000:
            _CHECKED.clear()
        _CHECKED[key] = checked
    return checked


def _too_large(v: Any) -> bool:
    """Some int inside a checked value (int, or tuples of them) exceeds MAX_DIM."""
    if type(v) is int:
        return v > MAX_DIM
    if type(v) is tuple or type(v) is list:
        for x in v:
            if _too_large(x):
                return True
    return False


def _kind(v: Any) -> str:
    return {dict: "mapping", list: "list", str: "string", int: "number", float: "number", bool: "boolean",
            type(None): "null value"}.get(type(v), type(v).__name__)
