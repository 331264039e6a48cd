"""Transposed convolution (torch.nn.ConvTranspose1d/2d/3d, Keras Conv1DTranspose/2D/3D).

Output size per dim: (I − 1)·S − P + D·(K − 1) + 1 + output_padding with explicit padding (PyTorch);
Keras's `same` gives I·S and its `valid` I·S + max(K − S, 0), which differs from padding 0 when K < S.
Every input value meets every tap it scatters to: MACs = inputs · C_out/groups · K.
"""

from __future__ import annotations

from typing import ClassVar

from ..errors import LayerError, Unsupported
from .activations import fused_keras, fused_torch, with_activation
from .base import Layer, ReceptiveStep, Result, Tensor, need_spatial
from .conv import BIAS, FILTERS, GROUPS, KERNEL, check_in_channels
from .count import count, minus, plus, times, volume
from .geometry import DIM_NAMES
from .mapping import Arg, Call, pos, sequence, size, symmetric
from .params import Param


class ConvTranspose2d(Layer):
    group = "convolution"
    name = "conv_transpose2d"
    aliases: ClassVar[tuple[str, ...]] = ("deconv2d", "conv2d_transpose", "ConvTranspose2d", "Conv2DTranspose",
                                          "Convolution2DTranspose")
    prefix = "deconv"
    family = "conv_transpose"
    doc = "transposed convolution (torch.nn.ConvTranspose2d, Keras Conv2DTranspose)"
    params = {**FILTERS, **KERNEL, "padding": Param("tpadding", 0, doc="int, one per dim, sides, a [begin, end] pair "
                                                    "per dim, 'same' or 'valid' (Keras)"),
              "output_padding": Param("size0", 0), **GROUPS, **BIAS}

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        sizes = need_spatial(x, cls.ndim, cls.name)
        check_in_channels(values, x)
        c_in, c_out, g = x.c, values["filters"], values["groups"]
        for what, c in (("input channels", c_in), ("filters", c_out)):
            if c % g:
                raise LayerError(f"groups {g} must divide the {what} ({c})", "invalid-value", key="groups")
        if values["bias"] == "per_position":
            raise LayerError(f"per_position bias is not supported on {cls.name}", "invalid-value", key="bias")
        derived = {}
        for i, dim in enumerate(DIM_NAMES[cls.ndim]):
            n, k, s, d, op = sizes[i], values["kernel"][i], values["stride"][i], values["dilation"][i], values["output_padding"][i]
            k_eff = d * (k - 1) + 1
            if op >= max(s, d):
                raise LayerError(f"output_padding {op} must be smaller than stride or dilation", "invalid-value",
                                 key="output_padding")
            if op and isinstance(values["padding"], str):
                raise LayerError(f"output_padding does not combine with padding '{values['padding']}' (Keras fixes the "
                                 "output size for it); use integer padding", "invalid-value", key="output_padding")
            if values["padding"] == "same":  # Keras: the forward SAME conv of the output gives the input back
                o = volume(n, s, label="(SAME)")
            elif values["padding"] == "valid":  # Keras deconv_output_length
                o = plus(volume(n, s), max(k_eff - s, 0), label="(VALID)")
            else:
                pb, pe = values["padding"][i]
                o = minus(plus(volume(minus(n, 1), s), k_eff, op), pb + pe)
            if o < 1:
                raise LayerError(f"output size along {dim} would be {o}; reduce padding", "nonpositive-size",
                                 key="padding")
            derived[f"{dim}_out"] = o
        out = Tensor(c_out, tuple(int(o) for o in derived.values()))
        weights = times(c_in, c_out // g, volume(*values["kernel"]))
        return with_activation(Result(out, plus(weights, c_out if values["bias"] else 0),
                      ops={"mac": times(count(x.numel, "inputs"), volume(c_out // g, *values["kernel"])),
                           "bias": volume(*out.spatial, c_out) if values["bias"] else count(0)},
                      sizes=derived,
                      rf=ReceptiveStep.unknown()), values, layout)  # a fractional stride fits no (kernel, stride, pad) step

    @classmethod
    def torch(cls, site):
        values, x = site.values, site.x
        pads, out_pad = [], []
        for i in range(len(x.spatial)):
            k, s, d, op = values["kernel"][i], values["stride"][i], values["dilation"][i], values["output_padding"][i]
            if values["padding"] == "same":  # PyTorch: out = (I−1)·S − 2P + D·(K−1) + OP + 1 must equal I·S
                need = d * (k - 1) + 1 - s
                pb = max(0, -(-need // 2))
                op = 2 * pb - need
                if need < 0 or op >= max(s, d):
                    raise Unsupported(f"padding 'same' with kernel {k} and stride {s} has no PyTorch "
                                      f"ConvTranspose{cls.ndim}d padding/output_padding equivalent")
                pads.append((pb, pb))
            elif values["padding"] == "valid":  # Keras: I·S + max(K − S, 0); PyTorch padding 0 adds K − S
                pads.append((0, 0))
                op = max(s - (d * (k - 1) + 1), 0)  # < S always, so PyTorch accepts it
            else:
                pads.append(values["padding"][i])
            out_pad.append(op)
        if not symmetric(pads):
            raise Unsupported(f"asymmetric padding {pads} on {cls.name} cannot be expressed in PyTorch")
        return sequence(Call(f"nn.ConvTranspose{cls.ndim}d", [
            pos("in_channels", x.c), pos("out_channels", values["filters"]), Arg("kernel_size", size(values["kernel"])),
            Arg("stride", size(values["stride"]), 1), Arg("padding", size(b for b, _ in pads), 0),
            Arg("output_padding", size(out_pad), 0), Arg("groups", values["groups"], 1),
            Arg("dilation", size(values["dilation"]), 1), Arg("bias", values["bias"] is True, True)]),
            fused_torch(values))

    @classmethod
    def keras(cls, site):
        values = site.values
        nd = cls.ndim
        if values["groups"] != 1:
            raise Unsupported(f"groups on {cls.name} (Keras Conv{nd}DTranspose has no groups)")
        common = [pos("filters", values["filters"]), pos("kernel_size", size(values["kernel"])),
                  Arg("strides", size(values["stride"]), 1)]
        tail = [*site.data_format(), Arg("dilation_rate", size(values["dilation"]), 1), Arg("use_bias", values["bias"], True),
                *fused_keras(values)]
        if values["padding"] in ("same", "valid"):
            if any(values["output_padding"]):
                raise Unsupported(f"output_padding with padding '{values['padding']}' on {cls.name}")
            return [("", Call(f"layers.Conv{nd}DTranspose", [*common, Arg("padding", values["padding"], "valid"), *tail]))]
        # Keras has no explicit padding here: a VALID transposed conv, then crop what PyTorch's padding removes
        pads = list(values["padding"])
        conv = Call(f"layers.Conv{nd}DTranspose", [*common, Arg("output_padding", size(values["output_padding"])),
                                                   *tail])
        if not any(b or e for b, e in pads):
            return [("", conv)]
        cropping = pads[0] if nd == 1 else tuple(pads)
        return [("conv", conv), ("", Call(f"layers.Cropping{nd}D", [pos("cropping", cropping), *site.data_format()]))]


class ConvTranspose1d(ConvTranspose2d):
    name = "conv_transpose1d"
    aliases = ("deconv1d", "conv1d_transpose", "ConvTranspose1d", "Conv1DTranspose", "Convolution1DTranspose")
    doc = "1-D transposed convolution (torch.nn.ConvTranspose1d, Keras Conv1DTranspose)"
    ndim = 1


class ConvTranspose3d(ConvTranspose2d):
    name = "conv_transpose3d"
    aliases = ("deconv3d", "conv3d_transpose", "ConvTranspose3d", "Conv3DTranspose", "Convolution3DTranspose")
    doc = "3-D transposed convolution (torch.nn.ConvTranspose3d, Keras Conv3DTranspose)"
    ndim = 3


LAYERS = [ConvTranspose2d, ConvTranspose1d, ConvTranspose3d]
