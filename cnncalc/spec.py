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

TOP_KEYS = ("name", "input", "layout", "params", "blocks", "layers", "expect", "description")
LAYER_KEYS = ("type", "name", "inputs", "repeat", "if", "expect")
BLOCK_USE_KEYS = ("block", "name", "inputs", "repeat", "if", "expect")
LAYOUTS = ("channels_last", "channels_first")
# `$x` and `${expr}` inside a layer name; a lone `$` stays
_NAME_PIECE = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")
_VALID_NAME = re.compile(r"\w[\w.\-]*")  # word characters, '.' and '-', not starting with '.' or '-'


def _substitute(value: str, env: dict[str, Any]) -> str:
    """`$x` and `${expr}` inside a layer name replaced by their values, left to right."""
    return _NAME_PIECE.sub(lambda piece: str(expr.evaluate(piece[0], env)), value)


def _valid_name(value: str) -> bool:
    return _VALID_NAME.fullmatch(value) is not None


class LayerSpec:
    __slots__ = ("name", "type", "params", "inputs", "loc", "param_locs", "inputs_loc", "origin", "expect", "blocks")

    def __init__(self, name: str, type: type[Layer], params: dict[str, Any], inputs: list[str], loc: Loc,
                 param_locs: dict[str, Loc] | None = None, inputs_loc: Loc | None = None, origin: str = "",
                 expect: Node | None = None, blocks: tuple[tuple[str, str], ...] = ()):
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

    def __repr__(self) -> str:
        return f"LayerSpec({self.name!r}, {self.type.name}, inputs={self.inputs})"

    def where(self, key: str | None = None) -> Loc:
        if key == "inputs" and self.inputs_loc:
            return self.inputs_loc
        return self.param_locs.get(key, self.loc) if key else self.loc


class Network:
    __slots__ = ("name", "file", "layout", "input", "input_loc", "layers", "params", "warnings", "expect", "output",
                 "block_expects")

    def __init__(self, name: str, file: str, layout: str, input: Tensor, input_loc: Loc, layers: list[LayerSpec],
                 params: dict[str, Any], warnings: list[Diagnostic], expect: Node | None = None, output: str = "",
                 block_expects: list[tuple[str, str, Node, slice]] | None = None):
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

    def __repr__(self) -> str:
        return f"Network({self.name!r}, {len(self.layers)} layers)"


def suggest(word: str, options: list[str] | tuple[str, ...] | Any) -> str:
    import difflib  # only on the error path

    close = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def display_name(path: str | os.PathLike[str]) -> str:
    """The file name every message gives: as the user wrote it, spelt as pathlib spells it (no '.'
    parts, no repeated or trailing '/'), so that `./a.yaml` and `a.yaml` are one file."""
    return str(Path(path))


def load(path: str | os.PathLike[str], overrides: dict[str, Any] | None = None) -> Network:
    """Read and parse a spec file. Raises SpecError listing every problem found."""
    file = display_name(path)
    return loads(decode(read_bytes(file), file), file, overrides)


def loads(text: str, file: str = "<string>", overrides: dict[str, Any] | None = None) -> Network:
    """Parse a spec from text; `file` is used in messages."""
    root = load_yaml(text, file)
    return _Parser(file, overrides or {}).parse(root)


class _Scope:
    """Name table of one block instance (or the top level)."""

    def __init__(self, prefix: str, input_name: str):
        self.prefix = prefix
        self.names: dict[str, str] = {"input": input_name}
        self.counters: dict[str, int] = {}
        self.pending: list[tuple[LayerSpec, list[Node]]] = []  # explicit `inputs`, resolved at scope end
        self.blocks: tuple[tuple[str, str], ...] = ()


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
        if "layers" not in top and "input" not in top:  # e.g. a CI workflow found by `lint DIR`
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
        layout = self._layout(top.get("layout"))
        self._params(top.get("params"))
        tensor, input_loc = self._input(top.get("input"), root.loc, layout)
        self._blocks(top.get("blocks"))
        scope = _Scope("", "input")
        layers_node = top["layers"]
        if not isinstance(layers_node.value, list) or not layers_node.value:
            self.err("`layers` must be a non-empty list of layers", layers_node.loc, "invalid-value")
            raise SpecError(self.out.diagnostics)
        last = self._sequence(layers_node, scope, self.globals, "input", "", 0)
        self._resolve(scope)
        if self.out.errors:
            # not bound to a local first: exception → traceback → this frame → exception would be a
            # cycle, keeping the whole parse alive until the collector runs (tests/test_no_cycles.py)
            raise SpecError(self.out.errors, partial=Network(
                name, self.file, layout, tensor, input_loc, self.layers[: self.clean], dict(self.globals), [], None, ""))
        net = Network(name, self.file, layout, tensor, input_loc, self.layers, dict(self.globals),
                      self.out.warnings, top.get("expect"), last, self.block_expects)
        return net

    def _layout(self, node: Node | None) -> str:
        if node is None:
            return "channels_last"
        value = node.value
        if isinstance(value, str) and value.lower() in LAYOUTS:
            return value.lower()
        if value in ("NHWC", "HWC"):
            return "channels_last"
        if value in ("NCHW", "CHW"):
            return "channels_first"
        self.err(f"layout must be channels_last or channels_first, got {value!r}"
                 f"{self.suggest(value, LAYOUTS)}", node.loc, "invalid-value")
        return "channels_last"

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

    def _input(self, node: Node | None, root_loc: Loc, layout: str) -> tuple[Tensor, Loc]:
        if node is None:
            self.err("missing `input`: give the input shape, e.g. `input: [32, 32, 3]`", root_loc, "missing-key")
            return Tensor(1, (1, 1)), root_loc
        value = node.value
        if isinstance(value, str):
            value = shape_text(value) or value
        elif isinstance(value, list):
            value = [v.value for v in value]
        ok = isinstance(value, list) and 1 <= len(value) <= 3 and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value)
        if not ok:
            self.err(f"input must be a list of 1 to 3 positive integers in {layout} order "
                     f"(e.g. [32, 32, 3]), got {node.plain()!r}", node.loc, "invalid-value")
            return Tensor(1, (1, 1)), node.loc
        if any(v < 1 or v > MAX_DIM for v in value):
            self.err(f"input sizes must be between 1 and {MAX_DIM}, got {value}", node.loc,
                     "nonpositive-size" if any(v < 1 for v in value) else "too-large")
            return Tensor(1, (1, 1)), node.loc
        return Tensor.from_dims(value, layout), node.loc

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
                if key not in ("params", "layers", "description"):
                    self.err(f"unknown key {key!r} in block {bname!r}{self.suggest(key, ('params', 'layers'))}",
                             kloc, "unknown-key")
            layers = bnode.value.get("layers")
            if layers is None or not isinstance(layers.value, list) or not layers.value:
                self.err(f"block {bname!r} needs a non-empty `layers` list", bnode.loc, "missing-key")
                continue
            p = bnode.value.get("params")
            if p is not None and not isinstance(p.value, dict):
                self.err(f"`params` of block {bname!r} must be a mapping (name: default, null = required)",
                         p.loc, "invalid-value")
                continue
            self.blocks[bname] = bnode

    # ---- sequences, layers and blocks ----------------------------------------------------------
    def _sequence(self, seq: Node, scope: _Scope, env: dict[str, Any], prev: str, origin: str, depth: int) -> str:
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

    def _entry(self, node: Node, scope: _Scope, env: dict[str, Any], prev: str, origin: str, depth: int) -> str:
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
                    if not self._eval(condition, local):
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
            if block:
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

    def _layer(self, node: Node, keys: dict[str, Loc], scope: _Scope, env: dict[str, Any], prev: str,
               name: str | None, origin: str, once: bool = False) -> str:
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
        inode = entry.get("inputs")
        spec = LayerSpec(scope.prefix + local, cls, params, [] if inode is not None else [prev], node.loc, locs,
                         None, origin, entry.get("expect"), scope.blocks)
        glob = self._register(scope, local, spec if ok else None, entry, node)
        if glob is None:
            return prev
        if inode is not None:
            spec.inputs_loc = inode.loc
            items = inode.value if isinstance(inode.value, list) else [inode]
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
                hint = self.suggest(key, options)
                import difflib

                close = difflib.get_close_matches(key, options, n=1, cutoff=0.6)
                if close and close[0] in canon:
                    typo_of.add(canon[close[0]])  # one error for a typo, not also "needs <param>"
                known = ", ".join(cls.params) or "none"
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

    def _block_use(self, node: Node, scope: _Scope, env: dict[str, Any], prev: str, name: str | None,
                   origin: str, depth: int) -> str:
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
        local = name or self._auto_name(scope, bname)
        glob = self._register(scope, local, None, entry, node)
        if glob is None:
            return prev
        block_input = prev
        if "inputs" in entry:
            inode = entry["inputs"]
            items = inode.value if isinstance(inode.value, list) else [inode]
            if len(items) != 1:
                self.err("a block takes exactly one input", inode.loc, "invalid-value")
                return prev
            ref = items[0].value
            resolved = scope.names.get(ref) if isinstance(ref, str) else None
            if resolved is None:
                self.err(f"block input {ref!r} is not a layer defined before this point"
                         f"{self.suggest(ref, list(scope.names))}", items[0].loc, "unknown-reference")
                return prev
            block_input = resolved
        inner = _Scope(glob + ".", block_input)
        inner.blocks = (*scope.blocks, (glob, bname))
        where = f"block {bname!r} used at line {node.loc.line}"
        start = len(self.layers)
        last = self._sequence(self.blocks[bname].value["layers"], inner, benv, block_input,
                              f"{where}; {origin}" if origin else where, depth + 1)
        self._resolve(inner)
        # the block's own name refers to its output
        scope.names[local] = last
        if "expect" in entry:
            self.block_expects.append((glob, last, entry["expect"], slice(start, len(self.layers))))
        return last

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
                    self.err(f"{spec.name}: unknown layer {ref!r} in inputs{self.suggest(ref, list(scope.names))}",
                             item.loc, "unknown-reference")
                    self._taint(spec)
                    continue
                resolved.append(target)
            spec.inputs = resolved


_ENTRY_KEYS = frozenset((*LAYER_KEYS, "block"))
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
