"""Safe YAML loading that keeps the position of every node.

PyYAML's composer gives nodes with marks; we convert them ourselves (instead of
`yaml.safe_load`) so that every value keeps its line and column, duplicate keys are
caught, and alias expansion is bounded ("billion laughs").

Events come from libyaml when it is available (4x faster) but nodes are composed in Python:
libyaml's own composer recurses in C and crashes the interpreter (SIGSEGV) on ~100,000 nested
brackets, while ours stops at MAX_DEPTH levels and MAX_NODES nodes before converting anything.
"""

from __future__ import annotations

from .errors import Diagnostic, Loc, SpecError

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs more than reading a spec
if TYPE_CHECKING:
    from typing import Any

MAX_BYTES = 1024 * 1024  # real specs are a few KB; parsing 1 MB of YAML takes ~3 s at worst
MAX_NODES = 100_000  # composed, and again after alias expansion
MAX_DEPTH = 64
MAX_INT = 2**63  # larger numbers mean nothing in a spec (counts are checked against expect: up to this)

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
        raise _fail(f"file is larger than {MAX_BYTES} bytes, the limit for a spec", Loc(file), "too-large")
    try:
        # = data.decode("utf-8-sig") (error offsets too), without loading that codec at start-up
        text = (data[3:] if data.startswith(b"\xef\xbb\xbf") else data).decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        raise _fail("file is not valid UTF-8 text; save it as UTF-8", Loc(file, line, col), "invalid-encoding") from None
    return text


def _inside(text: str, file: str, line: int, column: int) -> Loc:
    """A 0-based mark as a Loc inside the text: "end of stream" marks lie one line past the end."""
    lines = text.split("\n")
    if line >= len(lines):
        line, column = len(lines) - 1, len(lines[-1])
    if line == len(lines) - 1 and not lines[line] and line > 0:  # the empty piece after a final newline
        line -= 1
        column = len(lines[line])
    return Loc(file, line + 1, min(column, len(lines[line])) + 1)


def load_yaml(text: str, file: str) -> Node:
    """Parse one YAML document into a positioned Node tree."""
    from . import yamlfast

    fast = yamlfast.parse(text, file)  # the common subset, without importing PyYAML
    if fast is not None:
        return fast
    import yaml

    if not text.strip():
        raise _fail("file is empty; a spec needs at least `input` and `layers`", Loc(file), "empty-file")
    try:
        root = _compose(text, file)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = _inside(text, file, mark.line, mark.column) if mark else Loc(file)
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise _fail(f"invalid YAML: {problem}", loc) from None
    except yaml.YAMLError as exc:
        raise _fail(f"invalid YAML: {str(exc).splitlines()[0]}", Loc(file)) from None
    except RecursionError:
        raise _fail(f"YAML nested too deeply (more than {MAX_DEPTH} levels)", Loc(file), "too-large") from None
    if root is None:
        raise _fail("file holds no YAML document; a spec needs at least `input` and `layers`", Loc(file), "empty-file")
    return _Converter(file).convert(root)


_LOADERS: Any = None

# PyYAML rejects or reads differently some texts that libyaml accepts: a tab used as whitespace,
# a byte-order mark inside the text, `?` or `!` inside a scalar, explicit tags. Those texts, and
# every text with a YAML error (so that errors are worded and placed as PyYAML does), take the
# pure-Python parser; the libyaml one is about 8x faster for everything else.
_SLOW_CHARS = ("\t", "\ufeff")


def _loader_classes() -> tuple[Any, Any]:
    """(fast, pure) loaders: an event parser (libyaml's, or PyYAML's) + PyYAML's Python composer.

    The composer is always PyYAML's Python one, with depth and node limits: libyaml's own
    composer recurses in C and crashes the interpreter on ~100,000 nested `[`.
    """
    global _LOADERS
    if _LOADERS is None:
        import re

        import yaml
        from yaml.composer import Composer
        from yaml.parser import Parser
        from yaml.reader import Reader
        from yaml.resolver import Resolver
        from yaml.scanner import Scanner

        class PureEvents(Reader, Scanner, Parser):
            def __init__(self, stream: str):
                Reader.__init__(self, stream)
                Scanner.__init__(self)
                Parser.__init__(self)

        class Limited(Composer, Resolver):
            def init(self, file: str) -> None:
                Composer.__init__(self)
                Resolver.__init__(self)
                self.file, self.depth, self.count = file, 0, 0

            def compose_node(self, parent: Any, index: Any) -> Any:
                self.depth += 1
                self.count += 1
                if self.depth > MAX_DEPTH or self.count > MAX_NODES:
                    mark = getattr(self.peek_event(), "start_mark", None)  # type: ignore[attr-defined]
                    loc = Loc(self.file, mark.line + 1, mark.column + 1) if mark else Loc(self.file)
                    if self.depth > MAX_DEPTH:
                        raise _fail(f"YAML nested too deeply (more than {MAX_DEPTH} levels)", loc, "too-large")
                    raise _fail(f"YAML has more than {MAX_NODES} values; refusing to load it", loc, "too-large")
                try:
                    return Composer.compose_node(self, parent, index)
                finally:
                    self.depth -= 1

        class PureLoader(Limited, PureEvents):
            def __init__(self, stream: str, file: str):
                PureEvents.__init__(self, stream)
                self.init(file)

        fast: Any = None
        cparser: Any = None
        try:
            from yaml._yaml import CParser as cparser
        except ImportError:  # PyYAML without libyaml
            pass
        if cparser is not None:
            class FastLoader(Limited, cparser):  # type: ignore[misc, valid-type]
                def __init__(self, stream: str, file: str):
                    cparser.__init__(self, stream)
                    self.init(file)
                    self.text = stream
                    self.lines: list[str] | None = None
                    self.suspect = False  # the text may read differently in PyYAML: use the pure parser

                def compose_node(self, parent: Any, index: Any) -> Any:
                    if getattr(self.peek_event(), "tag", None) is not None:  # explicit tag (aliases have none)
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
                    # An empty value after `key:` in a flow mapping: libyaml marks the next token (`,` or
                    # `}`, maybe on a later line), PyYAML the end of the `:`; keep PyYAML's place.
                    if self.lines is None:
                        self.lines = re.split("\r\n|[\r\n\x85\u2028\u2029]", self.text)  # YAML's line breaks
                    line, col = node.start_mark.line, node.start_mark.column
                    if line >= len(self.lines):
                        return
                    before = self.lines[line][:col].rstrip(" ")
                    while not before and line > 0:
                        line -= 1
                        before = self.lines[line].rstrip(" ")
                    if before.endswith(":") and (line, len(before)) != (node.start_mark.line, col):
                        node.start_mark = node.end_mark = yaml.Mark(node.start_mark.name, node.start_mark.index,
                                                                    line, len(before), None, None)  # type: ignore[arg-type]

            fast = FastLoader
        _LOADERS = (fast, PureLoader)
    return _LOADERS


def _compose_fast(text: str, file: str) -> Any:
    """The root node via libyaml's parser, or None where the pure-Python parser must decide."""
    import yaml

    fast = _loader_classes()[0]
    if fast is None or any(c in text for c in _SLOW_CHARS):
        return None
    loader = fast(text, file)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError:
        return None  # the pure parser words and places the error
    finally:
        loader.dispose()
    return root if not loader.suspect and isinstance(root, yaml.MappingNode) else None


def _compose(text: str, file: str) -> Any:
    root = _compose_fast(text, file)
    if root is not None:
        return root
    loader = _loader_classes()[1](text, file)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


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
            raise _fail(f"cannot read value {_short(node.value)}", loc, "invalid-yaml") from None
        if isinstance(value, int) and not -MAX_INT <= value <= MAX_INT:
            # also keeps 0xfff… (no digit limit in hex) from failing later when printed in a message
            raise _fail(f"number {_short(node.value)} is too large (limit 2**63)", loc, "too-large")
        return Node(value, loc)


def _short(text: str, limit: int = 40) -> str:
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} characters)"
