"""Multi-head self-attention (torch.nn.MultiheadAttention with batch_first, Keras MultiHeadAttention).

The features are the last axis of the input in the spec's layout, as for `dense`; every other
axis is a position (a token sequence L x E, or the H·W positions of an H x W x C image, as
Keras attends over every axis but the batch and the features). With L positions, E features,
h heads of key size d_k and value size d_v, and S = L key positions (plus a learned bias_k and a
zero key when asked for):

    Q, K, V projections   L·E·(2·h·d_k + h·d_v) MACs (+ as many bias adds)
    query scaling          L·h·d_k multiplies by 1/√d_k
    scores Q·Kᵀ            h·L·S·d_k MACs
    softmax over S         h·L·S exps and divides, h·L·(S − 1) adds
    mix A·V                h·L·S·d_v MACs
    output projection      L·h·d_v·E_out MACs (+ L·E_out bias adds)

PyTorch's module projects to embed_dim = h·d_k = h·d_v = E_out; Keras chooses key_dim, value_dim
and output_shape freely. Attention dropout does nothing at inference.
"""

from __future__ import annotations

from typing import Any

from ..errors import LayerError, Unsupported
from .base import Layer, ReceptiveStep, Result, Uncounted
from .count import count, minus, plus, times, volume
from .dense import features, positions, with_features
from .mapping import Arg, Call, pos
from .params import Param

SELF_ATTENTION_TORCH = '''class SelfAttention(nn.Module):
    """nn.MultiheadAttention of a tensor with itself; every axis but the features' is a position."""

    def __init__(self, embed_dim: int, num_heads: int, features_last: bool = True, **kwargs):
        super().__init__()
        self.attn = nn.MultiheadAttention(embed_dim, num_heads, batch_first=True, **kwargs)
        # False: the features are on axis 1 (a channels-last spec's tensor in PyTorch's layout)
        self.features = -1 if features_last else 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # axes from 0: torch's ONNX exporter writes a movedim from -1 as an invalid Transpose
        last, features = x.dim() - 1, self.features % x.dim()
        y = x.movedim(features, last)
        tokens = y.reshape(y.shape[0], -1, y.shape[-1])
        if not torch.onnx.is_in_onnx_export():
            out = self.attn(tokens, tokens, tokens, need_weights=False)[0]
        else:  # ONNX has no operator for torch's fused kernel: the same attention, unfused
            fast = torch.backends.mha.get_fastpath_enabled()
            torch.backends.mha.set_fastpath_enabled(False)
            try:
                out = self.attn(tokens, tokens, tokens, need_weights=False)[0]
            finally:
                torch.backends.mha.set_fastpath_enabled(fast)
        return out.reshape(y.shape).movedim(last, features)
'''
SELF_ATTENTION_KERAS = '''class SelfAttention(keras.layers.Layer):
    """keras.layers.MultiHeadAttention of a tensor with itself (query = key = value)."""

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, **kwargs):
        super().__init__(**kwargs)
        self.sizes = {"num_heads": num_heads, "key_dim": key_dim, "value_dim": value_dim,
                      "dropout": dropout, "use_bias": use_bias, "output_shape": output_shape}
        self.attention = keras.layers.MultiHeadAttention(**self.sizes)

    def build(self, input_shape):
        self.attention.build(input_shape, input_shape)

    def call(self, x):
        return self.attention(x, x)

    def compute_output_shape(self, input_shape):
        return self.attention.compute_output_shape(input_shape, input_shape)

    def get_config(self):
        return {**super().get_config(), **self.sizes}
'''


def _sizes(c: Any) -> tuple[int, int, int, int, int, int]:
    """(positions L, features E, heads, key_dim, value_dim, output features) of a layer's LayerCost."""
    x = c.inputs[0]
    e = features(x, c.layout)
    return (x.numel // e, e, *dims(c.params, e))


def _fast_path(params: Any) -> bool:
    """torch 2.13 runs self-attention through its fused kernel at inference (no tool sees inside) with an
    even number of heads, biases, and neither bias_k/bias_v nor a zero key (MultiheadAttention.forward)."""
    return params["heads"] % 2 == 0 and params["bias"] and not params["add_bias_kv"] and not params["add_zero_attn"]


def projections(c: Any) -> int:
    """0 on torch's fused fast path (even heads, biases, no bias_kv or zero key), else the Q, K, V and output
    projections' MACs (F.linear; the scaled dot-product attention itself is not counted)."""
    if _fast_path(c.params):
        return 0
    n, e, h, dk, dv, e_out = _sizes(c)
    return n * e * (2 * h * dk + h * dv) + n * h * dv * e_out


def twice_projections(c: Any) -> int:
    """2 x the projections' MACs (F.linear, its bias ignored), 0 on torch's fused fast path."""
    return 2 * projections(c)


def ptflops_attention(c: Any) -> int:
    """ptflops's nn.MultiheadAttention hook: L·E (scaling) + 3·L·E² (+ 3·L·E biases) + h·(L²·d_k + L² + L²·d_v)
    + L·E·(E + 1); bias_k and a zero key are not seen."""
    n, e, h, _, _, _ = _sizes(c)
    d = e // h
    proj_bias = 3 * n * e if c.params["bias"] else 0
    return n * e + 3 * n * e * e + proj_bias + h * (n * n * d + n * n + n * n * d) + n * e * (e + 1)


class MultiHeadAttention(Layer):
    group = "attention"
    name = "multi_head_attention"
    aliases = ("mha", "self_attention")
    prefix = "attn"
    doc = ("multi-head self-attention over every axis but the last (torch.nn.MultiheadAttention with "
           "batch_first, Keras MultiHeadAttention)")
    params = {
        "heads": Param("count", aliases=("num_heads",), doc="attention heads"),
        "key_dim": Param("count", None, doc="size of each head's queries and keys (default: features / heads)"),
        "value_dim": Param("count", None, doc="size of each head's values (default: key_dim)"),
        "output_dim": Param("count", None, aliases=("output_shape",),
                            doc="output features (Keras output_shape; default: the input's)"),
        "bias": Param("bool", True, aliases=("use_bias",), doc="biases of the four projections"),
        "add_bias_kv": Param("bool", False, doc="PyTorch: a learned key and value appended to the sequence"),
        "add_zero_attn": Param("bool", False, doc="PyTorch: a zero key and value appended to the sequence"),
        "dropout": Param("rate", 0.0, doc="dropout on the attention weights (nothing at inference)"),
        "embed_dim": Param("count", None, doc="PyTorch: the input's features, checked"),
        "kdim": Param("count", None, doc="PyTorch: the keys' features, checked (self-attention: the input's)"),
        "vdim": Param("count", None, doc="PyTorch: the values' features, checked (self-attention: the input's)"),
        "batch_first": Param("bool", True, doc="PyTorch: changes no count (cnncalc's shapes have no batch axis)"),
    }
    torch_helpers = {"SelfAttention": SELF_ATTENTION_TORCH}
    keras_helpers = {"SelfAttention": SELF_ATTENTION_KERAS}
    # The reference PyTorch module is nn.MultiheadAttention(batch_first=True) called as torchvision's
    # ViT calls it, attn(x, x, x, need_weights=False); what the tools see depends on whether torch
    # takes its fused fast path (tests/test_conventions_oracle_activations.py).
    counting = {
        "fvcore": {"macs": projections},
        "calflops": {"macs": projections, "flops": twice_projections},
        "ptflops": {"macs": ptflops_attention},
        "thop": {"macs": Uncounted("thop counts nothing for nn.MultiheadAttention")},
        "torchinfo": {"macs": Uncounted("torchinfo counts nothing for nn.MultiheadAttention (its projections "
                                        "are weights, not modules it calls)")},
    }

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        e = features(x, layout)
        at = positions(x, layout)
        if not at:
            raise LayerError(f"multi_head_attention needs positions to attend over (a sequence L x E or an "
                             f"image), got a flat vector of {e:,} features", "shape-mismatch")
        for key in ("embed_dim", "kdim", "vdim"):
            if values[key] is not None and values[key] != e:
                raise LayerError(f"{key} {values[key]}, but its input has {e} features on its last axis "
                                 f"({x.text(layout)})", "shape-mismatch", key=key)
        h, dk, dv, e_out = dims(values, e)
        hdk, hdv = volume(h, dk), volume(h, dv)
        n = volume(*at, label="positions")
        s = plus(count(int(n), "positions"), 1 if values["add_bias_kv"] else 0, 1 if values["add_zero_attn"] else 0)
        qkv = plus(times(2, hdk), hdv)
        bias = values["bias"]
        params = plus(times(e, qkv, label="Q, K, V weights"), count(qkv, "Q, K, V biases") if bias else 0,
                      times(hdv, e_out, label="output weights"), count(e_out, "output biases") if bias else 0,
                      plus(hdk, hdv, label="bias_k, bias_v") if values["add_bias_kv"] else 0)
        scores, mix = times(h, n, s, dk, label="Q·Kᵀ"), times(h, n, s, dv, label="A·V")
        weights = times(h, n, s, label="attention weights")
        ops = {"mac": plus(times(n, e, qkv, label="Q, K, V projections"), scores, mix,
                           times(n, hdv, e_out, label="output projection")),
               "bias": plus(times(n, qkv), times(n, e_out)) if bias else plus(0),
               "mul": times(n, hdk, label="query scalings"),
               "exp": weights, "add": times(h, n, minus(s, 1), label="softmax sums"),
               "div": weights}
        sizes = {"heads · key_dim": hdk, "Q·Kᵀ MACs": scores, "A·V MACs": mix}
        return Result(with_features(x, layout, e_out), params, ops=ops, sizes=sizes, rf=ReceptiveStep.whole())

    @classmethod
    def torch(cls, site):
        values, e = site.values, features(site.x, site.layout)
        h, dk, dv, e_out = dims(values, e)
        if not h * dk == h * dv == e_out == e:
            raise Unsupported(f"PyTorch's MultiheadAttention projects to embed_dim = heads · key_dim = {e}; "
                              f"this layer has heads · key_dim {h * dk}, heads · value_dim {h * dv} and "
                              f"{e_out} output features (Keras only)")
        features_last = site.channels_first or site.x.flat
        return Call("SelfAttention", [pos("embed_dim", e), pos("num_heads", h), Arg("features_last", features_last, True),
                                      Arg("dropout", values["dropout"], 0.0), Arg("bias", values["bias"], True),
                                      Arg("add_bias_kv", values["add_bias_kv"], False),
                                      Arg("add_zero_attn", values["add_zero_attn"], False)])

    @classmethod
    def keras(cls, site):
        values, e = site.values, features(site.x, site.layout)
        for key in ("add_bias_kv", "add_zero_attn"):
            if values[key]:
                raise Unsupported(f"{key} (Keras's MultiHeadAttention has no such option)")
        h, dk, dv, e_out = dims(values, e)
        return [("", Call("SelfAttention", [pos("num_heads", h), pos("key_dim", dk), Arg("value_dim", dv, dk),
                                            Arg("dropout", values["dropout"], 0.0),
                                            Arg("use_bias", values["bias"], True),
                                            Arg("output_shape", e_out, e)]))]


def dims(values: dict, e: int) -> tuple[int, int, int, int]:
    """(heads, key_dim, value_dim, output features) for an input of `e` features; LayerError if
    key_dim is left to PyTorch's embed_dim / heads and that does not divide."""
    h = values["heads"]
    dk = values["key_dim"]
    if dk is None:
        if e % h:
            raise LayerError(f"{h} heads do not divide the input's {e} features (PyTorch: embed_dim must be "
                             "divisible by num_heads); change heads or give key_dim (Keras)", "invalid-value",
                             key="heads")
        dk = e // h
    dv = values["value_dim"] or dk
    return h, dk, dv, values["output_dim"] or e


LAYERS = [MultiHeadAttention]
