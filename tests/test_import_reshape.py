"""Import of the resizing, rearranging, cropping, statistics, Keras preprocessing and merging layers.

Round trips: a spec holding every form of them (tests/data/import_reshape_first.yaml), U-Net and
ShuffleNet V2 exported to PyTorch, then read back through ONNX (torch's exporter) and torch.fx (the
factory importer), and the channels_last kitchen sink through Keras; each must analyse to the
original's per-layer shapes, trainable and non-trainable params and MACs, as the same layer types,
and pass `verify`. Single ONNX graphs and PyTorch modules pin the mappings: DepthToSpace's two orders,
Resize's coordinate modes, Split's pieces, GroupNormalization's opsets, stored weights against
constants, and the bounded evaluation of computed sizes."""

from __future__ import annotations

import os
import warnings

import pytest
from conftest import ARCH, ROOT

import cnncalc
from cnncalc import importers
from cnncalc.export import export
from cnncalc.export.verify import load_module, verify

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from test_import_onnx import compare, to_onnx  # noqa: E402

from cnncalc.importers.factory import read_module  # noqa: E402
from cnncalc.importers.model import ImportFailure, Options  # noqa: E402

SPEC = ROOT / "tests" / "data" / "import_reshape_first.yaml"
SINK = ROOT / "tests" / "data" / "kitchen_sink_reshape.yaml"
# what the ONNX graph fixes that the spec computes: a crop_or_pad's target size is a constant of the Pad
ONNX_TYPES = {"fit": "crop2d", "grow": "zero_pad2d", "meet": "zero_pad2d", "up_keras": "upsample", "up_bl": "upsample",
              "resize": "upsample", "back": "permute"}
FX_TYPES = {"up_keras": "upsample", "resize": "upsample", "back": "permute"}
# Keras's own layers for torch's resizes; a GroupNormalization of one channel per group (instance_norm's
# groups=-1, which Keras saves as groups = the channels, and gn3's 8 groups of 8 channels) reads back as instance_norm
KERAS_TYPES = {"up_nearest": "upsampling2d", "up_bilinear": "resizing", "up_exact": "resizing", "back": "permute",
               "up3_torch": "upsampling3d", "gn3": "instance_norm"}


def same_types(a, b, names, changed):  # type: ignore[no-untyped-def]
    by_name = {layer.name: layer for layer in b.layers}
    for layer in a.layers:
        got = by_name.get(names[layer.name])
        if got is not None:
            assert got.type == changed.get(layer.name, layer.type), layer.name


def test_every_form_round_trips_through_onnx(tmp_path):
    a = cnncalc.analyse(SPEC)
    path = tmp_path / "forms.onnx"
    e = to_onnx(a, path)
    imp = importers.read(str(path))
    text, b = importers.to_spec(imp)
    compare(a, b, e.names)
    assert len(b.layers) == len(a.layers)
    same_types(a, b, e.names, ONNX_TYPES)
    notes = {n.name: n.note for n in imp.nodes}
    assert notes["d2s"] == ""  # torch's pixel_shuffle is DepthToSpace in CRD order
    assert notes["fit"] == "a Pad by negative amounts: a crop"
    assert "the count Keras also keeps is not" in notes["norm"]
    assert b.layer("fit").params == a.layer("fit").params == 0
    assert b.layer("norm_c").non_trainable_params == 0 and b.layer("norm").non_trainable_params == 8 + 8 + 1
    assert b.layer("up_aligned").type == "upsample" and "align_corners: true" in text
    report = verify(b, "torch")
    assert report.ok, [r.name for r in report.mismatches]


def test_torchvision_shufflenet_through_onnx(torchvision, tmp_path):
    """torchvision's own ShuffleNet V2 x1.0 written by torch.onnx.export: both chunks of a unit are Slices
    of one module, channel_shuffle a function; the import has the shipped spec's totals and types."""
    model = torchvision.models.shufflenet_v2_x1_0(weights=None).eval()
    path = tmp_path / "shufflenet.onnx"
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(1, 3, 224, 224),), str(path), dynamo=False, do_constant_folding=False)
    _, a = importers.to_spec(importers.read(str(path)))
    shipped = cnncalc.analyse(ARCH / "shufflenet_v2.yaml")
    assert a.totals == shipped.totals and a.totals["trainable_params"] == 2_278_604
    assert sorted(layer.type for layer in a.layers) == sorted(layer.type for layer in shipped.layers)


def built(a):  # type: ignore[no-untyped-def]
    """The spec's PyTorch export, built on the meta device, and the export's names."""
    e = export(a, "pytorch")
    module = load_module(e.code, "cnncalc_export_fx")
    with torch.device("meta"):
        return getattr(module, e.builder)(), e


@pytest.mark.parametrize("path", [SPEC, ARCH / "unet.yaml", ARCH / "shufflenet_v2.yaml"], ids=lambda p: p.stem)
def test_round_trip_through_the_factory(path):
    a = cnncalc.analyse(path)
    model, e = built(a)
    text, b = importers.to_spec(read_module(model, str(path), Options(tuple(e.input_shape)), path.stem))
    compare(a, b, e.names)
    assert len(b.layers) == len(a.layers)
    same_types(a, b, e.names, FX_TYPES if path == SPEC else {})
    assert b.totals["params"] == sum(p.numel() for p in model.parameters()) + sum(
        x.numel() for n, x in model.named_buffers() if not n.endswith("num_batches_tracked"))
    report = verify(b, "torch")
    assert report.ok, [r.name for r in report.mismatches]


def test_kitchen_sink_round_trips_through_keras(tmp_path):
    """UpSampling1D/2D/3D, Resizing, Cropping1D/2D/3D, LayerNormalization, GroupNormalization,
    Normalization, Rescaling, Subtract, Maximum, Minimum, Average, Permute and cnncalc's own layers."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    pytest.importorskip("keras")
    a = cnncalc.analyse(SINK)
    e = export(a, "keras")
    module = load_module(e.code, "cnncalc_export_keras_sink")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = getattr(module, e.builder)()
    path = tmp_path / "sink.keras"
    model.save(path)
    text, b = importers.to_spec(importers.read(str(path)))
    by_name = {layer.name: layer for layer in b.layers}
    for layer in a.layers:
        got = by_name[e.names[layer.name]]
        assert (got.output_shape, got.trainable_params, got.non_trainable_params, got.macs, got.type) == \
            (layer.output_shape, layer.trainable_params, layer.non_trainable_params, layer.macs,
             KERAS_TYPES.get(layer.name, layer.type)), layer.name
    assert b.totals["params"] == a.totals["params"] == model.count_params()
    report = verify(b, "keras")
    assert report.ok, [r.name for r in report.mismatches]


# ---- single ONNX graphs ------------------------------------------------------------------------------

def graph(nodes, inits=(), shape=(1, 8, 6, 6), opset=20):  # type: ignore[no-untyped-def]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
                          [helper.make_tensor_value_info(nodes[-1].output[-1], TensorProto.FLOAT, None)],
                          list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def imported(model, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "g.onnx"
    onnx.save(model, str(path))
    imp = importers.read(str(path))
    text, a = importers.to_spec(imp)
    return imp, a


def failure(model, tmp_path) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / "g.onnx"
    onnx.save(model, str(path))
    with pytest.raises(ImportFailure) as err:
        importers.to_spec(importers.read(str(path)))
    (d,) = err.value.diagnostics
    assert "\n" not in d.message
    return d.message


def const(name, values, dtype=TensorProto.INT64):  # type: ignore[no-untyped-def]
    return helper.make_node("Constant", [], [name], value=helper.make_tensor(name + "_v", dtype, [len(values)],
                                                                              values))


@pytest.mark.parametrize("mode, note", [("CRD", ""), ("DCR", "DCR order")])
def test_depth_to_space_either_order_is_a_pixel_shuffle(mode, note, tmp_path):
    imp, a = imported(graph([helper.make_node("DepthToSpace", ["x"], ["y"], blocksize=2, mode=mode)]), tmp_path)
    (node,) = imp.nodes
    assert (node.type, node.params, a.layers[0].output_shape) == ("pixel_shuffle", {"factor": 2}, (2, 12, 12))
    assert (note in node.note) if note else node.note == ""


@pytest.mark.parametrize("node, message", [
    (helper.make_node("DepthToSpace", ["x"], ["y"], blocksize=3), "DepthToSpace with blocksize 3 of a 8x6x6 tensor"),
    (helper.make_node("SpaceToDepth", ["x"], ["y"], blocksize=4), "SpaceToDepth with blocksize 4 of a 8x6x6 tensor"),
    (helper.make_node("GroupNormalization", ["x", "g", "g"], ["y"], num_groups=3),
     "GroupNormalization into 3 groups of 8 channels"),
])
def test_sizes_the_layer_cannot_take_are_refused_as_the_source_s(node, message, tmp_path):
    """Not "please report this as a cnncalc bug": the file itself is at fault."""
    g = numpy_helper.from_array(__import__("numpy").ones(8, dtype="float32"), "g")
    got = failure(graph([node], [g], opset=21), tmp_path)
    assert message in got and "bug" not in got


def test_a_tensor_merged_with_itself(tmp_path):
    imp, a = imported(graph([helper.make_node("Sub", ["x", "x"], ["y"])]), tmp_path)
    assert (imp.nodes[0].type, imp.nodes[0].inputs, a.layers[0].macs) == ("subtract", ["input", "input"], 0)


def test_space_to_depth_is_a_pixel_unshuffle_in_another_order(tmp_path):
    imp, a = imported(graph([helper.make_node("SpaceToDepth", ["x"], ["y"], blocksize=3)]), tmp_path)
    assert (imp.nodes[0].type, a.layers[0].output_shape) == ("pixel_unshuffle", (72, 2, 2))
    assert "TensorFlow" in imp.nodes[0].note


@pytest.mark.parametrize("attrs, expect", [
    ({"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"},
     {"mode": "nearest"}),
    ({"mode": "nearest", "coordinate_transformation_mode": "half_pixel", "nearest_mode": "round_prefer_ceil"},
     {"mode": "nearest-exact"}),
    ({"mode": "linear", "coordinate_transformation_mode": "align_corners"},
     {"mode": "bilinear", "align_corners": True}),
    ({"mode": "cubic", "coordinate_transformation_mode": "pytorch_half_pixel"}, {"mode": "bicubic"}),
])
def test_resize_modes(attrs, expect, tmp_path):
    scales = numpy_helper.from_array(__import__("numpy").array([1, 1, 1.5, 2], dtype="float32"), "scales")
    imp, a = imported(graph([helper.make_node("Resize", ["x", "", "scales"], ["y"], **attrs)], [scales]), tmp_path)
    node = imp.nodes[0]
    assert node.type == "upsample" and node.note == ""
    assert node.params == {"scale_factor": [1.5, 2], **expect}
    assert a.layers[0].output_shape == (8, 9, 12)


@pytest.mark.parametrize("opset", [7, 9])
def test_upsample_of_the_old_opsets(opset, tmp_path):
    np = __import__("numpy")
    if opset == 7:
        nodes, inits = [helper.make_node("Upsample", ["x"], ["y"], mode="linear", scales=[1.0, 1.0, 2.0, 3.0])], []
    else:
        inits = [numpy_helper.from_array(np.array([1, 1, 2, 3], dtype="float32"), "scales")]
        nodes = [helper.make_node("Upsample", ["x", "scales"], ["y"], mode="linear")]
    imp, a = imported(graph(nodes, inits, opset=opset), tmp_path)
    assert imp.nodes[0].params == {"scale_factor": [2, 3], "mode": "bilinear"}
    assert a.layers[0].output_shape == (8, 12, 18)


def test_resize_to_sizes_with_tensorflow_coordinates_keeps_a_note(tmp_path):
    nodes = [const("sizes", [1, 8, 7, 5]),
             helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode="linear",
                              coordinate_transformation_mode="tf_half_pixel_for_nn")]
    imp, a = imported(graph(nodes), tmp_path)
    assert imp.nodes[0].params == {"size": [7, 5], "mode": "bilinear"} and "tf_half_pixel_for_nn" in imp.nodes[0].note
    assert a.layers[0].output_shape == (8, 7, 5) and a.layers[0].macs == 0


def test_split_gives_a_chunk_for_each_piece_read(tmp_path):
    nodes = [helper.make_node("Split", ["x"], ["a", "b", "c"], axis=1, num_outputs=3),
             helper.make_node("Concat", ["a", "c"], ["y"], axis=1)]
    imp, a = imported(graph(nodes, shape=(1, 8, 4, 4), opset=18), tmp_path)
    chunks = [n for n in imp.nodes if n.type == "chunk"]
    assert [(n.params, n.shape) for n in chunks] == [({"chunks": 3, "index": 0}, (3, 4, 4)),
                                                     ({"chunks": 3, "index": 2}, (2, 4, 4))]
    assert imp.nodes[-1].inputs == [chunks[0].name, chunks[1].name]


def test_an_unequal_split_is_refused(tmp_path):
    split = numpy_helper.from_array(__import__("numpy").array([1, 7]), "sizes")
    nodes = [helper.make_node("Split", ["x", "sizes"], ["a", "b"], axis=1), helper.make_node("Relu", ["b"], ["y"])]
    message = failure(graph(nodes, [split]), tmp_path)
    assert "node 0 (Split)" in message and "a split of the channels into [1, 7]" in message


def test_a_pad_that_crops_and_pads_is_refused(tmp_path):
    pads = numpy_helper.from_array(__import__("numpy").array([0, 0, -1, 1, 0, 0, -1, 1]), "pads")
    message = failure(graph([helper.make_node("Pad", ["x", "pads"], ["y"])], [pads]), tmp_path)
    assert "crops some sides and pads others" in message


def test_arithmetic_with_constants_that_is_no_keras_layer_is_refused(tmp_path):
    np = __import__("numpy")
    two = numpy_helper.from_array(np.array([2.0], dtype="float32"), "two")
    assert "Div by a constant" in failure(graph([helper.make_node("Div", ["x", "two"], ["y"])], [two]), tmp_path)
    gamma = numpy_helper.from_array(np.ones((8, 6, 1), dtype="float32"), "gamma")
    message = failure(graph([helper.make_node("Mul", ["x", "gamma"], ["y"])], [gamma]), tmp_path)
    assert "stored tensor 'gamma'" in message  # learned, but not one scale per position of one axis


@pytest.mark.parametrize(("shape", "params"), [((8, 1, 1), {}), ((6,), {"axis": -1}), ((1, 6, 1), {"axis": 2})])
def test_a_stored_scale_of_one_axis_is_a_layer_scale(tmp_path, shape, params):
    """torchvision's CNBlock.layer_scale (C x 1 x 1) and a γ broadcast along another axis: C learned scales."""
    gamma = numpy_helper.from_array(__import__("numpy").ones(shape, dtype="float32"), "gamma")
    imp, a = imported(graph([helper.make_node("Mul", ["x", "gamma"], ["y"])], [gamma]), tmp_path)
    assert (imp.nodes[0].type, imp.nodes[0].params) == ("layer_scale", params)
    assert (a.totals["trainable_params"], a.layers[0].output_shape) == (max(shape), (8, 6, 6))


def test_a_constant_scale_is_a_rescaling(tmp_path):
    nodes = [helper.make_node("Constant", [], ["s"], value=numpy_helper.from_array(
        __import__("numpy").array([0.5], dtype="float32"))), helper.make_node("Mul", ["s", "x"], ["y"])]
    imp, a = imported(graph(nodes), tmp_path)
    assert (imp.nodes[0].type, imp.nodes[0].params, a.totals["params"]) == ("rescaling", {"scale": 0.5}, 0)


@pytest.mark.parametrize("opset, scale, ok", [(21, 8, True), (18, 2, False)])
def test_group_normalization_counts_torchs_per_channel_weights(opset, scale, ok, tmp_path):
    np = __import__("numpy")
    inits = [numpy_helper.from_array(np.ones(scale, dtype="float32"), "g"),
             numpy_helper.from_array(np.zeros(scale, dtype="float32"), "b")]
    model = graph([helper.make_node("GroupNormalization", ["x", "g", "b"], ["y"], num_groups=2, epsilon=1e-3)],
                  inits, opset=opset)
    if ok:
        imp, a = imported(model, tmp_path)
        assert imp.nodes[0].params == {"groups": 2, "eps": 0.001} and a.totals["trainable_params"] == 16
    else:
        assert "per group" in failure(model, tmp_path)


def test_normalisations_learn_only_their_stored_weights(tmp_path):
    np = __import__("numpy")
    ones = helper.make_node("Constant", [], ["ones"], value=numpy_helper.from_array(np.ones(8, dtype="float32")))
    zeros = helper.make_node("Constant", [], ["zeros"], value=numpy_helper.from_array(np.zeros(8, dtype="float32")))
    gamma = numpy_helper.from_array(np.ones(6, dtype="float32"), "gamma")
    nodes = [ones, zeros, helper.make_node("InstanceNormalization", ["x", "ones", "zeros"], ["i"]),
             helper.make_node("LayerNormalization", ["i", "gamma"], ["y"], axis=-1, epsilon=1e-6)]
    imp, a = imported(graph(nodes, [gamma], opset=17), tmp_path)
    assert [(n.type, n.params, n.weights) for n in imp.nodes] == [
        ("instance_norm", {"eps": 1e-5}, 0),
        ("layer_norm", {"normalized_shape": [6], "eps": 1e-6, "center": False}, 6)]
    assert [layer.params for layer in a.layers] == [0, 6]


@pytest.mark.parametrize("side, value", [(100, 10_000), (10_000, None)])
def test_computed_sizes_are_bounded(side, value):
    """A value is computed only from small tensors: a ConstantOfShape of 10⁸ elements is never made."""
    from cnncalc.importers.onnx_fold import Folder

    nodes = [const("shape", [side, side]), helper.make_node("ConstantOfShape", ["shape"], ["ones"], value=
                                                            helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])),
             helper.make_node("ReduceSum", ["ones"], ["s"], keepdims=0)]
    g = graph(nodes, shape=(1, 2), opset=18).graph
    folder = Folder(g, [helper.make_opsetid("", 18)], {}, {"x"})
    got = folder.value("s")
    assert (None if got is None else int(got)) == value


# ---- PyTorch modules ---------------------------------------------------------------------------------

class Pieces(torch.nn.Module):
    """torchvision's ShuffleNet V2 unit, without weights: chunk, cat, channel_shuffle as a function."""

    def forward(self, x):  # type: ignore[no-untyped-def]
        a, b = x.chunk(2, dim=1)
        y = torch.cat((a, torch.nn.functional.interpolate(b, scale_factor=1)), dim=1)
        n, c, h, w = y.size()
        y = y.view(n, 2, c // 2, h, w)
        y = torch.transpose(y, 1, 2).contiguous()
        y = y.view(n, -1, h, w)
        return torch.maximum(y, torch.sub(x, y))


class Whole(torch.nn.Module):
    def forward(self, x):  # type: ignore[no-untyped-def]
        return torch.cat(x.chunk(2, dim=1), dim=1)


class Batch(torch.nn.Module):
    def forward(self, x):  # type: ignore[no-untyped-def]
        return x.permute(1, 0, 2, 3)


def test_functional_calls_are_layers():
    text, a = importers.to_spec(read_module(Pieces(), "pieces", Options((4, 6, 6)), "pieces"))
    assert [(layer.name, layer.type) for layer in a.layers] == [
        ("chunk", "chunk"), ("chunk_2", "chunk"), ("interpolate", "upsample"), ("cat", "concat"),
        ("channel_shuffle", "channel_shuffle"), ("sub", "subtract"), ("maximum", "maximum")]
    assert a.layer("chunk_2").output_shape == (2, 6, 6) and a.layer("sub").inputs == ["input", "channel_shuffle"]


@pytest.mark.parametrize("module, message", [
    (Whole(), "reads every piece of a chunk at once"),
    (Batch(), "moves the batch axis"),
])
def test_functional_calls_without_a_layer_are_refused(module, message):
    with pytest.raises(ImportFailure) as err:
        importers.to_spec(read_module(module, "m", Options((4, 6, 6)), "m"))
    assert message in err.value.diagnostics[0].message


def test_convnext_layer_norm_2d_is_one_layer_norm_over_the_channels(torchvision):
    """torchvision's LayerNorm2d: permute, F.layer_norm over the last axis, permute back."""
    from torchvision.models.convnext import LayerNorm2d

    with torch.device("meta"):
        model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 1), LayerNorm2d(8, eps=1e-6))
    text, a = importers.to_spec(read_module(model, "m", Options((3, 5, 5)), "m"))
    assert "{type: layer_norm, name: '1', axis: [1], eps: 1.0e-06}" in text
    assert a.layer("1").trainable_params == 16 == sum(p.numel() for p in model[1].parameters())


def test_modules_of_torch_nn():
    nn = torch.nn
    with torch.device("meta"):
        model = nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                              nn.UpsamplingNearest2d(size=(13, 14)), nn.UpsamplingBilinear2d(scale_factor=2),
                              nn.PixelUnshuffle(2), nn.ChannelShuffle(4), nn.PixelShuffle(2),
                              nn.GroupNorm(2, 4), nn.InstanceNorm2d(4, affine=True, track_running_stats=True),
                              nn.LayerNorm([28], bias=False))
    text, a = importers.to_spec(read_module(model, "m", Options((4, 6, 7)), "m"))
    assert [(layer.type, layer.output_shape, layer.trainable_params, layer.non_trainable_params)
            for layer in a.layers] == [
        ("upsample", (4, 12, 14), 0, 0), ("upsample", (4, 13, 14), 0, 0), ("upsampling_bilinear2d", (4, 26, 28), 0, 0),
        ("pixel_unshuffle", (16, 13, 14), 0, 0), ("channel_shuffle", (16, 13, 14), 0, 0),
        ("pixel_shuffle", (4, 26, 28), 0, 0), ("group_norm", (4, 26, 28), 8, 0), ("instance_norm", (4, 26, 28), 8, 8),
        ("layer_norm", (4, 26, 28), 28, 0)]
    assert "{type: layer_norm, name: '8', normalized_shape: [28], center: false}" in text


@pytest.mark.parametrize(("inputs", "weight", "message"), [
    (["w", "x"], (4, 5), "node 0 (MatMul): MatMul: the stored weight 'w' times a computed tensor"),
    (["x", "w"], (8,), "node 0 (MatMul): MatMul: a matrix product with a weight of 1 dimension"),
    (["x", "w"], (1, 8, 3), "node 0 (MatMul): MatMul: a matrix product with a weight of 3 dimensions"),
])
def test_a_matmul_by_a_weight_that_is_no_dense_layer_says_why(tmp_path, inputs, weight, message):
    """Dense multiplies the last axis by a 2-D weight; a weight in front (it multiplies the tensor's
    positions) or of another rank is refused, and the message says which."""
    w = numpy_helper.from_array(__import__("numpy").ones(weight, dtype="float32"), "w")
    got = failure(graph([helper.make_node("MatMul", inputs, ["y"])], [w], shape=(1, 5, 8)), tmp_path)
    assert got.startswith(message), got
