"""The report page's size and speed (issue: "See it and compare it"), printed next to the targets:

    python benchmarks/report.py            # about a minute
    python benchmarks/report.py --quick

- ResNet-50's page: bytes (< 1 MB) and `cnncalc report` wall time as a user runs it (< 1 s), with the
  in-process build time beside it;
- 10,000-layer pages (a residual block repeated 1,000 times, and 10,000 layers written out): from the
  start of navigation to interactive in headless Chromium (< 3 s), as the page measures it
  (`performance.now()` when it is drawn), and the time one click then takes to show a layer.

Times are the minimum over repetitions. The browser rows need Debian's chromium and chromedriver and
selenium (else "skipped"). A script that prints, not a test: nothing here fails a build.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from run import flat_spec, residual_spec  # noqa: E402  (the generated specs of benchmarks/run.py)


def row(label: str, value: str, target: str = "", ok: bool | None = None) -> None:
    mark = "" if ok is None else (" ✓" if ok else " ✗")
    print(f"  {label:<66} {value:>20}   {target}{mark}")


def cli_time(args: list[str], repeat: int) -> float:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "cnncalc", *args], check=True, capture_output=True, env=env)
        best = min(best, time.perf_counter() - start)
    return best


def build_time(spec: Path, repeat: int) -> tuple[float, int]:
    import cnncalc
    from cnncalc.report import read_source, report_html

    best, size = float("inf"), 0
    for _ in range(repeat):
        start = time.perf_counter()
        html = report_html(cnncalc.analyse(spec), source=read_source(str(spec)))
        best = min(best, time.perf_counter() - start)
        size = len(html.encode("utf-8"))
    return best, size


def browser_rows(pages: dict[str, Path], repeat: int) -> None:
    from browser import Browser, missing

    why = missing()
    if why:
        row("browser rows", "skipped", why)
        return
    for label, page in pages.items():
        opened, script, click = [], [], []
        for _ in range(repeat):
            b = Browser(1440, 900)  # a fresh profile each time: nothing cached
            try:
                b.open(page, timeout=120)
                errors = b.errors()
                if errors:
                    print("    console:", errors[:3])
                opened.append(int(b.js("return document.documentElement.getAttribute('data-ready-ms')")) / 1000)
                script.append(int(b.js("return document.documentElement.getAttribute('data-script-ms')")) / 1000)
                click.append(b.js("""var n = document.querySelector('.table-pane tr[data-layer]'); var t = performance.now();
                    n.dispatchEvent(new MouseEvent('click', {bubbles: true}));
                    return (performance.now() - t) / 1000;"""))
            finally:
                b.close()
        t = min(opened)
        row(f"{label}: open → interactive", f"{t * 1000:.0f} ms", "< 3 s", t < 3)
        row(f"{label}:   of which the page script", f"{min(script) * 1000:.0f} ms")
        row(f"{label}:   a click on a table row", f"{min(click) * 1000:.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    repeat = 2 if args.quick else 5
    resnet = ROOT / "architectures" / "resnet50.yaml"
    print("cnncalc report")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "resnet50.html"
        wall = cli_time(["report", str(resnet), "-o", str(out)], repeat)
        size = out.stat().st_size
        row("ResNet-50 page size", f"{size:,} B", "< 1 MB", size < 1_000_000)
        row("cnncalc report resnet50.yaml (whole command)", f"{wall * 1000:.0f} ms", "< 1 s", wall < 1)
        t, _ = build_time(resnet, repeat)
        row("  of which analysis + page, in process", f"{t * 1000:.0f} ms")
        cmp_out = Path(tmp) / "cmp.html"
        wall = cli_time(["report", str(resnet), "--compare", str(ROOT / "architectures" / "se_resnet50.yaml"),
                         "-o", str(cmp_out)], repeat)
        row("ResNet-50 --compare SE-ResNet-50: size, time", f"{cmp_out.stat().st_size:,} B, {wall * 1000:.0f} ms")
        pages = {}
        for name, label, text in (("residual", "10,000 layers (1,000 residual blocks)", residual_spec(10_000)),
                                  ("flat", "10,000 layers written out", flat_spec(10_000))):
            spec = Path(tmp) / (name + ".yaml")
            spec.write_text(text)
            page = spec.with_suffix(".html")
            wall = cli_time(["report", str(spec), "-o", str(page)], 1)
            row(f"{label}: page size, write time", f"{page.stat().st_size / 1e6:.1f} MB, {wall:.2f} s")
            pages[label] = page
        pages["ResNet-50"] = out
        browser_rows(pages, repeat=1 if args.quick else 3)
    return 0


if __name__ == "__main__":
    sys.exit(main())
