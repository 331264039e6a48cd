"""`cnncalc verify --framework keras`: every architecture and every spec feature against real Keras 3.

Keras is imported once for this module (it takes seconds); KERAS_BACKEND defaults to torch.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

import cnncalc
from cnncalc.cli import main

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from cnncalc.export import export  # noqa: E402
from cnncalc.export.verify import load_module, verify  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ARCHS = sorted(p.stem for p in (ROOT / "architectures").glob("*.yaml"))
SINKS = sorted((ROOT / "tests" / "data").glob("kitchen_sink_*.yaml"))


def analyse(path: Path):
    return cnncalc.analyse(path)


@pytest.mark.parametrize("arch", ARCHS)
def test_every_architecture_verifies_in_keras(arch):
    a = analyse(ROOT / "architectures" / f"{arch}.yaml")
    report = verify(a, "keras")
    assert report.mismatches == []
    assert len(report.rows) == len(a.layers)


@pytest.mark.parametrize("path", SINKS, ids=lambda p: p.stem)
def test_every_feature_verifies_in_keras(path):
    assert verify(analyse(path), "keras").mismatches == []


def test_keras_only_features_verify_in_keras():
    report = verify(analyse(ROOT / "tests" / "data" / "one_framework" / "keras_only.yaml"), "keras")
    assert report.mismatches == [] and len(report.rows) == 3


def test_batch_norm_counts_are_split_like_keras():
    """Keras keeps gamma/beta trainable and the moving mean/variance non-trainable (2·C each)."""
    a = analyse(ROOT / "architectures" / "resnet18.yaml")
    model = load_module(export(a, "keras").code, "resnet18").build_model()
    bn = model.get_layer("layer4_1_bn2")  # 512 channels
    assert [tuple(w.shape) for w in bn.trainable_weights] == [(512,), (512,)]
    assert [tuple(w.shape) for w in bn.non_trainable_weights] == [(512,), (512,)]
    assert model.count_params() == 11_689_512 + 9_600  # the spec's header: trainable + BN running stats


def test_lrn_matches_torch_values():
    """The generated LocalResponseNorm layer computes what torch.nn.LocalResponseNorm does."""
    torch = pytest.importorskip("torch")
    import numpy as np

    a = analyse(ROOT / "architectures" / "alexnet.yaml")
    module = load_module(export(a, "keras").code, "alexnet")
    layer = module.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0, axis=-1)
    x = np.random.default_rng(0).normal(size=(2, 4, 4, 7)).astype("float32") * 10
    ours = keras.ops.convert_to_numpy(layer(x))
    ref = torch.nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)(torch.from_numpy(x).permute(0, 3, 1, 2))
    np.testing.assert_allclose(ours, ref.permute(0, 2, 3, 1).numpy(), rtol=1e-5)


def test_ceil_mode_max_pool_matches_torch_values():
    """ceil_mode is emulated with -inf padding: same shape and same maxima as PyTorch."""
    torch = pytest.importorskip("torch")
    import numpy as np

    a = cnncalc.analyse(cnncalc.loads("input: [5, 5, 2]\nlayers:\n  - {type: max_pool2d, name: p, kernel: 2, ceil_mode: true}\n"))
    model = load_module(export(a, "keras").code, "pool").build_model()
    x = -np.arange(50, dtype="float32").reshape(1, 5, 5, 2)  # negative: zero padding would win
    ours = keras.ops.convert_to_numpy(model(x))
    ref = torch.nn.MaxPool2d(2, ceil_mode=True)(torch.from_numpy(x).permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    np.testing.assert_array_equal(ours, ref.numpy())


def test_verify_command_keras():
    r = CliRunner().invoke(main, ["verify", "architectures/hw_conv_760.yaml", "--framework", "keras"])
    assert r.exit_code == 0, r.output
    assert "760" in r.output and "1/1 layers agree with Keras" in r.output
