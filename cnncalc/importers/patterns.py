"""Layers that the frameworks write as several operations, recognised by shapes alone: what the ONNX
reader and the PyTorch tracer share."""

from __future__ import annotations

from typing import Any

from .model import Mapped, Unmapped, unpack

# a padding mode (the spec's padding_mode names) → the spec's padding layer type, without its 1d/2d/3d
PAD_TYPES = {"zeros": "zero_pad", "constant": "constant_pad", "reflect": "reflection_pad",
             "replicate": "replication_pad", "circular": "circular_pad"}


def affine(scale: bool, center: bool) -> dict[str, Any]:
    """A normalisation's spec parameters for a learned scale γ and shift β that are there or not: both
    (the default), neither (`affine: false`), or one (`scale: false` / `center: false`)."""
    if not scale and not center:
        return {"affine": False}
    return {k: False for k, on in (("scale", scale), ("center", center)) if not on}


def shuffle_layer(a: tuple[int, ...] | None, b: tuple[int, ...] | None, c: tuple[int, ...] | None,
                  perm: list[int]) -> Mapped | None:
    """The layer that a reshape to b, a transpose by perm and a reshape to c compute on a tensor of shape a
    (batch first): torchvision's channel_shuffle, torch's pixel_unshuffle and pixel_shuffle; None for
    any other."""
    if a is None or b is None or c is None or len(a) < 3:
        return None
    rank = len(a)
    if len(b) == rank + 1 and c == a and b[0] == a[0] and b[1] * b[2] == a[1] and b[3:] == a[2:] \
            and perm == [0, 2, 1, *range(3, rank + 1)]:
        return "channel_shuffle", {"groups": b[1]}
    if rank == 4 and len(b) == 6:
        n, ch, h, w = a
        r = b[3]
        if r and b == (n, ch, h // r, r, w // r, r) and perm == [0, 1, 3, 5, 2, 4] and h % r == 0 and w % r == 0 \
                and c == (n, ch * r * r, h // r, w // r):
            return "pixel_unshuffle", {"factor": r}
        r = b[2]
        if r and b == (n, ch // (r * r), r, r, h, w) and perm == [0, 1, 4, 2, 5, 3] and ch % (r * r) == 0 \
                and c == (n, ch // (r * r), h * r, w * r):
            return "pixel_shuffle", {"factor": r}
    return None


def chunk_piece(channels: int, start: int, stop: int) -> Mapped:
    """Channels start:stop of `channels` as a piece of torch.chunk (pieces of ⌈C/chunks⌉, the last one
    smaller); Unmapped if they are no such piece."""
    size = stop - start
    if size < 1 or start < 0 or stop > channels:
        raise Unmapped(f"the channels {start}:{stop} of {channels}")
    # the piece size s: `size`, or for the last piece any larger s with start a multiple of it
    candidates = [size] if stop < channels else \
        [start // i for i in range(min(max(start // size, 1), 100_000), 0, -1) if start % i == 0 and start // i] + [size]
    for s in candidates:
        chunks = -(-channels // s)
        if s >= size and start % s == 0 and -(-channels // chunks) == s and min(start + s, channels) == stop:
            return "chunk", {"chunks": chunks, "index": start // s}
    raise Unmapped(f"the channels {start}:{stop} of {channels} (no piece of torch.chunk)")


def with_activation(layer: Mapped, act: Mapped) -> Mapped | None:
    """`layer` (a convolution or a dense layer) with the activation `act` that follows it as its
    `activation:` parameter, as cnncalc's PyTorch export writes a layer's activation= (an nn.Sequential
    of the layer and the activation at its defaults); None if the layer takes no activation, or `act` is
    no activation Keras's activation= names, or one with other settings or a note."""
    from ..errors import LayerError
    from ..layers import lookup
    from ..layers.activations import activation_type

    kind, params, note = unpack(layer)
    act_kind, act_params, act_note = unpack(act)
    try:
        cls = activation_type(act_kind)
    except LayerError:
        return None
    layer_type = lookup(kind)
    if act_note or any(v != cls.params[p].default for p, v in act_params.items() if p in cls.params) \
            or layer_type is None or "activation" not in layer_type.params:
        return None
    return kind, {**params, "activation": act_kind}, note
