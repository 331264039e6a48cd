"""A fast reader for the subset of YAML that spec files are written in.

`parse` returns exactly the Node tree that yamlio's PyYAML path gives (values and their Python
types, the position of every node and key, key order), or None for anything outside the subset,
any error and any limit reached: None sends the text down the PyYAML path, which decides and
words the error. So the rule here is "when in doubt, give up": a missed fast path costs a few
milliseconds, a tree that differs from PyYAML's would change what a spec means.

The subset: block mappings with plain keys, block sequences (also `key:` + `- item` at the key's
indentation, and `- key: value` items continued on the next lines), flow collections (nested,
on one line or several), plain scalars on one line, single-quoted scalars and double-quoted
ones without escapes, on one line, and comments.

It is a hand-written scanner over lines with `str` methods rather than a tokenizer with `re`:
it must cost much less than importing PyYAML, and it must not import `re` or `typing` itself.
"""

from __future__ import annotations

from .errors import Loc
from .yamlio import MAX_DEPTH, MAX_INT, MAX_NODES, Node

_new = tuple.__new__  # Loc(file, line, col) made in C: tuple.__new__(Loc, (file, line, col))

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class _GiveUp(Exception):
    """The text is outside the subset (or wrong, or too big): let PyYAML read it."""


# PyYAML SafeLoader's implicit scalars (YAML 1.1) that do not start with a digit, sign or dot.
_WORDS: dict[str, Any] = {w: v for words, v in (("yes Yes YES true True TRUE on On ON", True),
                                                 ("no No NO false False FALSE off Off OFF", False),
                                                 ("~ null Null NULL", None)) for w in words.split()}
_NO = object()
_NUMERIC_START = frozenset("-+0123456789.")

# A plain scalar cannot start with these (YAML indicators). `-` can when a non-space follows;
# `?` and `:` can in block context too, but how they are read there is not worth the risk.
_START_BAD = frozenset("?:,[]{}#&*!|>'\"%@` ")
# Inside a flow plain scalar: `:` and `?` mean keys, `[` `{` nesting, `#` maybe a comment, quotes
# and `!` are legal but rare, and the PyYAML path treats `!` and `?` specially: give up on all.
_FLOW_BAD = frozenset(":#[]{}?'\"!,")
# Keys are names; anything that YAML could read as structure sends the text to PyYAML.
_KEY_BAD = frozenset(":#[]{},?'\"!&*|>%@`")
# A flow collection on one line without these is read by `_Reader.flat` (most of them are).
_FLAT_BAD = frozenset("#?'\"!&*|>%@`\\")
_BRACKETS = frozenset("[]{}")
_PRINTABLE_ASCII = bytes(range(32, 127)) + b"\n"
_MAX_KEY = 1000  # PyYAML drops a simple key longer than 1024 characters (an error in block context)
_MAX_LEVELS = MAX_DEPTH - 2  # a margin under yamlio's limit, counted as its composer counts


def _number(t: str) -> Any:
    """A plain scalar starting with a digit, sign or dot, as SafeLoader resolves it.

    Decimal ints and plain floats are read; octal, hex, binary, `_`, sexagesimal `1:30`,
    `.inf`/`.nan` and timestamps give up; everything else is a string (e.g. `227x227x3`, `1e-5`).
    """
    signed = t[0] in "+-"
    b = t[1:] if signed else t
    if not b:
        return t  # `-` or `+` alone
    if b.isdigit():  # int regex `[-+]?(?:0|[1-9][0-9_]*)`; `0[0-7]+` would be octal
        if not b.isascii() or (b[0] == "0" and len(b) > 1) or len(b) > 19:
            raise _GiveUp
        v = int(t)
        if not -MAX_INT <= v <= MAX_INT:
            raise _GiveUp  # yamlio refuses it with a located error
        return v
    if not b.isascii():
        raise _GiveUp
    dot = b.find(".")
    if dot >= 0:
        # float regex (no `_`): `[-+]?[0-9]+\.[0-9]*([eE][-+][0-9]+)?` or `\.[0-9]+([eE][-+][0-9]+)?`
        whole, frac = b[:dot], b[dot + 1:]
        e = frac.find("e")
        if e < 0:
            e = frac.find("E")
        if e >= 0:
            frac, exp = frac[:e], frac[e + 1:]
            if len(exp) < 2 or exp[0] not in "+-" or not exp[1:].isdigit():
                raise _GiveUp
        if (whole.isdigit() or (not whole and not signed and frac)) and (not frac or frac.isdigit()):
            return float(t)
        raise _GiveUp
    if "_" in b or ":" in b or b[0] == "0" or (len(t) > 4 and t[4] == "-" and t[:4].isdigit()):
        raise _GiveUp  # 0x.. 0b.. 0[0-7].. 1_000 1:30 2001-12-14: ints, floats, dates or strings
    return t  # cannot match the int, float or timestamp patterns


def _plain(t: str) -> Any:
    """The value of a plain scalar `t` (non-empty, no leading/trailing spaces)."""
    v = _WORDS.get(t, _NO)
    if v is not _NO:
        return v
    if t[0] in _NUMERIC_START:
        return _number(t)
    if t == "<<" or t == "=":  # merge key and the `value` tag
        raise _GiveUp
    return t


def _key(key: str) -> str:
    """A plain mapping key as yamlio turns it into a string (`1` -> "1", `yes` -> "true")."""
    if key.isidentifier() and len(key) <= _MAX_KEY:  # most keys: no indicator, not a number
        v = _WORDS.get(key, _NO)
        if v is _NO:
            return key
    elif (not key or len(key) > _MAX_KEY or key[-1] == " " or key[0] == "-" or key[0] in _START_BAD
            or not _KEY_BAD.isdisjoint(key)):
        raise _GiveUp
    else:
        v = _plain(key)
    if isinstance(v, str):
        return v
    return str(v).lower() if isinstance(v, bool) else str(v)


def _flow_plain(t: str) -> Any:
    """The value of the plain scalar `t` found between flow indicators (`,` `]` `}`)."""
    if t.isidentifier():  # the common cases first: a name (no indicator, not a number)...
        return _WORDS.get(t, t)
    if t.isdigit():  # ... or a count
        if t.isascii() and (len(t) == 1 or t[0] != "0") and len(t) < 19:
            return int(t)
        raise _GiveUp
    if (not t or t[0] in _START_BAD or t[-1] == " " or not _FLOW_BAD.isdisjoint(t)
            or (t[0] == "-" and t[1:2] == " ")):
        raise _GiveUp
    return _plain(t)


def _quoted(s: str, p: int) -> tuple[str, int]:
    """The value of the quoted scalar at s[p] and the index after it; one line, no escapes."""
    q = s[p]
    e = s.find(q, p + 1)
    if q == "'":
        while e >= 0 and s.startswith("'", e + 1):  # '' is a quote
            e = s.find("'", e + 2)
        if e < 0:
            raise _GiveUp  # continues on the next line
        return s[p + 1:e].replace("''", "'"), e + 1
    if e < 0:
        raise _GiveUp
    v = s[p + 1:e]
    if "\\" in v:
        raise _GiveUp  # escapes
    return v, e + 1


def _after_value(s: str, e: int) -> None:
    """Only spaces and a comment may follow a block value on its line."""
    rest = s[e:]
    r = rest.lstrip(" ")
    if r and (r[0] != "#" or len(r) == len(rest)):
        raise _GiveUp


def _entry(s: str, p: int) -> bool:
    """A block sequence entry `-` at s[p]."""
    return s.startswith("-", p) and (p + 1 == len(s) or s[p + 1] == " ")


class _Reader:
    __slots__ = ("lines", "file", "count", "rows", "indents", "keys", "values")

    def __init__(self, text: str, file: str):
        # tabs, \r, BOM, \x85, \u2028, control characters... (ASCII text: the quick way)
        if text.isascii():
            if text.encode().translate(None, _PRINTABLE_ASCII):
                raise _GiveUp
        elif not text.replace("\n", "").isprintable():
            raise _GiveUp
        self.file = file
        self.count = 1  # nodes, keys included, as yamlio's composer counts them: the root + children
        # spec files repeat their keys and values: each distinct text is checked and resolved once
        self.keys: dict[str, str] = {}
        self.values: dict[str, Any] = {}  # flow plain scalars only (block ones follow other rules)
        self.lines = lines = text.split("\n")
        # rows/indents: the lines that hold something (not blank, not only a comment)
        self.rows: list[int] = []
        self.indents: list[int] = []
        rows, indents = self.rows, self.indents
        i = 0
        for line in lines:
            s = line.lstrip(" ")
            if s and s[0] != "#":
                indent = len(line) - len(s)
                if not indent and s[0] in "-.%" and s.startswith(("---", "...", "%")):
                    raise _GiveUp  # documents and directives
                rows.append(i)
                indents.append(indent)
            i += 1

    def key(self, t: str) -> str:
        """_key(t), once per distinct text."""
        k = self.keys.get(t)
        if k is None:
            k = self.keys[t] = _key(t)
        return k

    def document(self) -> Node:
        if not self.rows:
            raise _GiveUp
        col = self.indents[0]
        if _entry(self.lines[self.rows[0]], col):
            raise _GiveUp  # not a mapping: not a spec; PyYAML says what it is
        node, k = self.mapping(0, col, 1)
        if k != len(self.rows) or self.count >= MAX_NODES:
            raise _GiveUp
        return node

    def block(self, k: int, depth: int) -> tuple[Node, int]:
        """The block collection whose first line is rows[k]."""
        col = self.indents[k]
        if _entry(self.lines[self.rows[k]], col):
            return self.sequence(k, col, depth, False)
        return self.mapping(k, col, depth)

    def mapping(self, k: int, col: int, depth: int) -> tuple[Node, int]:
        """A block mapping whose first key is at column `col` of rows[k]; returns it and the next row."""
        if depth > _MAX_LEVELS:
            raise _GiveUp
        lines, rows, indents, file, keys = self.lines, self.rows, self.indents, self.file, self.keys
        end = len(rows)
        out: dict[str, Node] = {}
        key_locs: dict[str, Loc] = {}
        loc = None
        while True:
            li = rows[k]
            s = lines[li]
            n = len(s)
            c = s.find(":", col)
            if c < 0 or (c + 1 < n and s[c + 1] != " "):
                raise _GiveUp
            t = s[col:c]
            key = keys.get(t) or self.key(t)
            if key in out:
                raise _GiveUp  # duplicate: yamlio's error
            kloc = _new(Loc, (file, li + 1, col + 1))
            if loc is None:
                loc = kloc  # a block mapping starts where its first key does
            p = c + 1
            while p < n and s[p] == " ":
                p += 1
            k += 1
            if p == n or s[p] == "#":  # `key:` and the value, if any, on the next lines
                if k < end and (indents[k] > col or (indents[k] == col and _entry(lines[rows[k]], col))):
                    if indents[k] == col:  # `key:` + `- item` at the key's column
                        value, k = self.sequence(k, col, depth + 1, True)
                    else:
                        value, k = self.block(k, depth + 1)
                else:
                    value = Node(None, _new(Loc, (file, li + 1, c + 2)))  # PyYAML: the end of the `:`
            else:
                value, last = self.inline(s, li, p, col, depth + 1)
                while k < end and rows[k] <= last:
                    k += 1
            out[key] = value
            key_locs[key] = kloc
            if k == end:
                break
            i = indents[k]
            if i != col:
                if i > col:  # a plain scalar continued, or something PyYAML rejects
                    raise _GiveUp
                break
        self.count += 2 * len(out)
        return Node(out, loc, key_locs), k

    def sequence(self, k: int, col: int, depth: int, indentless: bool) -> tuple[Node, int]:
        """A block sequence whose first `-` is at column `col` of rows[k]."""
        if depth > _MAX_LEVELS:
            raise _GiveUp
        lines, rows, indents = self.lines, self.rows, self.indents
        end = len(rows)
        items: list[Node] = []
        li = rows[k]
        loc = _new(Loc, (self.file, li + 1, col + 1))
        while True:
            s = lines[li]
            n = len(s)
            p = col + 2
            if p >= n or s[p] == " ":  # (usually `- x`: one space)
                p -= 1
                while p < n and s[p] == " ":
                    p += 1
            ch = s[p] if p < n else "#"
            if ch == "{" or ch == "[":
                value = self.flat(s, li, p, depth + 1)  # what inline does, without its call
                if value is None:
                    value, li, e = self.flow(li, p, col, depth + 1)
                    _after_value(lines[li], e)
                    while k + 1 < end and rows[k + 1] <= li:
                        k += 1
                k += 1
            elif ch == "#":  # `-` alone: the item is the block below, or null
                k += 1
                if k < end and indents[k] > col:
                    value, k = self.block(k, depth + 1)
                else:
                    value = Node(None, _new(Loc, (self.file, li + 1, col + 2)))  # PyYAML: the end of the `-`
            elif ch == "-" and (p + 1 == n or s[p + 1] == " "):
                raise _GiveUp  # `- - x`
            elif ch != "'" and ch != '"' and _is_key(s, p):
                value, k = self.mapping(k, p, depth + 1)
            else:
                value, last = self.inline(s, li, p, col, depth + 1)
                k += 1
            items.append(value)
            if k == end:
                break
            i = indents[k]
            if i != col:
                if i > col:
                    raise _GiveUp
                break
            li = rows[k]
            s = lines[li]
            if s[col] != "-" or (len(s) > col + 1 and s[col + 1] != " "):  # not another item
                if indentless:  # the next key of the mapping that holds this sequence
                    break
                raise _GiveUp
        self.count += len(items)
        return Node(items, loc), k

    def inline(self, s: str, li: int, p: int, indent: int, depth: int) -> tuple[Node, int]:
        """The value that starts at s[p] after `key: ` or `- `; returns it and its last line."""
        ch = s[p]
        if ch == "[" or ch == "{":
            node = self.flat(s, li, p, depth)
            if node is not None:
                return node, li
            node, li, e = self.flow(li, p, indent, depth)
            _after_value(self.lines[li], e)
            return node, li
        if ch == "'" or ch == '"':
            v, e = _quoted(s, p)
            _after_value(s, e)
            return Node(v, _new(Loc, (self.file, li + 1, p + 1))), li
        if ch in _START_BAD or (ch == "-" and (p + 1 == len(s) or s[p + 1] == " ")):
            raise _GiveUp
        h = s.find(" #", p)
        t = (s[p:h] if h >= 0 else s[p:]).rstrip(" ")
        if t[-1] == ":" or ": " in t:
            raise _GiveUp  # `a: b: c`, or a key where PyYAML wants none
        return Node(_plain(t), _new(Loc, (self.file, li + 1, p + 1))), li

    def flat(self, s: str, li: int, p: int, depth: int) -> Node | None:
        """The flow collection at s[p] if it closes on this line before any comment, holds only
        plain scalars (and flow collections of them) and separates them by `, ` and `: `; else None.

        Reads the collection by splitting it at `, ` rather than token by token: most lines of
        a spec are such collections, str.split does in C what `flow` does in Python, and the
        pieces (`kernel: 3`, `relu`) repeat, so each distinct one is checked and resolved once.
        """
        if depth > _MAX_LEVELS:
            return None
        h = s.find(" #", p)
        seg = (s[p:h] if h >= 0 else s[p:]).rstrip(" ")
        if not _FLAT_BAD.isdisjoint(seg) or seg[-1] != ("}" if seg[0] == "{" else "]"):
            return None
        file, keys, values = self.file, self.keys, self.values
        new_, node_ = _new, Node  # locals: looked up for every key and value
        ln = li + 1
        inner = seg[1:-1]
        if _BRACKETS.isdisjoint(inner):  # not nested: the common case, a lean loop
            try:
                if seg[0] == "{":
                    out: dict[str, Node] = {}
                    key_locs: dict[str, Loc] = {}
                    if inner:
                        pieces = inner.split(", ")
                        col = p + 2  # of the current piece, 1-based
                        for piece in pieces:
                            kt, sep, vt = piece.partition(": ")
                            if not sep:
                                return None
                            key = keys.get(kt) or self.key(kt)
                            v = values.get(vt, _NO)
                            if v is _NO:
                                v = values[vt] = _flow_plain(vt)
                            key_locs[key] = new_(Loc, (file, ln, col))
                            out[key] = node_(v, new_(Loc, (file, ln, col + len(kt) + 2)))
                            col += len(piece) + 2
                        if len(out) != len(pieces):
                            return None  # a duplicate key
                        self.count += 2 * len(out)
                    return node_(out, new_(Loc, (file, ln, p + 1)), key_locs)
                items: list[Node] = []
                if inner:
                    col = p + 2
                    for piece in inner.split(", "):
                        v = values.get(piece, _NO)
                        if v is _NO:
                            v = values[piece] = _flow_plain(piece)
                        items.append(node_(v, new_(Loc, (file, ln, col))))
                        col += len(piece) + 2
                    self.count += len(items)
                return node_(items, new_(Loc, (file, ln, p + 1)))
            except _GiveUp:
                return None  # `flow` reads it or gives up
        # nested: piece by piece
        cur: Any = {} if seg[0] == "{" else []  # the dict or list being filled
        cur_locs: Any = {} if seg[0] == "{" else None  # its key positions; None in a sequence
        root = node_(cur, new_(Loc, (file, ln, p + 1)), cur_locs)
        stack: list[Any] = []  # the containers around `cur`, as (cur, cur_locs)
        made = [cur]  # every container, to count nodes and catch duplicate keys at the end
        inserted = 0  # keys stored, duplicates included
        col = p + 2  # of the current piece, 1-based
        try:
            for piece in inner.split(", "):
                n = len(piece)
                if _BRACKETS.isdisjoint(piece):  # as in the lean loop
                    if cur_locs is not None:
                        kt, sep, vt = piece.partition(": ")
                        if not sep:
                            return None
                        key = keys.get(kt) or self.key(kt)
                        v = values.get(vt, _NO)
                        if v is _NO:
                            v = values[vt] = _flow_plain(vt)
                        cur_locs[key] = new_(Loc, (file, ln, col))
                        cur[key] = node_(v, new_(Loc, (file, ln, col + len(kt) + 2)))
                        inserted += 1
                    else:
                        v = values.get(piece, _NO)
                        if v is _NO:
                            v = values[piece] = _flow_plain(piece)
                        cur.append(node_(v, new_(Loc, (file, ln, col))))
                    col += n + 2
                    continue
                i = 0
                key = ""
                while True:  # (key:)? then `[` or `{` (and round again) or a scalar, then closers
                    if cur_locs is not None:
                        c = piece.find(": ", i)
                        if c < 0:
                            return None
                        key = keys.get(piece[i:c]) or self.key(piece[i:c])
                        cur_locs[key] = new_(Loc, (file, ln, col + i))
                        i = c + 2
                    ch = piece[i]
                    if ch == "{" or ch == "[":
                        if len(stack) + depth >= _MAX_LEVELS:
                            return None
                        new: Any = {} if ch == "{" else []
                        new_locs: Any = {} if ch == "{" else None
                        node = node_(new, new_(Loc, (file, ln, col + i)), new_locs)
                        if cur_locs is not None:
                            cur[key] = node
                            inserted += 1
                        else:
                            cur.append(node)
                        stack.append((cur, cur_locs))
                        made.append(new)
                        cur, cur_locs = new, new_locs
                        i += 1
                        if i < n and (piece[i] == "]" or piece[i] == "}"):
                            break  # empty
                        continue
                    e = len(piece.rstrip("]}"))
                    t = piece[i:e]
                    v = values.get(t, _NO)
                    if v is _NO:
                        v = values[t] = _flow_plain(t)
                    node = node_(v, new_(Loc, (file, ln, col + i)))
                    if cur_locs is not None:
                        cur[key] = node
                        inserted += 1
                    else:
                        cur.append(node)
                    i = e
                    break
                while i < n:  # closers; the root's was cut off
                    if not stack or piece[i] != ("]" if cur_locs is None else "}"):
                        return None
                    cur, cur_locs = stack.pop()
                    i += 1
                col += n + 2
        except (_GiveUp, IndexError):
            return None  # `flow` reads it or gives up
        if stack:
            return None  # continues on the next line
        entries = elements = 0
        for container in made:
            if type(container) is dict:
                entries += len(container)
            else:
                elements += len(container)
        if entries != inserted:
            return None  # a duplicate key
        self.count += 2 * entries + elements
        return root

    def skip(self, li: int, p: int, indent: int) -> tuple[int, int]:
        """Past spaces, comments and line breaks inside a flow collection to the next token."""
        lines = self.lines
        s = lines[li]
        n = len(s)
        while p < n and s[p] == " ":
            p += 1
        while True:
            if p < n:
                if s[p] != "#":
                    return li, p
                if p and s[p - 1] != " ":
                    raise _GiveUp  # `#` right after a token
            li += 1
            if li == len(lines):
                raise _GiveUp  # unclosed
            s = lines[li]
            n = len(s)
            p = n - len(s.lstrip(" "))
            if p < n and s[p] != "#" and p <= indent:
                raise _GiveUp  # YAML wants flow lines indented more than the block around them

    def flow(self, li: int, p: int, indent: int, depth: int) -> tuple[Node, int, int]:
        """The flow collection opened at lines[li][p]; returns it, its last line and the index after it.

        `indent` is the column of the block collection around it: continuation lines go deeper.
        """
        if depth > _MAX_LEVELS:
            raise _GiveUp
        lines, file, keys, values = self.lines, self.file, self.keys, self.values
        s = lines[li]
        n = len(s)
        is_map = s[p] == "{"
        close = "}" if is_map else "]"
        loc = _new(Loc, (file, li + 1, p + 1))
        out: dict[str, Node] = {}
        key_locs: dict[str, Loc] = {}
        items: list[Node] = []
        p += 1
        if p == n or s[p] == " " or s[p] == "#":
            li, p = self.skip(li, p, indent)
            s = lines[li]
            n = len(s)
        comma = -1  # the next `,` on this line at or after p (n if none): each is looked for once
        if s[p] == close:
            if is_map:
                return Node(out, loc, key_locs), li, p + 1
            return Node(items, loc), li, p + 1
        key = ""
        kloc = loc
        while True:
            if is_map:
                c = s.find(":", p)
                if c < 0 or c + 1 == n or s[c + 1] != " ":
                    raise _GiveUp  # `a:b`, `{a}`, a key alone on its line, `a:` at the end of a line
                t = s[p:c]
                key = keys.get(t) or self.key(t)
                if key in out:
                    raise _GiveUp
                kloc = _new(Loc, (file, li + 1, p + 1))
                p = c + 2
                while p < n and s[p] == " ":
                    p += 1
                if p == n:
                    raise _GiveUp  # the value on a later line, or none
            ch = s[p]
            if ch == "[" or ch == "{":
                value, li2, p = self.flow(li, p, indent, depth + 1)
                if li2 != li:
                    li = li2
                    s = lines[li]
                    n = len(s)
                    comma = -1
            elif ch == "'" or ch == '"':
                v, p2 = _quoted(s, p)
                value = Node(v, _new(Loc, (file, li + 1, p + 1)))
                p = p2
            else:
                if ch == "-" and (p + 1 == n or s[p + 1] == " "):
                    raise _GiveUp  # `- ` in a flow collection
                if comma < p:
                    comma = s.find(",", p)
                    if comma < 0:
                        comma = n
                t = s[p:comma]
                if not _FLOW_BAD.isdisjoint(t):
                    # ends before the comma: at the collection's end, or at a comment
                    e = len(t)
                    for stop in ("]", "}", " #"):
                        j = t.find(stop)
                        if 0 <= j < e:
                            e = j
                    t = t[:e]
                t2 = t.rstrip(" ")
                v = values.get(t2, _NO)
                if v is _NO:
                    v = values[t2] = _flow_plain(t2)
                value = Node(v, _new(Loc, (file, li + 1, p + 1)))
                p += len(t)
            if is_map:
                out[key] = value
                key_locs[key] = kloc
            else:
                items.append(value)
            if p == n or s[p] == " " or s[p] == "#":
                li2, p = self.skip(li, p, indent)
                if li2 != li:
                    li = li2
                    s = lines[li]
                    n = len(s)
                    comma = -1
            ch = s[p]
            if ch == close:
                break
            if ch != ",":
                raise _GiveUp  # `[a b]` over two lines (one plain scalar), `[a: b]`, `]` for `}`...
            p += 1
            if p == n or s[p] == " " or s[p] == "#":
                li2, p = self.skip(li, p, indent)
                if li2 != li:
                    li = li2
                    s = lines[li]
                    n = len(s)
                    comma = -1
            if s[p] == close:
                raise _GiveUp  # trailing comma
        if is_map:
            self.count += 2 * len(out)
            node = Node(out, loc, key_locs)
        else:
            self.count += len(items)
            node = Node(items, loc)
        if self.count >= MAX_NODES:
            raise _GiveUp
        return node, li, p + 1


def _is_key(s: str, p: int) -> bool:
    """s[p:] starts with `key:` (a compact mapping in a sequence item) rather than a plain value."""
    c = s.find(":", p)
    while c >= 0 and c + 1 < len(s) and s[c + 1] != " ":
        c = s.find(":", c + 1)
    return c >= 0 and s.find(" #", p, c) < 0


def parse(text: str, file: str) -> Node | None:
    """The Node tree yamlio.load_yaml gives for `text`, or None if PyYAML must read it."""
    try:
        return _Reader(text, file).document()
    except (_GiveUp, IndexError):  # IndexError: a line ended where this reader did not expect
        return None
