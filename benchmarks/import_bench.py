"""`cnncalc import` figures, each against its target. Run from anywhere:

    python benchmarks/import_bench.py

1. Importing ResNet-50 from ONNX, as a user runs it (`cnncalc import resnet50.onnx -o ...`, a separate
   process): wall time (target < 2 s) and the process's peak RSS (target: below the ONNX file's size,
   since the weights are counted from their shapes, never read). The file is written first by
   torch.onnx.export from cnncalc's own PyTorch export of architectures/resnet50.yaml (real float32
   weights: the file is ~100 MB). Needs torch and onnx; else skipped.
2. Folding repeats: fold() on generated residual graphs of 1,000 and 10,000 layers (target: 10,000 in
   < 2 s, and linear: 10x the layers in about 10x the time).

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


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    os.chdir(ROOT)
    onnx_import()
    folding()
