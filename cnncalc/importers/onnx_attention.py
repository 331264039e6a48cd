"""The transformer layers ONNX has no operator for, recognised from the graph's structure (not from
node names): multi-head self-attention and a ViT patch embedding, each one layer.

Self-attention is anchored at its Softmax: the scores are a MatMul of two computed tensors before it
(through a scaling or a mask), the weights a MatMul with the values after it (through a Dropout).
From there the queries, keys and values are followed back, through reshapes, transposes, the
gathers or splits of a packed projection and the scalings of the queries and keys, to their
projections: MatMul by a stored weight (+ Add of a stored bias) or Gemm, one packed for all three
(torch's in_proj) or one each, all reading the same tensor. After the mix A·V come the heads merged
back and the output projection. The reshapes and transposes around it that only turn the layer's
input into a sequence (and back) belong to it too, so that the layer reads and writes tensors of
the shape the spec's multi_head_attention has (positions x features). Heads, key and value sizes
come from the shapes of the scores, queries and values; the projections' weights must agree.

A Softmax between two such products whose surroundings are not that pattern is an error naming the
node where the pattern breaks (with --allow-unknown its nodes are left to the other mappings).

A patch embedding is a Conv with kernel = stride and no padding, its grid flattened and transposed
to tokens x features, with a stored class token concatenated in front and/or a stored position
embedding added (torchvision's ViT, cnncalc's PatchEmbedding). Without either it stays the
convolution, reshape and permute it is, unless those three nodes are a module of their own. It is
named after the module that holds just its nodes (cnncalc's PatchEmbedding), else after its
convolution's (torchvision's conv_proj), as the factory importer names it.

Each walk is bounded (MAX_WALK nodes) and every node joins at most one layer, so the search is
linear in the size of the graph.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .model import Mapped, Unmapped
from .onnx_rearrange import stored

MAX_WALK = 64
# ops that only move, select or scale the queries, keys and values on their way from the projections
PASSIVE = frozenset(("Reshape", "Transpose", "Squeeze", "Unsqueeze", "Flatten", "Identity", "Cast", "Gather",
                     "Split", "Slice", "Mul", "Div", "Dropout"))
# ops that only rearrange the layer's input into a sequence and back
SHAPING = frozenset(("Reshape", "Transpose", "Squeeze", "Unsqueeze", "Flatten", "Identity"))


@dataclass
class Region:
    """Nodes that are one layer: `parts` (sorted), the last of them the node the layer is."""

    parts: list[int]
    mapped: Mapped
    reads: list[str]  # its data inputs
    weights: int  # elements of the stored weights it holds
    name: str = ""  # its name where no module holds just its nodes ('': its last node's)


@dataclass
class _Projection:
    nodes: list[int]
    x: str  # the tensor it projects
    units: int
    in_features: int
    bias: bool
    weights: int


class _Partial(Exception):
    """The attention pattern breaks at a node: (node index, why)."""

    def __init__(self, node: int, why: str):
        super().__init__(why)
        self.node, self.why = node, why


class Finder:
    def __init__(self, g: Any, nodes: Any, producer: dict[str, int], consumers: dict[str, list[int]],
                 is_data: list[list[str]], outputs: set[str], paths: dict[int, str]):
        self.g, self.nodes, self.producer, self.consumers = g, nodes, producer, consumers
        self.is_data, self.outputs, self.paths = is_data, outputs, paths
        self.claimed: set[int] = set()
        self.module: Callable[..., str] = lambda *ks: ""

    # ---- tensors and weights ----

    def shape(self, t: str) -> tuple[int, ...] | None:
        s = self.g.shape(t)
        return None if s is None or any(d < 0 for d in s) else tuple(s)

    def weight(self, t: str) -> tuple[int, ...] | None:
        """The shape of `t` if it is a stored weight (an initializer, or one reshaped, transposed,
        expanded), else None."""
        if not t or t in self.g.data:
            return None
        src = t
        producer = self.g.folder.producer if self.g.folder is not None else {}
        for _ in range(8):
            if src in self.g.init or src in self.g.origin or stored(self.g, src):
                return self.g.shape(t) or self.g.shape(self.g.origin.get(src, src))
            p = producer.get(src)
            if p is None or p.op_type != "Expand" or not p.input:
                return None
            src = p.input[0]
        return None

    def numel(self, t: str) -> int:
        """Elements of the stored weight `t` is (before an Expand)."""
        producer = self.g.folder.producer if self.g.folder is not None else {}
        for _ in range(8):
            p = producer.get(t)
            if p is None or p.op_type != "Expand" or not p.input:
                break
            t = p.input[0]
        n = self.g.numel(t)
        if n is None:
            names = stored(self.g, t)
            n = math.prod(self.g.init[names[0]]) if names else 0
        return n

    def attr(self, j: int, key: str, default: Any = None) -> Any:
        from onnx import helper

        for a in self.nodes[j].attribute:
            if a.name == key:
                return helper.get_attribute_value(a)
        return default

    def scalar(self, t: str) -> bool:
        """Whether the constant `t` is one number (a scaling), not a tensor of values."""
        s = self.g.shape(t)
        if s is None:
            v = self.g.const(t)
            s = None if v is None else v.shape
        return s is not None and math.prod(s) == 1 and t not in self.g.data

    def readers(self, t: str) -> list[int]:
        """The nodes that read `t` as data (not its Shape)."""
        return [c for c in self.consumers.get(t, ()) if self.is_data[c]]

    def single(self, t: str) -> bool:
        return len(self.readers(t)) == 1 and t not in self.outputs

    def sole(self, t: str) -> int | None:
        """The one node reading `t` as data, if it is read once and is no output of the network."""
        return self.readers(t)[0] if self.single(t) else None

    def where(self, j: int) -> str:
        n = self.nodes[j]
        return f"node {j} ({n.op_type} {n.name!r})" if n.name else f"node {j} ({n.op_type})"

    # ---- projections ----

    def projection_at(self, j: int) -> _Projection | None:
        """The projection whose last node is j: Gemm, MatMul by a stored weight, or Add of a stored
        bias to such a MatMul."""
        n, data = self.nodes[j], self.is_data[j]
        if n.op_type == "Gemm" and len(data) == 1 and n.input[0] == data[0]:
            w = self.weight(n.input[1])
            if w is None or len(w) != 2 or self.attr(j, "transA", 0):
                return None
            trans = self.attr(j, "transB", 0)
            bias = len(n.input) > 2 and bool(n.input[2])
            return _Projection([j], data[0], w[0] if trans else w[1], w[1] if trans else w[0], bias,
                               self.numel(n.input[1]) + (self.numel(n.input[2]) if bias else 0))
        if n.op_type == "MatMul" and len(data) == 1 and n.input[0] == data[0]:
            w = self.weight(n.input[1])
            if w is None or len(w) != 2:
                return None
            return _Projection([j], data[0], w[1], w[0], False, self.numel(n.input[1]))
        if n.op_type == "Add" and len(data) == 1 and len(n.input) == 2:
            b = next(t for t in n.input if t != data[0])
            bs = self.weight(b)
            m = self.producer.get(data[0])
            if bs is None or math.prod(bs) != max(bs, default=1) or m is None or not self.single(data[0]):
                return None
            p = self.projection_at(m)
            if p is None or p.bias or p.nodes != [m] or self.nodes[m].op_type != "MatMul" or math.prod(bs) != p.units:
                return None
            return _Projection([m, j], p.x, p.units, p.in_features, True, p.weights + self.numel(b))
        return None

    def projection_from(self, t: str) -> tuple[list[int], _Projection, str] | None:
        """Forward from tensor t: (the shaping nodes before the projection, the projection, its output)."""
        mid: list[int] = []
        for _ in range(MAX_WALK):
            c = self.sole(t)
            if c is None:
                return None
            n = self.nodes[c]
            if n.op_type in ("Gemm", "MatMul") and self.is_data[c] == [t] and n.input[0] == t:
                p = self.projection_at(c)
                if p is None:
                    return None
                out = n.output[0]
                a = self.sole(out)
                if p.nodes == [c] and n.op_type == "MatMul" and a is not None:
                    q = self.projection_at(a)
                    if q is not None and q.nodes == [c, a]:
                        return mid, q, self.nodes[a].output[0]
                return mid, p, out
            if n.op_type not in SHAPING or len(self.is_data[c]) != 1:
                return None
            mid.append(c)
            t = n.output[0]
        return None

    # ---- attention ----

    def core(self, s: int) -> tuple[int, list[int], int, list[int]] | None:
        """(scores MatMul, nodes between it and the Softmax, mix MatMul, nodes between) around Softmax s."""
        pre: list[int] = []
        t = self.nodes[s].input[0]
        j = self.producer.get(t)
        for _ in range(8):
            if j is None or not self.single(t):
                return None
            n = self.nodes[j]
            if n.op_type in ("Mul", "Div") and len(self.is_data[j]) == 1 and n.input[0] == self.is_data[j][0] \
                    and self.scalar(n.input[1]):  # the scaling by 1/√d_k (an added mask is no such layer)
                pre.append(j)
                t = self.is_data[j][0]
                j = self.producer.get(t)
                continue
            break
        if j is None or self.nodes[j].op_type != "MatMul" or len(self.is_data[j]) != 2:
            return None
        qk = j
        post: list[int] = []
        t = self.nodes[s].output[0]
        for _ in range(8):
            c = self.sole(t)
            if c is None:
                return None
            n = self.nodes[c]
            if n.op_type in ("Dropout", "Identity", "Cast") and self.is_data[c][:1] == [t]:
                post.append(c)
                t = n.output[0]
                continue
            if n.op_type == "MatMul" and len(self.is_data[c]) == 2 and n.input[0] == t:
                return qk, pre, c, post
            return None
        return None

    def back(self, t: str, start: int) -> tuple[list[int], _Projection]:
        """From a query, key or value tensor back to its projection: (the nodes between, the projection)."""
        seen: list[int] = []
        j = start
        for _ in range(MAX_WALK):
            p = self.producer.get(t)
            if p is None:
                raise _Partial(j, f"its input {t!r} comes from no projection (a MatMul by stored weights)")
            proj = self.projection_at(p)
            if proj is not None:
                return seen, proj
            n = self.nodes[p]
            data = self.is_data[p]
            if n.op_type not in PASSIVE or len(data) != 1 or n.input[0] != data[0] \
                    or n.op_type in ("Mul", "Div") and not self.scalar(n.input[1]):
                raise _Partial(p, "it is between a projection and the attention's scores or values, and only "
                                  "reshapes, transposes, selections and scalings can be")
            seen.append(p)
            j, t = p, data[0]
        raise _Partial(j, f"more than {MAX_WALK} nodes between the projection and the attention")

    def attention(self, s: int) -> Region | None:
        got = self.core(s)
        if got is None:
            return None
        qk, pre, av, post = got
        qn, kn = self.nodes[qk].input[0], self.nodes[qk].input[1]
        vn = self.nodes[av].input[1]
        q_path, q = self.back(qn, qk)
        k_path, k = self.back(kn, qk)
        v_path, v = self.back(vn, av)
        scores, qs, vs = self.shape(self.nodes[qk].output[0]), self.shape(qn), self.shape(vn)
        if scores is None or qs is None or vs is None or len(scores) < 3:
            raise _Partial(qk, "the shapes of the attention's scores, queries or values are not known")
        axis = self.attr(s, "axis", -1 if self.g.opset >= 13 else 1)  # before opset 13: the axes from it, flattened
        if not isinstance(axis, int) or axis % len(scores) != len(scores) - 1:
            raise _Partial(s, f"it normalises the scores along axis {axis!r}, not over the keys (the last axis)")
        h, n_q, n_k = math.prod(scores[:-2]), scores[-2], scores[-1]
        dk, dv = qs[-1], vs[-1]
        if n_q != n_k:
            raise _Partial(qk, f"{n_q} queries attend to {n_k} keys (cross-attention, or keys added to the "
                               "sequence: cnncalc's multi_head_attention is self-attention)")
        projs = {p.nodes[-1]: p for p in (q, k, v)}
        if len({p.nodes[-1] for p in (q, k, v)}) == 1:
            if q.units != 2 * h * dk + h * dv:
                raise _Partial(q.nodes[-1], f"a packed projection to {q.units} features, not the queries, keys and "
                                            f"values of {h} heads of {dk} and {dv}")
        elif len({p.nodes[-1] for p in (q, k, v)}) == 3:
            for p, units in ((q, h * dk), (k, h * dk), (v, h * dv)):
                if p.units != units:
                    raise _Partial(p.nodes[-1], f"a projection to {p.units} features, not {h} heads of {units // h}")
            if len({p.x for p in (q, k, v)}) != 1:
                raise _Partial(k.nodes[0], "the queries, keys and values project different tensors "
                                           "(cross-attention; cnncalc's multi_head_attention is self-attention)")
        else:
            raise _Partial(v.nodes[-1], "two of the queries, keys and values share a projection, the third not")
        after = self.projection_from(self.nodes[av].output[0])
        if after is None:
            raise _Partial(av, "the mix of the values is not followed by an output projection (a MatMul by "
                               "stored weights)")
        mid, out, y = after
        if out.in_features != h * dv:
            raise _Partial(out.nodes[0], f"an output projection of {out.in_features} features, not {h} heads of {dv}")
        biases = {p.bias for p in (*projs.values(), out)}
        if len(biases) != 1:
            raise _Partial(out.nodes[-1], "some of the attention's projections have biases and others not")
        x = q.x
        e = self.shape(x)
        if e is None:
            raise _Partial(q.nodes[0], "the shape of the attention's input is not known")
        core = sorted({qk, s, av, *pre, *post, *q_path, *k_path, *v_path, *mid,
                       *(j for p in (*projs.values(), out) for j in p.nodes)})
        scope = common_path([self.paths.get(j, "") for j in core])
        before, x0 = self.around(x, e[-1], n_q, scope, set(core), backward=True)
        after_nodes, _ = self.around(y, out.units, n_q, scope, set(core), backward=False, like=self.shape(x0))
        parts = sorted({*core, *before, *after_nodes})
        self.closed(parts, x0)
        params: dict[str, Any] = {"heads": h}
        features = self.shape(x0)[-1]  # type: ignore[index]
        if h * dk != features:
            params["key_dim"] = dk
        if dv != dk:
            params["value_dim"] = dv
        if out.units != features:
            params["output_dim"] = out.units
        if not out.bias:
            params["bias"] = False
        weights = sum(p.weights for p in (*projs.values(), out))
        return Region(parts, ("multi_head_attention", params), [x0], weights)

    def around(self, t: str, features: int, positions: int, scope: str, core: set[int], backward: bool,
               like: tuple[int, ...] | None = None) -> tuple[list[int], str]:
        """The shaping nodes before the layer's first projection (backward) or after its last (forward)
        that belong to it: as far as a tensor of (batch, positions..., features) reaches, within the
        layer's module or the modules that hold it. (nodes, the layer's input or output tensor)"""
        chain: list[int] = []
        best: tuple[int, str] | None = None
        for _ in range(MAX_WALK):
            s = self.shape(t)
            if s is not None and len(s) >= 3 and s[0] == 1 and s[-1] == features \
                    and math.prod(s[1:-1]) == positions and (like is None or s[1:-1] == like[1:-1]):
                best = (len(chain), t)  # the furthest: the earliest input, the latest output
            if backward:
                j = self.producer.get(t)
                ok = t not in self.outputs and (self.single(t) if chain else all(c in core for c in self.readers(t)))
            else:
                j, ok = self.sole(t), True
            if j is None or not ok or j in self.claimed or self.nodes[j].op_type not in SHAPING \
                    or len(self.is_data[j]) != 1 or not _within(self.paths.get(j, ""), scope):
                break
            chain.append(j)
            t = self.is_data[j][0] if backward else self.nodes[j].output[0]
        if best is None:
            anchor = min(core) if backward else max(core)
            raise _Partial(anchor, f"the attention's {'input' if backward else 'output'} is no sequence of {positions} "
                                   f"positions of {features} features")
        return chain[:best[0]], best[1]

    def closed(self, parts: list[int], x0: str) -> None:
        """Every tensor the region computes is read only inside it (but its result), and it reads only x0."""
        inside = set(parts)
        last = parts[-1]
        for j in parts:
            for t in self.is_data[j]:
                p = self.producer.get(t)
                if t != x0 and p not in inside:
                    raise _Partial(j, f"it reads {t!r}, which the rest of the attention does not compute")
            if j == last:
                continue
            for t in self.nodes[j].output:
                if t in self.outputs or any(c not in inside for c in self.readers(t)):
                    raise _Partial(j, "its result is read outside the attention")

    # ---- patch embedding ----

    def patch_embedding(self, c: int) -> Region | None:
        n = self.nodes[c]
        if n.op_type != "Conv" or len(self.is_data[c]) != 1 or n.input[0] != self.is_data[c][0]:
            return None
        w = self.weight(n.input[1])
        x, y = self.shape(n.input[0]), self.shape(n.output[0])
        if w is None or x is None or y is None or len(w) != 4 or len(x) != 4:
            return None
        kernel = list(w[2:])
        if list(self.attr(c, "strides", [1, 1])) != kernel or any(self.attr(c, "pads", []) or []) \
                or any(d != 1 for d in self.attr(c, "dilations", [1, 1])) or self.attr(c, "group", 1) != 1 \
                or self.attr(c, "auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
            return None
        dim, patches = y[1], y[2] * y[3]
        r = self.sole(n.output[0])
        if r is None or self.nodes[r].op_type not in ("Reshape", "Flatten") or self.shape(self.nodes[r].output[0]) \
                != (1, dim, patches):
            return None
        tr = self.sole(self.nodes[r].output[0])
        if tr is None or self.nodes[tr].op_type != "Transpose" or list(self.attr(tr, "perm", [])) != [0, 2, 1]:
            return None
        parts, t, tokens = [c, r, tr], self.nodes[tr].output[0], patches
        weights = self.numel(n.input[1]) + (self.numel(n.input[2]) if len(n.input) > 2 and n.input[2] else 0)
        params: dict[str, Any] = {"dim": dim, "patch": kernel[0] if kernel[0] == kernel[1] else kernel}
        if len(n.input) < 3 or not n.input[2]:
            params["bias"] = False
        cat = self.sole(t)
        if cat is not None and self.nodes[cat].op_type == "Concat" and len(self.nodes[cat].input) == 2 \
                and self.nodes[cat].input[1] == t and self.attr(cat, "axis") in (1, -2):
            token = self.nodes[cat].input[0]
            ts = self.weight(token)
            cs = self.shape(self.nodes[cat].output[0])  # unknown when the token is expanded to the batch
            if ts is not None and self.numel(token) == dim and cs in (None, (1, tokens + 1, dim)):
                parts.append(cat)
                params["class_token"] = True
                weights += dim
                tokens += 1
                t = self.nodes[cat].output[0]
        add = self.sole(t)
        if add is not None and self.nodes[add].op_type == "Add" and self.is_data[add] == [t] \
                and len(self.nodes[add].input) == 2:
            pos = next(u for u in self.nodes[add].input if u != t)
            ps = self.weight(pos)
            if ps is not None and tuple(ps[-2:]) == (tokens, dim) and math.prod(ps) == tokens * dim \
                    and self.shape(self.nodes[add].output[0]) == (1, tokens, dim):
                parts.append(add)
                params["position_embedding"] = True
                weights += tokens * dim
        if len(parts) == 3 and not self.module(*parts):
            return None  # a convolution, a reshape and a permute: what they are, unless a module of their own
        # named after its convolution's module (torchvision's conv_proj) unless a module holds just its nodes
        return Region(parts, ("patch_embedding", params), [n.input[0]], weights, self.paths.get(c, ""))

    def find(self, allow_unknown: bool, fail: Callable[[str], Exception], module: Callable[..., str]) -> list[Region]:
        """The layers found; `fail(message)` is the error of a partial attention, `module(*nodes)` the
        source module that holds exactly those nodes, or ''."""
        self.module = module
        out: list[Region] = []
        for k, n in enumerate(self.nodes):
            if not self.is_data[k] or k in self.claimed:
                continue
            try:
                region = self.patch_embedding(k) if n.op_type == "Conv" else \
                    self.attention(k) if n.op_type == "Softmax" else None
            except _Partial as exc:
                if allow_unknown:
                    continue
                raise fail(f"{self.where(exc.node)}: part of a multi-head attention (around the Softmax "
                           f"{self.where(k)}) that cannot be mapped: {exc.why}") from None
            except Unmapped:
                continue
            if region is None or any(j in self.claimed for j in region.parts):
                continue
            self.claimed.update(region.parts)
            out.append(region)
        return out


def common_path(paths: list[str]) -> str:
    """The module path the dotted `paths` share (`a.b` of `a.b.c` and `a.b.d`)."""
    split = [p.split(".") if p else [] for p in paths]
    out = []
    for parts in zip(*split, strict=False):
        if len(set(parts)) != 1:
            break
        out.append(parts[0])
    return ".".join(out)


def _within(path: str, scope: str) -> bool:
    """Whether a node of module `path` may belong to a layer of module `scope`: the same module or one
    that holds it (a node without a scope always may)."""
    return not path or scope == path or scope.startswith(path + ".")
