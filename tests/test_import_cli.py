"""`cnncalc import` on the command line: outputs, model files in show/lint/diagram/export, and bad input
(each a one-line error with exit status 1 or 2, never a traceback, never a partly written file)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import pytest
from click.testing import CliRunner
from conftest import ROOT

import cnncalc
from cnncalc.cli import main

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

CAFFE = ROOT / "tests" / "data" / "caffe"


def run(*args: str):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output + result.stderr
    return result


def one_line_error(result, status):  # type: ignore[no-untyped-def]
    assert result.exit_code == status, result.output + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert " error: " in lines[0]
    return lines[0]


def small_model(op: str = "Relu", **attrs):  # type: ignore[no-untyped-def]
    """conv (3→8, 3x3, pad 1) → `op` → global average pool, on 3x16x16."""
    w = helper.make_tensor("w", TensorProto.FLOAT, [8, 3, 3, 3], [0.0] * 216)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node(op, ["c"], ["a"], name="act1", **attrs),
             helper.make_node("GlobalAveragePool", ["a"], ["y"], name="pool")]
    graph = helper.make_graph(nodes, "small", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "small.onnx"
    onnx.save(small_model(), str(path))
    return path


def test_import_writes_a_spec_that_analyses_to_the_model(model_file, tmp_path):
    out = tmp_path / "small.yaml"
    r = run("import", str(model_file), "-o", str(out))
    assert r.exit_code == 0
    assert "3 layers from ONNX; params 216" in r.stderr
    a = cnncalc.analyse(out)
    assert [(layer.name, layer.type, layer.output_shape) for layer in a.layers] == [
        ("conv1", "conv2d", (8, 16, 16)), ("act1", "relu", (8, 16, 16)), ("pool", "global_avg_pool2d", (8, 1, 1))]
    assert a.totals["params"] == 216 and a.totals["macs"] == 16 * 16 * 8 * 27
    assert a.layout == "channels_first"


def test_model_files_work_in_show_lint_diagram_and_export(model_file, tmp_path):
    r = run("show", str(model_file), "--format", "json")
    assert r.exit_code == 0
    doc = json.loads(r.stdout)
    assert doc["totals"]["params"] == 216 and doc["layers"][0]["name"] == "conv1"
    assert run("lint", str(model_file)).exit_code == 0
    svg = tmp_path / "small.svg"
    assert run("diagram", str(model_file), "-o", str(svg)).exit_code == 0 and svg.read_text().startswith("<svg")
    code = run("export", str(model_file), "--to", "pytorch").stdout
    assert "self.conv1 = nn.Conv2d(3, 8, kernel_size=3, padding=1, bias=False)" in code


def test_the_report_of_a_model_file_shows_the_imported_spec(model_file, tmp_path):
    """The page's source pane is the spec the import writes (its layers' lines point there), never the
    model file's bytes; --compare of two model files shows both."""
    from browser import embedded_data

    spec = tmp_path / "small.yaml"
    assert run("import", str(model_file), "-o", str(spec)).exit_code == 0
    out = tmp_path / "small.html"
    assert run("report", str(model_file), "-o", str(out), "--compare", str(model_file)).exit_code == 0
    data = embedded_data(out.read_text(encoding="utf-8"))
    for side in (data["report"], data["other"]):
        text = side["source"]["text"]
        body = [line for line in text.splitlines() if not line.startswith("#")]
        assert body == [line for line in spec.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
        lines = text.splitlines()
        assert [lines[n - 1].strip() for n in side["layer_lines"][0]] == [
            "- {type: conv2d, name: conv1, filters: 8, kernel: 3, padding: 1, bias: false}"]


def test_caffe_prototxt_in_show(tmp_path):
    pytest.importorskip("google.protobuf")
    r = run("show", str(CAFFE / "bvlc_alexnet.prototxt"), "--format", "json")
    assert r.exit_code == 0 and json.loads(r.stdout)["totals"]["params"] == 60_965_224


def test_unknown_op_names_the_node_its_type_and_place(tmp_path):
    path = tmp_path / "cos.onnx"
    onnx.save(small_model("Cos"), str(path))
    line = one_line_error(run("import", str(path)), 1)
    assert "node 1 (Cos 'act1')" in line and "[unknown-op]" in line and "--allow-unknown" in line
    assert line.startswith(str(path))
    one_line_error(run("show", str(path)), 1)


def test_allow_unknown_keeps_an_opaque_layer_and_warns_everywhere(tmp_path):
    path = tmp_path / "cos.onnx"
    onnx.save(small_model("Cos"), str(path))
    out = tmp_path / "cos.yaml"
    r = run("import", str(path), "--allow-unknown", "-o", str(out))
    assert r.exit_code == 0
    assert "act1 (Cos) is an opaque layer" in r.stderr and "[opaque-layer]" in r.stderr
    text = out.read_text()
    assert "# WARNING: act1 (Cos) is an opaque layer" in text
    assert "  - {type: opaque, name: act1, shape: [8, 16, 16]}  # Cos: not expressible, counted as 0\n" in text
    shown = run("show", str(out))
    assert "act1: opaque layer" in shown.stderr and "[opaque-layer]" in shown.stderr
    doc = json.loads(run("show", str(out), "-f", "json").stdout)
    assert [w["rule"] for w in doc["warnings"]] == ["opaque-layer"]
    assert doc["layers"][1]["params"] == 0 and doc["layers"][1]["output_shape"] == [8, 16, 16]
    assert run("lint", "--strict", str(out)).exit_code == 1
    exported = run("export", str(out), "--to", "pytorch")
    assert exported.exit_code == 1 and "[export-unsupported]" in exported.stderr


def test_pending_layer_types_say_what_they_await(tmp_path):
    path = tmp_path / "einsum.onnx"
    m = small_model("Einsum", equation="nchw->nchw")
    onnx.save(m, str(path))
    line = one_line_error(run("import", str(path)), 1)
    assert "awaits the layer type `matmul`" in line


@pytest.mark.parametrize("content, expect", [
    (b"name: not a model\n", "not an ONNX model"),
    (b"", "empty"),
    (b"\x3a\xff\xff\xff\xff\x0f", "not an ONNX model"),  # a graph field claiming 4 GB
])
def test_non_onnx_files_are_refused_with_one_line(tmp_path, content, expect):
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    line = one_line_error(run("import", str(path)), 2)
    assert expect in line


def test_truncated_onnx_is_refused(model_file, tmp_path):
    data = model_file.read_bytes()
    for cut in (len(data) // 2, len(data) - 3, 5):
        path = tmp_path / f"cut{cut}.onnx"
        path.write_bytes(data[:cut])
        line = one_line_error(run("import", str(path)), 2)
        assert "not an ONNX model, or a truncated one" in line or "no graph" in line


def test_protobuf_bombs_are_refused(tmp_path):
    """A graph of 300,000 empty nodes (600 KB), and a node nested 5,000 graphs deep (subgraph
    attributes): each refused with one line, without reading it all into objects."""
    many = tmp_path / "many.onnx"
    body = b"\x0a\x00" * 300_000  # GraphProto.node, empty, 300,000 times
    many.write_bytes(b"\x3a" + _varint(len(body)) + body)
    assert "entries" in one_line_error(run("import", str(many)), 1)
    deep = tmp_path / "deep.onnx"
    node = b""
    for _ in range(5_000):  # NodeProto.attribute(5) → AttributeProto.g(6) → GraphProto.node(1) → ...
        graph = b"\x0a" + _varint(len(node)) + node
        attr = b"\x32" + _varint(len(graph)) + graph
        node = b"\x2a" + _varint(len(attr)) + attr
    graph = b"\x0a" + _varint(len(node)) + node
    deep.write_bytes(b"\x3a" + _varint(len(graph)) + graph)
    one_line_error(run("import", str(deep)), 2)


def _varint(n: int) -> bytes:
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def test_output_is_written_whole_or_not_at_all(model_file, tmp_path):
    out = tmp_path / "out.yaml"
    out.write_text("keep me")
    bad = tmp_path / "cos.onnx"
    onnx.save(small_model("Cos"), str(bad))
    one_line_error(run("import", str(bad), "-o", str(out)), 1)
    assert out.read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".cnncalc")] == []
    line = one_line_error(run("import", str(model_file), "-o", str(model_file)), 2)
    assert "the model being imported" in line
    assert onnx.load(str(model_file)).graph.node[0].op_type == "Conv"


FACTORIES = '''
import torch
from torch import nn


class NeedsValues(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        if x.sum() > 0:  # control flow on the input's values
            return self.conv(x)
        return x


def needs_values():
    return NeedsValues()


def raises():
    raise ValueError("no such checkpoint: weights.pt")


def small(width=4):
    return nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.Flatten(),
                         nn.Linear(width * 8 * 8, 10))


class TwoInputs(nn.Module):
    """A stem per input, one encoder called on both (shared weights), two outputs."""

    def __init__(self):
        super().__init__()
        self.rgb = nn.Conv2d(3, 8, 3, padding=1)
        self.depth = nn.Conv2d(1, 8, 3, padding=1)
        self.encoder = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.ReLU())
        self.head = nn.Linear(8, 5)

    def forward(self, rgb, depth):
        a = self.encoder(self.rgb(rgb))
        b = self.encoder(self.depth(depth))
        return self.head(a.mean((2, 3))), self.head(b.mean((2, 3)))


def two_inputs():
    return TwoInputs()


open(__file__ + ".ran", "w").close()  # the marker: this module ran
'''


@pytest.fixture
def factories(tmp_path):
    pytest.importorskip("torch")
    path = tmp_path / "nets.py"
    path.write_text(FACTORIES)
    return path


def test_python_factory_from_a_file(factories):
    r = run("import", f"{factories}:small", "--input", "3x8x8", "--arg", "width=6")
    assert r.exit_code == 0, r.stderr
    a = cnncalc.analyse(cnncalc.loads(r.stdout, "small.yaml"))
    assert a.totals["trainable_params"] == 6 * 28 + 12 + 6 * 64 * 10 + 10
    assert a.totals["non_trainable_params"] == 12
    assert [layer.name for layer in a.layers] == ["0", "1", "2", "3", "4"]


def test_factory_of_two_inputs_takes_two_input_shapes(factories, tmp_path):
    out = tmp_path / "two.yaml"
    r = run("import", f"{factories}:two_inputs", "--input", "3x16x16", "--input", "1x16x16", "-o", str(out))
    assert r.exit_code == 0, r.stderr
    text = out.read_text()
    assert "# (regenerate: cnncalc import " in text and "--input 3x16x16 --input 1x16x16 -o " in text
    assert "\ninputs: {rgb: [3, 16, 16], depth: [1, 16, 16]}\noutputs: [head, head_1]\n" in text
    assert "{share: encoder.0, name: encoder.0_1}" in text and "{share: head, name: head_1" in text
    a = cnncalc.analyse(str(out))
    assert a.totals["params"] == (3 * 9 * 8 + 8) + (9 * 8 + 8) + (8 * 9 * 8 + 8) + (8 * 5 + 5)
    assert a.layer("encoder.0_1").macs == a.layer("encoder.0").macs == 8 * 9 * 8 * 16 * 16
    line = one_line_error(run("import", f"{factories}:two_inputs", "--input", "3x16x16"), 1)
    assert "forward takes 2 tensors (rgb, depth)" in line and "one --input per tensor" in line


def test_factory_problems_are_one_line(factories):
    assert "give it with --input" in one_line_error(run("import", f"{factories}:small"), 1)
    line = one_line_error(run("import", f"{factories}:raises", "--input", "3x8x8"), 1)
    assert "raised ValueError: no such checkpoint: weights.pt" in line
    line = one_line_error(run("import", f"{factories}:needs_values", "--input", "3x8x8"), 1)
    assert "cannot trace" in line and "values" in line
    assert "has no function or class" in one_line_error(run("import", f"{factories}:nothing", "--input", "3x8x8"), 2)


def test_torchvision_that_does_not_match_torch_says_what_to_install(tmp_path):
    """The CUDA build of torchvision beside CPU torch fails while importing, registering its C++ ops."""
    (tmp_path / "tvlike.py").write_text('raise RuntimeError("operator torchvision::nms does not exist")\n'
                                        "def net():\n    pass\n", encoding="utf-8")
    line = one_line_error(run("import", f"{tmp_path / 'tvlike.py'}:net", "--input", "3x8x8"), 1)
    assert "raised RuntimeError: operator torchvision::nms does not exist; torchvision's compiled operators" in line
    assert "install the torchvision release built for the installed torch" in line


def test_show_runs_no_code(factories):
    marker = factories.parent / "nets.py.ran"
    r = run("show", f"{factories}:small")
    assert r.exit_code == 2 and not marker.exists()


def test_keras_file_runs_no_code(tmp_path):
    """A .keras archive whose Lambda layer carries Python bytecode: refused, and the code never runs."""
    marker = tmp_path / "ran"
    config = {"module": "keras", "class_name": "Functional", "registered_name": "Functional", "config": {
        "name": "evil", "layers": [
            {"module": "keras.layers", "class_name": "InputLayer", "name": "x",
             "config": {"name": "x", "batch_shape": [None, 8, 8, 3]}, "inbound_nodes": []},
            {"module": "keras.layers", "class_name": "Lambda", "name": "evil",
             "config": {"name": "evil", "function": {"class_name": "__lambda__", "config": {
                 "code": f"open({str(marker)!r}, 'w')"}}},
             "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {
                 "shape": [None, 8, 8, 3], "keras_history": ["x", 0, 0]}}], "kwargs": {}}]}],
        "input_layers": [["x", 0, 0]], "output_layers": [["evil", 0, 0]]}}
    path = tmp_path / "evil.keras"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("config.json", json.dumps(config))
    line = one_line_error(run("import", str(path)), 1)
    assert "layer 1 (Lambda 'evil')" in line and not marker.exists()


def test_missing_framework_is_an_install_hint(model_file):
    code = ("import sys; sys.modules['onnx'] = None\n"
            "from cnncalc.cli import main\n"
            f"main(['import', {str(model_file)!r}])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        f"{model_file}:1:1: error: reading this file needs the onnx package, which is not installed; "
        "install it with: pip install 'cnncalc[onnx]' [unreadable]"]
