"""Export of convolution, pooling and padding: what only PyTorch expresses is verified in torch and is
a Keras export error naming it; R3D-18's module paths are torchvision's; and the exported padding
computes the frameworks' own values (causal as Keras, reflect SAME as torch's padding='same')."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import cnncalc
from cnncalc.export import export

ROOT = Path(__file__).resolve().parent.parent
TORCH_ONLY = ROOT / "tests" / "data" / "one_framework" / "torch_only_convpool.yaml"


def build_torch(text: str):
    from cnncalc.export.verify import load_module

    e = export(cnncalc.analyse(cnncalc.loads(text, "net.yaml")), "pytorch")
    return getattr(load_module(e.code, "net"), e.builder)().eval(), e.code


def test_every_layer_keras_cannot_express_is_reported():
    a = cnncalc.analyse(TORCH_ONLY)
    with pytest.raises(cnncalc.SpecError) as err:
        export(a, "keras")
    reported = [d.layer for d in err.value.diagnostics]
    assert reported == [layer.name for layer in a.layers if layer.type != "reshape"]
    assert all(d.rule == "export-unsupported" for d in err.value.diagnostics)
    messages = {d.layer: d.message for d in err.value.diagnostics}
    assert "padding_mode replicate (Keras convolutions pad with zeros only)" in messages["replicate3"]
    assert "reflection_pad3d: Keras has no such padding layer (only ZeroPadding1D/2D/3D)" in messages["reflect3"]
    assert "constant_pad2d with value 0.5: Keras pads only with zeros" in messages["const2"]


def test_torch_only_features_verify_in_torch():
    pytest.importorskip("torch")
    from cnncalc.export.verify import verify

    report = verify(cnncalc.analyse(TORCH_ONLY), "torch")
    assert report.mismatches == [] and len(report.rows) == 23


def test_r3d_18_module_paths_are_the_torchvision_state_dict_keys(torchvision):
    import torch

    from cnncalc.export.verify import load_module

    e = export(cnncalc.analyse(ROOT / "architectures" / "r3d_18.yaml"), "pytorch")
    with torch.device("meta"):
        model = getattr(load_module(e.code, "r3d_18"), e.builder)()
        reference = torchvision.models.video.r3d_18(weights=None)
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    model.load_state_dict(reference.state_dict(), assign=True)


def test_causal_export_computes_what_keras_computes():
    """The PyTorch export of Keras's causal Conv1D (a left zero pad, then the convolution) gives Keras's
    values with Keras's weights."""
    torch = pytest.importorskip("torch")
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    import numpy as np

    text = "input: [11, 2]\nlayers:\n  - {type: conv1d, name: c, filters: 3, kernel: 3, dilation: 2, padding: causal}\n"
    model, code = build_torch(text)
    assert "nn.ZeroPad1d((4, 0))" in code
    conv = keras.layers.Conv1D(3, 3, dilation_rate=2, padding="causal")
    x = np.random.default_rng(0).normal(size=(1, 11, 2)).astype("float32")
    want = keras.ops.convert_to_numpy(conv(x))
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in conv.weights)
    with torch.no_grad():
        model.c[1].weight.copy_(torch.from_numpy(kernel.transpose(2, 1, 0).copy()))
        model.c[1].bias.copy_(torch.from_numpy(bias))
        got = model(torch.from_numpy(x).permute(0, 2, 1)).permute(0, 2, 1).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_same_padding_with_a_mode_computes_torchs_padding_same(mode, nd):
    """SAME with an even kernel pads one more at the end: exported as the mode's pad module and an
    unpadded convolution, it equals torch's own Conv(padding='same', padding_mode=mode)."""
    torch = pytest.importorskip("torch")
    size = [5, 6, 4][:nd]
    text = (f"input: {[2, *size]}\nlayout: channels_first\nlayers:\n"
            f"  - {{type: conv{nd}d, name: c, filters: 3, kernel: 4, padding: same, padding_mode: {mode}}}\n")
    model, code = build_torch(text)
    assert f"{ {'reflect': 'Reflection', 'replicate': 'Replication', 'circular': 'Circular'}[mode]}Pad{nd}d" in code
    ref = getattr(torch.nn, f"Conv{nd}d")(2, 3, 4, padding="same", padding_mode=mode).eval()
    with torch.no_grad():
        model.c[1].weight.copy_(ref.weight)
        model.c[1].bias.copy_(ref.bias)
        x = torch.randn(1, 2, *size, generator=torch.Generator().manual_seed(0))
        torch.testing.assert_close(model(x), ref(x))


def test_pad_layer_sides_are_exported_last_dim_first():
    torch = pytest.importorskip("torch")
    text = ("input: [2, 5, 6]\nlayout: channels_first\nlayers:\n"
            "  - {type: reflection_pad2d, name: p, padding: [[3, 4], [1, 2]]}\n")
    model, code = build_torch(text)
    assert "nn.ReflectionPad2d((1, 2, 3, 4))" in code
    x = torch.randn(1, 2, 5, 6, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(model(x), torch.nn.functional.pad(x, (1, 2, 3, 4), mode="reflect"))


def test_imported_pad_layers_keep_pytorchs_sides(tmp_path):
    """nn.ZeroPad2d((1, 2, 3, 4)) pads left 1, right 2, top 3, bottom 4: `cnncalc import` writes the
    sides as pairs, which read one way only, and the spec has torch's shape."""
    torch = pytest.importorskip("torch")
    from click.testing import CliRunner

    from cnncalc.cli import main

    (tmp_path / "nets.py").write_text("from torch import nn\n\n\ndef make():\n"
                                      "    return nn.Sequential(nn.ZeroPad2d((1, 2, 3, 4)), nn.Conv2d(3, 4, 3))\n")
    out = tmp_path / "net.yaml"
    r = CliRunner().invoke(main, ["import", f"{tmp_path / 'nets.py'}:make", "--input", "3x10x12", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "padding: [[3, 4], [1, 2]]" in out.read_text()
    want = torch.nn.ZeroPad2d((1, 2, 3, 4))(torch.zeros(1, 3, 10, 12)).shape[1:]
    assert cnncalc.analyse(out).layers[0].output_shape == tuple(want)
