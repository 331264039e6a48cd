"""The exported code of graph specs computes what the hand-built models compute: the PyTorch export of
architectures/two_heads.yaml, given the hand-built module's weights, returns the same two tensors on
random inputs; a shared layer is one module (one Keras layer) called again; and verify notices an
export that gives a shared layer weights of its own."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import cnncalc  # noqa: E402
from cnncalc.export import export  # noqa: E402
from cnncalc.export.verify import load_module, verify  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_oracle_graphs import SPEC, TwoHeads, torch_path  # noqa: E402

SINK = Path(__file__).resolve().parent / "data" / "kitchen_sink_graphs.yaml"


def test_the_torch_export_computes_what_the_hand_built_module_computes():
    a = cnncalc.analyse(SPEC)
    e = export(a, "pytorch")
    model = getattr(load_module(e.code, "two_heads"), e.builder)().eval()
    reference = TwoHeads().eval()
    torch.manual_seed(0)
    for m in reference.modules():  # BN statistics too, so that a wrong wiring cannot hide behind zeros
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
    theirs = reference.state_dict()
    ours = {}
    for layer in a.layers:
        path, k = torch_path(layer.name)
        if k:  # a second call: no module of its own in either model
            assert e.names[layer.name] == e.names[path]
            continue
        for key in theirs:
            if key.startswith(path + "."):
                ours[e.names[layer.name] + key[len(path):]] = theirs[key]
    assert set(ours) == set(model.state_dict())  # each weight once: nothing for enc1_mask or enc2_mask
    model.load_state_dict(ours)
    image, mask = torch.randn(2, 3, 64, 64), torch.randn(2, 1, 64, 64)
    with torch.no_grad():
        got, want = model(image, mask), reference(image, mask)
    assert isinstance(got, tuple) and len(got) == 2
    for g, w in zip(got, want, strict=True):
        assert g.shape == w.shape and torch.allclose(g, w, atol=1e-5)


def test_verify_notices_a_shared_layer_with_weights_of_its_own(monkeypatch):
    import cnncalc.export.verify as v

    real = v.export

    def unshared(a, target, source=None):  # `stem_r` gets a copy of `stem` instead of calling it
        e = real(a, target, source)
        line = next(line for line in e.code.splitlines() if line.strip().startswith("self.stem = "))
        e.code = e.code.replace(line, line + "\n" + line.replace("self.stem =", "self.stem_r ="))
        e.code = e.code.replace("stem_r = self.stem(right)", "stem_r = self.stem_r(right)")
        e.names["stem_r"] = "stem_r"
        return e

    monkeypatch.setattr(v, "export", unshared)
    report = verify(cnncalc.analyse(SINK), "torch")
    (bad,) = report.mismatches
    assert (bad.name, bad.trainable, bad.got_trainable) == ("stem_r", 0, 112)
    assert report.totals == (577 + 112, 8) and not report.ok


def test_keras_calls_one_layer_object_for_a_shared_layer():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    pytest.importorskip("keras")
    a = cnncalc.analyse(SPEC)
    model = load_module(export(a, "keras").code, "two_heads_keras").build_model()
    assert model.count_params() == a.totals["params"]
    assert [i.name for i in model.inputs] == ["image", "mask"]
    assert [tuple(o.shape[1:]) for o in model.outputs] == [s for _, s in a.outputs]
    assert len(model.get_layer("enc1_conv1")._inbound_nodes) == 2  # image stream, then mask stream
    assert len(model.get_layer("bottleneck_conv1")._inbound_nodes) == 1
