"""Patch embedding (ViT): an image cut into p x p patches, each projected to `dim` features, as a
token sequence; and the selection of one token (ViT's class token) as the vector a head reads.

torchvision's VisionTransformer: `conv_proj` (a convolution with kernel = stride = p), the grid
flattened to L = (H/p)·(W/p) tokens of `dim` features, an optional learned class token in front
and an optional learned position embedding added (L + 1 tokens x dim). The output is tokens x dim
in the spec's layout, so that `dense`, `multi_head_attention` and a layer norm act on the features.
"""

from __future__ import annotations

from ..errors import LayerError
from .base import Layer, ReceptiveStep, Result, Tensor, need_spatial
from .count import count, plus, times, volume
from .geometry import windows
from .mapping import Arg, Call, pos, size
from .params import Param

PATCH_EMBEDDING_TORCH = '''class PatchEmbedding(nn.Module):
    """An image as tokens: p x p patches projected to `dim` features (torchvision's ViT conv_proj),
    a learned class token in front and a learned position embedding added, when asked for."""

    def __init__(self, in_channels: int, dim: int, patch, tokens: int, class_token: bool = False,
                 position_embedding: bool = False, bias: bool = True, features_last: bool = True):
        super().__init__()
        self.proj = nn.Conv2d(in_channels, dim, patch, stride=patch, bias=bias)
        self.class_token = nn.Parameter(torch.zeros(1, 1, dim)) if class_token else None
        pos = nn.Parameter(torch.zeros(1, tokens, dim)) if position_embedding else None
        self.pos_embedding = pos
        # False: (N, dim, tokens), a channels-last spec's tensor in PyTorch's layout
        self.features_last = features_last

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.proj(x).flatten(2).transpose(1, 2)
        if self.class_token is not None:
            x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)
        if self.pos_embedding is not None:
            x = x + self.pos_embedding
        return x if self.features_last else x.transpose(1, 2)
'''
PATCH_EMBEDDING_KERAS = '''class PatchEmbedding(keras.layers.Layer):
    """An image as tokens: p x p patches projected to `dim` features, a learned class token in front
    and a learned position embedding added, when asked for; output (N, tokens, dim)."""

    def __init__(self, dim, patch, class_token=False, position_embedding=False, use_bias=True,
                 data_format="channels_last", **kwargs):
        super().__init__(**kwargs)
        self.dim, self.class_token, self.position_embedding = dim, class_token, position_embedding
        self.patch, self.use_bias, self.data_format = patch, use_bias, data_format
        self.proj = keras.layers.Conv2D(dim, patch, strides=patch, use_bias=use_bias,
                                        data_format=data_format)

    def build(self, input_shape):
        self.proj.build(input_shape)
        grid = self.proj.compute_output_shape(input_shape)
        tokens = grid[1] * grid[2] if self.data_format == "channels_last" else grid[2] * grid[3]
        tokens += 1 if self.class_token else 0
        if self.class_token:
            self.cls = self.add_weight(shape=(1, 1, self.dim), initializer="zeros",
                                       name="class_token")
        if self.position_embedding:
            self.pos = self.add_weight(shape=(1, tokens, self.dim), initializer="zeros",
                                       name="pos_embedding")

    def call(self, x):
        x = self.proj(x)
        if self.data_format != "channels_last":
            x = ops.moveaxis(x, 1, -1)
        x = ops.reshape(x, (ops.shape(x)[0], -1, self.dim))
        if self.class_token:
            cls = ops.broadcast_to(self.cls, (ops.shape(x)[0], 1, self.dim))
            x = ops.concatenate([cls, x], axis=1)
        if self.position_embedding:
            x = x + self.pos
        return x

    def compute_output_shape(self, input_shape):
        grid = self.proj.compute_output_shape(input_shape)
        tokens = grid[1] * grid[2] if self.data_format == "channels_last" else grid[2] * grid[3]
        return (input_shape[0], tokens + (1 if self.class_token else 0), self.dim)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "patch": self.patch,
                "class_token": self.class_token, "position_embedding": self.position_embedding,
                "use_bias": self.use_bias, "data_format": self.data_format}
'''


class PatchEmbedding(Layer):
    group = "attention"
    name = "patch_embedding"
    aliases = ("patch_embed",)
    prefix = "patch_embed"
    family = "conv"  # the tools count its projection as the convolution it is
    doc = ("image to tokens: p x p patches projected to dim features (ViT's conv_proj), with an optional "
           "class token and learned position embedding")
    params = {
        "dim": Param("count", aliases=("embed_dim", "hidden_dim"), doc="features per token"),
        "patch": Param("size", aliases=("patch_size",), doc="patch size (the projection's kernel and stride)"),
        "class_token": Param("bool", False, doc="a learned token in front of the patches (dim parameters)"),
        "position_embedding": Param("bool", False, doc="a learned embedding added to every token (tokens·dim "
                                                       "parameters)"),
        "bias": Param("bool", True, aliases=("use_bias",), doc="bias of the projection"),
    }
    torch_helpers = {"PatchEmbedding": PATCH_EMBEDDING_TORCH}
    keras_helpers = {"PatchEmbedding": PATCH_EMBEDDING_KERAS}

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        sizes = need_spatial(x, 2, cls.name)
        p, dim = values["patch"], values["dim"]
        grid, warnings = windows(sizes, p, p, (1, 1), ((0, 0), (0, 0)))
        patches = volume(*(d.out for d in grid), label="patches")
        tokens = plus(patches, count(1, "class token") if values["class_token"] else 0)
        per_patch = volume(*p, x.c)
        bias = dim if values["bias"] else 0
        params = plus(times(dim, plus(per_patch, 1 if bias else 0)),
                      count(dim, "class token") if values["class_token"] else 0,
                      times(tokens, dim, label="position embedding") if values["position_embedding"] else 0)
        ops = {"mac": times(patches, dim, per_patch), "bias": times(patches, dim) if bias else plus(0),
               "add": times(tokens, dim, label="position additions") if values["position_embedding"] else plus(0)}
        # each patch token sees its p x p patch; a class token in front sees none of the image
        rf = ReceptiveStep.unknown() if values["class_token"] else ReceptiveStep(p, p, (0, 0))
        return Result(Tensor.from_dims((int(tokens), dim), layout), params, ops=ops,
                      sizes={"tokens": tokens}, windows=grid, rf=rf, warnings=warnings)

    @classmethod
    def torch(cls, site):
        values, y = site.values, site.output
        tokens = y.dims(site.layout)[0]
        return Call("PatchEmbedding", [
            pos("in_channels", site.x.c), pos("dim", values["dim"]), pos("patch", size(values["patch"])),
            pos("tokens", tokens), Arg("class_token", values["class_token"], False),
            Arg("position_embedding", values["position_embedding"], False), Arg("bias", values["bias"], True),
            Arg("features_last", site.channels_first, True)])

    @classmethod
    def keras(cls, site):
        values = site.values
        return [("", Call("PatchEmbedding", [
            pos("dim", values["dim"]), pos("patch", size(values["patch"])),
            Arg("class_token", values["class_token"], False),
            Arg("position_embedding", values["position_embedding"], False), Arg("use_bias", values["bias"], True),
            *site.data_format()]))]


SELECT_TOKEN_TORCH = '''class SelectToken(nn.Module):
    """One token of a sequence as a vector: x[:, index] (ViT's class token)."""

    def __init__(self, index: int = 0, features_last: bool = True):
        super().__init__()
        # False: (N, features, tokens), a channels-last spec's tensor in PyTorch's layout
        self.index, self.features_last = index, features_last

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.index] if self.features_last else x[:, :, self.index]
'''
SELECT_TOKEN_KERAS = '''class SelectToken(keras.layers.Layer):
    """One token of a sequence as a vector: x[:, index] (ViT's class token)."""

    def __init__(self, index=0, **kwargs):
        super().__init__(**kwargs)
        self.index = index

    def call(self, x):
        return x[:, self.index]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])

    def get_config(self):
        return {**super().get_config(), "index": self.index}
'''


class SelectToken(Layer):
    group = "attention"
    name = "select_token"
    aliases = ("class_token_output",)
    prefix = "token"
    doc = "one token of a tokens x features sequence as a vector, x[:, index] (ViT's class token)"
    params = {"index": Param("int", 0, doc="the token, from 0 (negative: from the end)")}
    torch_helpers = {"SelectToken": SELECT_TOKEN_TORCH}
    keras_helpers = {"SelectToken": SELECT_TOKEN_KERAS}

    @classmethod
    def rule(cls, values, inputs, layout):
        x = inputs[0]
        dims = x.dims(layout)
        if len(dims) != 2:
            raise LayerError(f"select_token needs a sequence (tokens x features), got {x.text(layout)}",
                             "shape-mismatch")
        tokens, features = dims
        if not -tokens <= values["index"] < tokens:
            raise LayerError(f"index {values['index']} is not one of the {tokens} tokens", "invalid-value",
                             key="index")
        return Result(Tensor(features), rf=ReceptiveStep.unknown())

    @classmethod
    def torch(cls, site):
        return Call("SelectToken", [Arg("index", site.values["index"], 0),
                                    Arg("features_last", site.channels_first, True)])

    @classmethod
    def keras(cls, site):
        return [("", Call("SelectToken", [Arg("index", site.values["index"], 0)]))]


LAYERS = [PatchEmbedding, SelectToken]
