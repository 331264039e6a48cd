"""Safe YAML loading that keeps the position of every value.

Specs are read with PyYAML: libyaml's event parser when PyYAML was built with it, else PyYAML's
own pure-Python parser. The events are composed into nodes by PyYAML's Python composer, bounded
to MAX_DEPTH levels and MAX_NODES nodes (libyaml's own composer recurses in C and crashes the
interpreter on ~100,000 nested brackets), then converted here rather than by `yaml.safe_load`:
every value keeps its line and column, duplicate keys are caught, tags are refused (nothing is
constructed) and alias expansion is bounded ("billion laughs").

YAML errors are reworded for people new to YAML (tabs, indentation, a missing `:` or `]`), with
the parser's own words in parentheses, and located inside the file.
"""

from __future__ import annotations

import bisect
import functools
import os
import re
import stat
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import Diagnostic, Loc, SpecError

if TYPE_CHECKING:
    import yaml

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
_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"  # the key `<<`
_VALUE_TAG = "tag:yaml.org,2002:value"  # the key `=`, read as the string it is
_SEQ_TAG = "tag:yaml.org,2002:seq"

_SURROGATE = re.compile("[\ud800-\udfff]")
_TAB = "YAML indents with spaces, not tabs; replace the tab"
_INDENT = ("this line is not indented like the lines above it: entries of one mapping or list need the same "
           "number of leading spaces, and what belongs under a `key:` needs more than the key")
_MIXED = ("`- item` entries and `key: value` entries cannot share one indentation; put a list under its "
          "`key:`, indented more than the key")
_KEY_HERE = ("a `key: value` cannot start here: give each `key: value` its own line, indented like its neighbours, "
             "and quote a value that contains ': '")
_ESCAPE = ("a \\u or \\U escape here is not a character (\\ud800-\\udfff are halves of UTF-16 pairs, and nothing "
           "lies above \\U0010FFFF); write the character itself")


@dataclass(slots=True, eq=False, repr=False)
class Node:
    """A YAML value with its position. Mappings hold `dict[str, Node]` (with `key_locs`, the
    position of each key), sequences `list[Node]`, scalars their Python value."""

    value: Any
    loc: Loc
    key_locs: dict[str, Loc] | None = None

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Node({self.value!r} @ {self.loc})"

    def plain(self) -> Any:
        """The value with positions stripped."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value


_NOT_FILES = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"), (stat.S_ISBLK, "a block device"))


def read_bytes(file: str) -> bytes:
    """A spec file's bytes, never more than MAX_BYTES + 1 (/dev/zero or a 50 GB file is not read
    whole), and never waiting: the file is opened without blocking (a named pipe nobody writes to
    blocks `open`), pipes, sockets and directories are refused, and a terminal (`/dev/stdin`) that
    has nothing to read is an error rather than a wait. Raises SpecError (rule `unreadable`)."""
    def unreadable(why: str) -> SpecError:
        return SpecError(Diagnostic("error", why, Loc(file), "unreadable"))

    try:
        fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except IsADirectoryError:
        raise unreadable("is a directory, not a spec file") from None
    except OSError as exc:
        raise unreadable(f"cannot read file: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as f:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise unreadable("is a directory, not a spec file")
        for test, what in _NOT_FILES:
            if test(mode):
                raise unreadable(f"is {what}, not a spec file; save the spec to a file")
        try:
            data = f.read(MAX_BYTES + 1)
        except BlockingIOError:
            raise unreadable("nothing to read without waiting (a terminal?); save the spec to a file") from None
        except OSError as exc:
            raise unreadable(f"cannot read file: {exc.strerror or exc}") from None
    return data or b""


def _fail(message: str, loc: Loc, rule: str = "invalid-yaml") -> SpecError:
    return SpecError(Diagnostic("error", message, loc, rule))


def decode(data: bytes, file: str) -> str:
    """A spec file's bytes as text (UTF-8, with or without a byte-order mark)."""
    if len(data) > MAX_BYTES:
        raise _fail(f"file is larger than {MAX_BYTES} bytes, the limit for a spec", Loc(file), "too-large")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = exc.object[: exc.start]  # what was decoded: after the byte-order mark, if any
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        raise _fail("file is not valid UTF-8 text; save it as UTF-8", Loc(file, line, col), "invalid-encoding") from None


class _Lines:
    """Positions as an editor shows them. Lines end at `\n` only (a `\r\n` ends one line); YAML also
    breaks lines at a lone `\r`, NEL (U+0085), U+2028 and U+2029, which editors show inside a
    line, so when the text has one of those a YAML mark is placed by its character index instead."""

    def __init__(self, text: str, file: str):
        self.text, self.file = text, file
        self.yaml_lines = not ("\x85" in text or "\u2028" in text or "\u2029" in text
                               or text.count("\r") != text.count("\r\n"))
        self._newlines: list[int] | None = None

    def mark(self, mark: Any) -> Loc:
        """The Loc of a node's mark (always inside the text)."""
        if self.yaml_lines:
            return Loc(self.file, mark.line + 1, mark.column + 1)
        return self.at(mark.index)

    def at(self, index: int) -> Loc:
        """The Loc of the character at `index`."""
        if self._newlines is None:
            self._newlines = [m.start() for m in re.finditer("\n", self.text)]
        line = bisect.bisect_left(self._newlines, index)  # newlines before the character
        start = self._newlines[line - 1] + 1 if line else 0
        return Loc(self.file, line + 1, index - start + 1)

    def inside(self, mark: Any) -> Loc:
        """An error's mark as a Loc inside the text: "end of stream" marks point past the end; they
        are placed at the end of the last line."""
        index = min(mark.index, len(self.text))
        if index == len(self.text) and index > 0 and self.text.endswith("\n"):
            index -= 1
        return self.at(index)

    def line_col(self, mark: Any) -> str:
        loc = self.inside(mark)
        return f"line {loc.line}, column {loc.col}"


def load_yaml(text: str, file: str) -> Node:
    """Parse one YAML document into a positioned Node tree."""
    if not isinstance(text, str):
        raise TypeError(f"a spec is read from YAML text (a str), not from a {type(text).__name__}; "
                        "pass the text, or give a file's path to cnncalc.load()")
    import yaml

    if not text.strip():
        raise _fail("file is empty; a spec needs at least `input` and `layers`", Loc(file), "empty-file")
    bad = yaml.reader.Reader.NON_PRINTABLE.search(text)
    if bad:
        char = bad.group()
        if _SURROGATE.match(char):  # only text given to loads(): decoding a file never makes one
            message = (f"the text holds a lone surrogate {char!r} (half of a UTF-16 pair), which no output can "
                       "encode; write the whole character")
        else:
            message = f"control character U+{ord(char):04X} is not allowed in YAML; remove it"
        raise _fail(message, _Lines(text, file).at(bad.start()))
    lines = _Lines(text, file)
    loader = _loader()(text, lines)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, lines) from None
    except yaml.YAMLError as exc:
        raise _fail(f"invalid YAML: {str(exc).splitlines()[0]}", Loc(file)) from None
    except ValueError:  # PyYAML's own parser on an escape above \U0010FFFF (libyaml refuses it itself)
        raise _fail(_ESCAPE, lines.inside(loader.get_mark())) from None
    finally:
        loader.dispose()
    if root is None:
        raise _fail("file holds no YAML document; a spec needs at least `input` and `layers`", Loc(file), "empty-file")
    return _Converter(lines).convert(root)


def _yaml_error(exc: yaml.MarkedYAMLError, lines: _Lines) -> SpecError:
    """The parser's error as one sentence a YAML newcomer can act on, at the place to fix."""
    text, file = lines.text, lines.file
    problem = (exc.problem or exc.context or "invalid YAML").strip()
    context = exc.context or ""
    mark = exc.problem_mark or exc.context_mark
    loc = lines.inside(mark) if mark else Loc(file)
    opened = exc.context_mark
    line = text.split("\n")[loc.line - 1]
    char = line[loc.col - 1:loc.col]
    words = f" (YAML: {problem})"
    if "maximum nesting depth" in problem:  # libyaml's own limit (1,000 levels), met while looking ahead
        return _fail(f"YAML nested too deeply (more than {MAX_DEPTH} levels)", loc, "too-large")
    if "tab character" in problem or char == "\t":
        tab = line.find("\t", loc.col - 1)
        tab = tab if tab >= 0 else line.find("\t")  # the tab that broke the indentation, on its line
        return _fail(_TAB, Loc(file, loc.line, tab + 1) if tab >= 0 else loc)
    if "cannot start any token" in problem and char:
        return _fail(f"a value cannot start with {char!r} in YAML; put the value in quotes{words}", loc)
    if opened and ("flow sequence" in context or "flow mapping" in context) and "expected ','" in problem:
        opener, closer = ("[", "]") if "sequence" in context else ("{", "}")
        return _fail(f"the `{opener}` at {lines.line_col(opened)} is not closed: a `,` or `{closer}` is missing before "
                     f"this point{words}", loc)
    if opened and "quoted scalar" in context and "end of stream" in problem:
        return _fail(f"the quoted string at {lines.line_col(opened)} is never closed; end it with the same quote",
                     lines.inside(opened))
    if opened and "invalid Unicode character escape" in problem:  # libyaml refuses these itself
        return _fail(_ESCAPE, lines.inside(opened))
    if opened and "expected ':'" in problem:
        return _fail(f"this key needs a `:` after it, as in `key: value`{words}",
                     lines.inside(opened))
    if problem.startswith("mapping values are not allowed"):
        return _fail(_KEY_HERE + words, loc)
    if "<block end>" in problem or "expected key" in problem or "'-' indicator" in problem or (
            "document start" in problem):
        if char in ("]", "}"):
            return _fail(f"this `{char}` closes nothing; remove it{words}", loc)
        in_list = "collection" in context
        if opened and opened.column == loc.col - 1 and (char == "-") != in_list:
            return _fail(_MIXED + words, loc)
        return _fail(_INDENT + words, loc)
    if opened and not context.startswith("while"):  # e.g. "found duplicate anchor 'x'; first occurrence"
        return _fail(f"invalid YAML: {context} at {lines.line_col(opened)}, {problem}", loc)
    return _fail(f"invalid YAML: {problem}", loc)


@functools.cache
def _loader() -> Any:
    """A loader class: events from libyaml when PyYAML has it, else from PyYAML's pure-Python
    parser, composed by PyYAML's Python composer within MAX_DEPTH levels and MAX_NODES nodes."""
    import yaml
    from yaml.composer import Composer
    from yaml.resolver import Resolver

    class Limited(Composer):
        def limit(self, lines: _Lines) -> None:
            self.lines, self.depth, self.count = lines, 0, 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            self.depth += 1
            self.count += 1
            if self.depth > MAX_DEPTH or self.count > MAX_NODES:
                loc = self.lines.mark(self.peek_event().start_mark)  # type: ignore[attr-defined]
                if self.depth > MAX_DEPTH:
                    raise _fail(f"YAML nested too deeply (more than {MAX_DEPTH} levels)", loc, "too-large")
                raise _fail(f"YAML has more than {MAX_NODES} values; refusing to load it", loc, "too-large")
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    if yaml.__with_libyaml__:
        from yaml._yaml import CParser  # libyaml's event parser

        class Loader(Limited, Resolver, CParser):
            def __init__(self, text: str, lines: _Lines):
                CParser.__init__(self, text)
                Composer.__init__(self)
                Resolver.__init__(self)
                self.limit(lines)
    else:
        class Loader(Limited, yaml.SafeLoader):  # type: ignore[no-redef]
            def __init__(self, text: str, lines: _Lines):
                yaml.SafeLoader.__init__(self, text)
                self.limit(lines)
    return Loader


class _Converter:
    def __init__(self, lines: _Lines):
        import yaml

        self.lines = lines
        self.count = 0
        self.constructor = yaml.constructor.SafeConstructor()
        self.yaml = yaml

    def loc(self, node: Any) -> Loc:
        return self.lines.mark(node.start_mark)

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
            out: dict[str, Node] = {}
            key_locs: dict[str, Loc] = {}
            merges = []
            for knode, vnode in node.value:
                kloc = self.loc(knode)
                if isinstance(knode, yaml.ScalarNode) and knode.tag == _MERGE_TAG:
                    merges.append(vnode)
                    continue
                if not isinstance(knode, yaml.ScalarNode) or knode.tag not in _SCALAR_TAGS | {_VALUE_TAG}:
                    raise _fail("mapping keys must be plain names", kloc, "invalid-yaml")
                key = knode.value if knode.tag == _VALUE_TAG else self.scalar(knode, kloc)
                if not isinstance(key, str):
                    key = str(key).lower() if isinstance(key, bool) else str(key)
                if key in out:
                    raise _fail(f"duplicate key {key!r} (first at line {key_locs[key].line}); keep one", kloc,
                                "duplicate-key")
                key_locs[key] = kloc
                out[key] = self.convert(vnode, depth + 1)
            # `<<: *anchor` and `<<: [*a, *b]` merge keys, as YAML defines them: a key written in the
            # mapping itself wins, then the merged mappings in order (a's keys before b's)
            for vnode in merges:
                for source in vnode.value if isinstance(vnode, yaml.SequenceNode) else [vnode]:
                    if not isinstance(source, yaml.MappingNode):
                        raise _fail("`<<` merges a mapping or a list of mappings into this one, e.g. `<<: *anchor`",
                                    self.loc(source), "invalid-yaml")
                    merged = self.convert(source, depth + 1)
                    for key, value in merged.value.items():
                        if key not in out:
                            out[key] = value
                            key_locs[key] = (merged.key_locs or {})[key]
            return Node(out, loc, key_locs)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ_TAG:
                raise _fail(f"YAML tag {node.tag!r} is not allowed in a spec; remove it", loc, "invalid-yaml")
            return Node([self.convert(v, depth + 1) for v in node.value], loc)
        if node.tag not in _SCALAR_TAGS:
            raise _fail(f"YAML tag {node.tag!r} is not allowed in a spec; remove it", loc, "invalid-yaml")
        return Node(self.scalar(node, loc), loc)

    def scalar(self, node: Any, loc: Loc) -> Any:
        if node.tag == _STR_TAG:  # most scalars (names, keys): the text is the value, as SafeConstructor makes it
            if node.style == '"' and _SURROGATE.search(node.value):  # PyYAML's own parser reads `\ud800` as one
                raise _fail(_ESCAPE, loc)
            return node.value
        try:
            value = self.constructor.construct_object(node)
        except (self.yaml.YAMLError, ValueError, OverflowError):
            raise _fail(f"cannot read value {_short(node.value)}", loc, "invalid-yaml") from None
        if isinstance(value, int) and not -MAX_INT <= value <= MAX_INT:
            # also keeps 0xfff… (no digit limit in hex) from failing later when printed in a message
            raise _fail(f"number {_short(node.value)} is too large (limit 2**63)", loc, "too-large")
        return value


def _short(text: str, limit: int = 40) -> str:
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} characters)"
