"""Every hostile spec against every command: answered or refused within 2 s and 300 MB. Run:

    python benchmarks/hostile.py            # prints one row per spec and command

Each command runs in a process of its own, started as a user starts it (`python -m cnncalc ...`),
with its output going to /dev/null; the wall time and the peak resident memory (ru_maxrss of that
process) are printed next to the exit status and, for a refusal, the first line of its message.
This is a script that prints figures, not a test: nothing here fails a build (the limits
themselves are tested in tests/test_hardening.py, tests/test_limits.py and tests/test_worked_limits.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
TIME_LIMIT = 2.0  # seconds
MEMORY_LIMIT = 300  # MB


def dense_adds(size: int = 300, repeat: int = 300) -> str:
    """One block of `size` layers where each add reads every earlier layer, used `repeat` times."""
    layers = [{"type": "relu", "name": "l0"}]
    for k in range(1, size):
        layers.append({"type": "add", "name": f"l{k}", "inputs": ["input", *(f"l{j}" for j in range(k))]})
    return json.dumps({"name": "dense adds", "input": "4x4x2", "blocks": {"b": {"layers": layers}},
                       "layers": [{"block": "b", "repeat": repeat}]})


def widest_within_limits(repeat: int = 100) -> str:
    """10,000 layers and 100,000 connections, both limits, from a block of 100 layers: a chain of 10
    relus, then a chain of 90 adds each reading the one before and all 10 relus, used 100 times."""
    relus = [{"type": "relu", "name": f"r{i}"} for i in range(10)]
    adds = [{"type": "add", "name": f"a{k}", "inputs": ["input" if k == 0 else f"a{k - 1}", *(f"r{i}" for i in range(10))]}
            for k in range(90)]
    return json.dumps({"name": "100,000 connections", "input": "4x4x2", "blocks": {"b": {"layers": [*relus, *adds]}},
                       "layers": [{"block": "b", "repeat": repeat}]})


def deepest_within_limits(n: int = 10_000) -> str:
    """10,000 layers, the limit, written out: convolutions, batch norms and relus with names."""
    kinds = [{"type": "conv2d", "filters": 8, "kernel": 3, "padding": 1}, {"type": "batch_norm"}, {"type": "relu"}]
    layers = [{**kinds[i % 3], "name": f"stage{i // 300}.layer{i}"} for i in range(n)]
    return json.dumps({"name": "10,000 layers", "input": "16x16x8", "layers": layers})


def residual_blocks(n: int = 1000) -> str:
    """10,000 layers made by `repeat` of a 10-layer residual block."""
    return f"""name: 10,000 residual layers
input: [56, 56, 64]
blocks:
  res:
    layers:
      - {{type: conv2d, name: c1, filters: 16, kernel: 1, bias: false}}
      - {{type: batch_norm, name: b1}}
      - {{type: relu, name: r1}}
      - {{type: conv2d, name: c2, filters: 16, kernel: 3, padding: 1, bias: false}}
      - {{type: batch_norm, name: b2}}
      - {{type: relu, name: r2}}
      - {{type: conv2d, name: c3, filters: 64, kernel: 1, bias: false}}
      - {{type: batch_norm, name: b3}}
      - {{type: add, name: add, inputs: [b3, input]}}
      - {{type: relu, name: out}}
layers:
  - {{block: res, name: s, repeat: {n}}}
"""


def long_name(chars: int) -> str:
    """A network name of `chars` characters full of characters a terminal, CI log or renderer acts on."""
    piece = "\x1b]8;;https://e.example\x1b\\[link=x]a[/link]\n::error::f\u202e<script>|`"
    return json.dumps({"name": piece * (chars // len(piece)), "input": "8x8x3", "layers": ["relu"]})


SPECS = {
    "300-layer dense-add block x300": dense_adds(),
    "relu, repeat: 99999": json.dumps({"input": "8x8x3", "layers": [{"type": "relu", "repeat": 99999}]}),
    "2048x2048x64 input": json.dumps({"input": "2048x2048x64", "layers": [
        {"type": "conv2d", "filters": 64, "kernel": 3, "padding": 1}, "relu",
        {"type": "conv2d", "filters": 64, "kernel": 3, "padding": 1}]}),
    "10,000 layers written out": deepest_within_limits(),
    "10,000 layers by repeat": residual_blocks(),
    "100,000 connections": widest_within_limits(),
    "600,000-char hostile name": long_name(600_000),
    "900,000-char name, over 1 MiB": long_name(900_000),
}

SPEC_COMMANDS = {
    "show": ["show", "{f}"],
    "show json": ["show", "{f}", "-f", "json"],
    "show markdown": ["show", "{f}", "-f", "markdown"],
    "show csv": ["show", "{f}", "-f", "csv"],
    "show --explain": ["show", "{f}", "--explain", "-f", "markdown"],
    "lint": ["lint", "{f}"],
    "lint github": ["lint", "--format", "github", "{f}"],
    "check": ["check", "{f}"],
    "diagram svg": ["diagram", "{f}"],
    "diagram mermaid": ["diagram", "{f}", "-f", "mermaid"],
    "export torch": ["export", "{f}", "--to", "pytorch"],
    "export keras": ["export", "{f}", "--to", "keras"],
}
VERIFY = {"2048x2048x64 input": ["verify", "{f}"]}  # verify of the others builds real models: not hostile
CALCULATORS = {
    "conv --values, padding 2000": ["conv", "--values", "1 2; 3 4", "--kernel-values", "1", "--padding", "2000"],
    "pool --values, 4M window": ["pool", "--values", "1 2; 3 4", "--kernel", "4000000", "--padding", "2000000"],
    "conv --values, largest allowed": ["conv", "--values", ";".join([" ".join(["7"] * 100)] * 100),
                                       "--kernel-values", ";".join([" ".join(["1"] * 10)] * 10), "--padding", "4",
                                       "--explain"],
    "size, 400 digits": ["size", "9" * 400, "3", "1"],
    "solve, 400 digits": ["solve", "--input", "9" * 400, "--kernel", "3", "--output", "5"],
    "solve, largest sizes": ["solve", "--input", str(1 << 24), "--kernel", "1", "--output", "1"],
    "conv, 2^24 input": ["conv", "-i", f"{1 << 24}x{1 << 24}x3", "-n", "64", "-k", "3", "--explain"],
}


def run(args: list[str]) -> tuple[float, float, float, int, str]:
    """(seconds, CPU seconds, peak MB, exit status, first line of stderr) of `python -m cnncalc ARGS`."""
    with tempfile.TemporaryFile() as err, open(os.devnull, "wb") as out:
        start = time.perf_counter()
        p = subprocess.Popen([PY, "-m", "cnncalc", *args], stdout=out, stderr=err, cwd=ROOT)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        err.seek(0)
        first = err.read(2000).decode("utf-8", "replace").split("\n", 1)[0]
    peak = usage.ru_maxrss / 1024 if sys.platform != "darwin" else usage.ru_maxrss / 2**20
    return seconds, usage.ru_utime + usage.ru_stime, peak, p.returncode, first


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for spec, text in SPECS.items():
            path = Path(tmp, "spec.yaml")
            path.write_text(text, encoding="utf-8")
            size = len(text.encode())
            commands = {**SPEC_COMMANDS, **({"verify": VERIFY[spec]} if spec in VERIFY else {})}
            for name, args in commands.items():
                rows.append((f"{spec} ({size / 1024:,.0f} KiB)", name, *run([a.format(f=path) for a in args])))
                print_row(rows[-1])
        for name, args in CALCULATORS.items():
            rows.append(("calculator", name, *run(args)))
            print_row(rows[-1])
    slow = [r for r in rows if r[2] >= TIME_LIMIT or r[4] >= MEMORY_LIMIT]
    print(f"\n{len(rows)} runs; {len(rows) - len(slow)} within {TIME_LIMIT:.0f} s and {MEMORY_LIMIT} MB; "
          f"tracebacks: {sum('Traceback' in r[6] for r in rows)}; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs")
    for r in slow:
        print(f"  over a limit: {r[0]} / {r[1]}: {r[2]:.2f} s ({r[3]:.2f} s CPU), {r[4]:.0f} MB")


def print_row(r: tuple) -> None:
    spec, command, seconds, cpu, peak, status, first = r
    mark = "" if seconds < TIME_LIMIT and peak < MEMORY_LIMIT else "  <-- over"
    what = "answered" if status == 0 else f"exit {status}: {first[:80]}"
    print(f"{spec[:40]:40} {command:30} {seconds:5.2f} s {cpu:5.2f} CPU {peak:4.0f} MB  {what}{mark}", flush=True)


if __name__ == "__main__":
    main()
