"""`cnncalc import` figures, each against its target. Run from anywhere:

    python benchmarks/import_bench.py

1. Importing ResNet-50 from ONNX, as a user runs it (`cnncalc import resnet50.onnx -o ...`, a separate
   process): wall time (target < 2 s) and the process's peak RSS (target: below the ONNX file's size,
   since the weights are counted from their shapes, never read). The file is written first by
   torch.onnx.export from cnncalc's own PyTorch export of architectures/resnet50.yaml (real float32
   weights: the file is ~100 MB). Needs torch and onnx; else skipped.
2. Folding repeats: fold() on generated residual graphs of 1,000 and 10,000 layers (target: 10,000 in
   < 2 s, and linear: 10x the layers in about 10x the time).
3. Structure search: an ONNX graph of 500 and of 3,000 self-attention blocks written node by node (16
   nodes each: 8,000 and 48,000 nodes, the latter near the 50,000 nodes cnncalc imports), read by
   importers.read (target: linear, 6x the blocks in about 6x the time). Needs onnx; else skipped.

Times are the minimum over repetitions. This prints figures; nothing here fails a build.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def onnx_import() -> None:
    import importlib.util

    # not imported here: a child's peak RSS on Linux starts from its parent's at fork
    if importlib.util.find_spec("torch") is None or importlib.util.find_spec("onnx") is None:
        print("1. ONNX import: skipped (needs torch and onnx)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "resnet50.onnx"
        writer = (
            "import sys, warnings, torch; warnings.simplefilter('ignore'); import cnncalc\n"
            "from cnncalc.export import export\nfrom cnncalc.export.verify import load_module\n"
            "e = export(cnncalc.analyse('architectures/resnet50.yaml'), 'pytorch')\n"
            "m = getattr(load_module(e.code, 'm'), e.builder)().eval()\n"
            f"torch.onnx.export(m, (torch.zeros(1, 3, 224, 224),), {str(model)!r}, dynamo=False, "
            "do_constant_folding=False)\n")
        subprocess.run([sys.executable, "-c", writer], cwd=ROOT, check=True, capture_output=True)
        size = model.stat().st_size
        # each run a fresh process that reports its own peak RSS (its children's would include the writer)
        wrapper = ("import resource, sys\nfrom cnncalc.cli import main\ntry:\n    main(sys.argv[1:])\n"
                   "except SystemExit as e:\n    code = e.code\n"
                   "print('peak', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n")
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", wrapper, "import", str(model), "-o", str(Path(tmp) / "r.yaml")],
                                 cwd=ROOT, capture_output=True, text=True)
            wall = time.perf_counter() - start
            assert out.returncode == 0 and "peak" in out.stderr, out.stderr
            peak = int(out.stderr.split("peak ")[-1])
            runs.append((wall, peak))
        wall = min(r[0] for r in runs)
        peak_kib = max(r[1] for r in runs)
        probe = subprocess.run([sys.executable, "-c", "import resource, onnx, onnx.shape_inference, cnncalc.cli; "
                                "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"],
                               capture_output=True, text=True, check=True)
        base_kib = int(probe.stdout)
        print(f"1. cnncalc import resnet50.onnx ({size / 2**20:.1f} MiB): {wall:.2f} s (target < 2 s "
              f"{'ok' if wall < 2 else 'MISSED'}); peak RSS {peak_kib / 1024:.1f} MiB (target < file size "
              f"{'ok' if peak_kib * 1024 < size else 'MISSED'}; python + onnx + cnncalc alone: {base_kib / 1024:.1f} MiB)")
        out.stderr = out.stderr.split("peak ")[0]
        print(f"   {out.stderr.strip()}")


def folding() -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from test_import_fold import residual_net

    from cnncalc.importers.fold import fold

    times = {}
    for blocks in (143, 1428):  # 1,000 and 10,000 layers (7 per block, a stem and a head)
        imp = residual_net([(blocks, 16, 1)])
        best = min(_timed(lambda imp=imp: fold(imp.nodes)) for _ in range(3))
        times[len(imp.nodes)] = best
    (n1, t1), (n2, t2) = sorted(times.items())
    print(f"2. fold {n2:,} layers: {t2 * 1000:.0f} ms (target < 2 s {'ok' if t2 < 2 else 'MISSED'}); "
          f"{n1:,} layers: {t1 * 1000:.0f} ms; ratio {t2 / t1:.1f}x for {n2 / n1:.0f}x the layers")


def attention_graph(blocks: int):  # type: ignore[no-untyped-def]
    """`blocks` self-attentions in a chain (5 tokens of 8 features, 2 heads, no biases), as ONNX nodes."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    inits = [numpy_helper.from_array(np.array([1, 5, 2, 4], dtype="int64"), "heads"),
             numpy_helper.from_array(np.array([1, 5, 8], dtype="int64"), "merged"),
             numpy_helper.from_array(np.array(2.0, dtype="float32"), "scale")]
    nodes, x = [], "x"
    for i in range(blocks):
        p = f"b{i}_"
        inits += [numpy_helper.from_array(np.zeros((8, 8), dtype="float32"), p + t) for t in "qkvo"]
        for t, perm in (("q", [0, 2, 1, 3]), ("k", [0, 2, 3, 1]), ("v", [0, 2, 1, 3])):
            nodes += [helper.make_node("MatMul", [x, p + t], [p + t + "p"]),
                      helper.make_node("Reshape", [p + t + "p", "heads"], [p + t + "r"]),
                      helper.make_node("Transpose", [p + t + "r"], [p + t + "h"], perm=perm)]
        nodes += [helper.make_node("MatMul", [p + "qh", p + "kh"], [p + "s"]),
                  helper.make_node("Div", [p + "s", "scale"], [p + "d"]),
                  helper.make_node("Softmax", [p + "d"], [p + "a"], axis=-1),
                  helper.make_node("MatMul", [p + "a", p + "vh"], [p + "m"]),
                  helper.make_node("Transpose", [p + "m"], [p + "t"], perm=[0, 2, 1, 3]),
                  helper.make_node("Reshape", [p + "t", "merged"], [p + "mm"]),
                  helper.make_node("MatMul", [p + "mm", p + "o"], [p + "y"])]
        x = p + "y"
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 5, 8])],
                          [helper.make_tensor_value_info(x, TensorProto.FLOAT, None)], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 20)])


def attention_search() -> None:
    try:
        import onnx
    except ImportError:
        print("3. skipped: onnx is not installed")
        return
    from cnncalc import importers

    times = {}
    with tempfile.TemporaryDirectory() as tmp:
        for blocks in (500, 3000):
            path = Path(tmp) / f"a{blocks}.onnx"
            onnx.save(attention_graph(blocks), str(path))
            times[blocks] = min(_timed(lambda path=path: importers.read(str(path))) for _ in range(2))
    (n1, t1), (n2, t2) = sorted(times.items())
    print(f"3. read {n2:,} attention blocks ({16 * n2:,} nodes): {t2:.2f} s; {n1:,} blocks: {t1:.2f} s; "
          f"ratio {t2 / t1:.1f}x for {n2 / n1:.0f}x the blocks")


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    os.chdir(ROOT)
    onnx_import()
    folding()
    attention_search()
