"""Safe YAML loading that keeps the position of every node.

PyYAML's composer gives nodes with marks; we convert them ourselves (instead of
`yaml.safe_load`) so that every value keeps its line and column, duplicate keys are
caught, and alias expansion is bounded ("billion laughs").
"""

from __future__ import annotations

from typing import Any

from .errors import Diagnostic, Loc, SpecError

MAX_BYTES = 4 * 1024 * 1024
MAX_NODES = 200_000  # after alias expansion
MAX_DEPTH = 64

_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"


class Node:
    """A YAML value with its position. Mappings hold `dict[str, Node]`, sequences `list[Node]`."""

    __slots__ = ("value", "loc", "key_locs")

    def __init__(self, value: Any, loc: Loc, key_locs: dict[str, Loc] | None = None):
        self.value = value
        self.loc = loc
        self.key_locs = key_locs

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Node({self.value!r} @ {self.loc})"

    def plain(self) -> Any:
        """The value with positions stripped."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value


def _fail(message: str, loc: Loc, rule: str = "invalid-yaml") -> SpecError:
    return SpecError(Diagnostic("error", message, loc, rule))


def decode(data: bytes, file: str) -> str:
    if len(data) > MAX_BYTES:
        raise _fail(f"file is {len(data)} bytes; specs are limited to {MAX_BYTES} bytes", Loc(file), "too-large")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        raise _fail("file is not valid UTF-8 text; save it as UTF-8", Loc(file, line, col), "invalid-encoding") from None
    return text


def load_yaml(text: str, file: str) -> Node:
    """Parse one YAML document into a positioned Node tree."""
    import yaml

    if not text.strip():
        raise _fail("file is empty; a spec needs at least `input` and `layers`", Loc(file), "empty-file")
    try:
        root = _compose_fast(text) if yaml.__with_libyaml__ else None
        if root is None:  # no libyaml, an error, or a rare construct: the pure-Python loader handles it
            root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Loc(file, mark.line + 1, mark.column + 1) if mark else Loc(file)
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise _fail(f"invalid YAML: {problem}", loc) from None
    except yaml.YAMLError as exc:
        raise _fail(f"invalid YAML: {str(exc).splitlines()[0]}", Loc(file)) from None
    except RecursionError:
        raise _fail(f"YAML nested too deeply (more than {MAX_DEPTH} levels)", Loc(file), "too-large") from None
    if root is None:
        raise _fail("file holds no YAML document; a spec needs at least `input` and `layers`", Loc(file), "empty-file")
    return _Converter(file).convert(root)


_FAST_LOADER: Any = None
# PyYAML rejects some texts that libyaml accepts: a tab used as whitespace, a byte-order mark
# inside the text, `?` or `!` inside a flow scalar, some tags. Texts holding a tab or BOM anywhere,
# or `?`/`!` in any scalar, or any explicit tag, take the pure-Python path, as every text used to.
_SLOW_CHARS = ("\t", "\ufeff")


def _compose_fast(text: str) -> Any:
    """Compose with libyaml's scanner and parser (about 8x faster than PyYAML's Python ones).

    Only tokenising and parsing run in C; the nodes are built by PyYAML's Python composer, because
    libyaml's own composer recurses in C and crashes the interpreter on deeply nested input, where
    the Python one raises RecursionError. Nodes, tags and marks are the same as the pure-Python
    loader's (checked by a differential fuzz, see docs/performance.md). Returns None for texts
    the pure-Python loader must handle, including every text with a YAML error, so that errors are
    worded and positioned exactly as before.
    """
    global _FAST_LOADER
    import yaml

    if any(c in text for c in _SLOW_CHARS):
        return None
    if _FAST_LOADER is None:
        _FAST_LOADER = _fast_loader_class(yaml)
    loader = _FAST_LOADER(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError:
        return None
    finally:
        loader.dispose()
    if loader.suspect or not isinstance(root, yaml.MappingNode):  # not a spec: the error path words it
        return None
    return root


def _fast_loader_class(yaml: Any) -> Any:
    from yaml._yaml import CParser

    class FastLoader(yaml.composer.Composer, CParser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        def __init__(self, text: str):
            CParser.__init__(self, text)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self.text = text
            self.lines: list[str] | None = None
            self.suspect = False  # the text may read differently in PyYAML

        def compose_node(self, parent: Any, index: Any) -> Any:
            if getattr(self.peek_event(), "tag", None) is not None:  # an explicit tag (alias events have none)
                self.suspect = True
            return super().compose_node(parent, index)

        def compose_scalar_node(self, anchor: Any) -> Any:
            node = super().compose_scalar_node(anchor)
            if "?" in node.value or "!" in node.value:
                self.suspect = True
            elif node.value == "" and not node.style and anchor is None:
                self._fix_empty_mark(node)
            return node

        def _fix_empty_mark(self, node: Any) -> None:
            # An empty value after `key:` in a flow mapping: libyaml marks the next token (`,` or `}`,
            # maybe on a later line), PyYAML the end of the `:`, where error messages have always pointed.
            if self.lines is None:
                import re

                self.lines = re.split("\r\n|[\r\n\x85\u2028\u2029]", self.text)  # YAML's line breaks
            line, col = node.start_mark.line, node.start_mark.column
            if line >= len(self.lines):
                return
            before = self.lines[line][:col].rstrip(" ")
            while not before and line > 0:
                line -= 1
                before = self.lines[line].rstrip(" ")
            if before.endswith(":") and (line, len(before)) != (node.start_mark.line, col):
                node.start_mark = node.end_mark = yaml.Mark(node.start_mark.name, node.start_mark.index, line,
                                                            len(before), None, None)

    return FastLoader


class _Converter:
    def __init__(self, file: str):
        import yaml

        self.file = file
        self.count = 0
        self.constructor = yaml.constructor.SafeConstructor()
        self.yaml = yaml

    def loc(self, node: Any) -> Loc:
        m = node.start_mark
        return Loc(self.file, m.line + 1, m.column + 1)

    def convert(self, node: Any, depth: int = 0) -> Node:
        yaml = self.yaml
        self.count += 1
        if self.count > MAX_NODES:
            raise _fail(
                f"YAML expands to more than {MAX_NODES} values (aliases/anchors?); refusing to load it",
                self.loc(node), "too-large")
        if depth > MAX_DEPTH:
            raise _fail(f"YAML nested too deeply (more than {MAX_DEPTH} levels)", self.loc(node), "too-large")
        loc = self.loc(node)
        if isinstance(node, yaml.MappingNode):
            if node.tag != _MAP_TAG:
                raise _fail(f"YAML tag {node.tag!r} is not allowed in a spec; remove it", loc, "invalid-yaml")
            self.constructor.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
            out: dict[str, Node] = {}
            key_locs: dict[str, Loc] = {}
            for knode, vnode in node.value:
                kloc = self.loc(knode)
                if not isinstance(knode, yaml.ScalarNode) or knode.tag not in _SCALAR_TAGS:
                    raise _fail("mapping keys must be plain names", kloc, "invalid-yaml")
                key = self.constructor.construct_object(knode)
                if not isinstance(key, str):
                    key = str(key).lower() if isinstance(key, bool) else str(key)
                if key in out:
                    raise _fail(f"duplicate key {key!r} (first at line {key_locs[key].line}); keep one", kloc,
                                "duplicate-key")
                key_locs[key] = kloc
                out[key] = self.convert(vnode, depth + 1)
            return Node(out, loc, key_locs)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ_TAG:
                raise _fail(f"YAML tag {node.tag!r} is not allowed in a spec; remove it", loc, "invalid-yaml")
            return Node([self.convert(v, depth + 1) for v in node.value], loc)
        if node.tag not in _SCALAR_TAGS:
            raise _fail(f"YAML tag {node.tag!r} is not allowed in a spec; remove it", loc, "invalid-yaml")
        try:
            value = self.constructor.construct_object(node)
        except (yaml.YAMLError, ValueError, OverflowError):
            raise _fail(f"cannot read value {node.value!r}", loc, "invalid-yaml") from None
        return Node(value, loc)
