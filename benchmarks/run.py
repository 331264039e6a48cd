"""cnncalc's speed figures, each against its target. Run from anywhere:

    python benchmarks/run.py            # about a minute
    python benchmarks/run.py --quick    # fewer repetitions

cnncalc's own dependencies are enough; torch + torchinfo add the comparison rows (else "skipped").
Every figure comes from separate processes started the way a user starts them; times are the
minimum over repetitions (the least disturbed run), CPU time is user + system of the child.
Start-up is measured against the floor of cnncalc's own stack (a process that only imports click
and PyYAML, and rich for the table), not against a bare interpreter; the breakdown section shows
where the rest of the time goes. This is a script that prints ratios, not a test: nothing here
fails a build.
"""

from __future__ import annotations

import argparse
import compileall
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

# one residual block of 10 layers (bottleneck: 1x1, 3x3, 1x1 convs with batch norm, add, relu)
RESIDUAL_SPEC = """\
name: generated residual stack
input: [64, 56, 56]
layout: channels_first
blocks:
  res:
    layers:
      - {type: conv2d, name: conv1, filters: 16, kernel: 1, bias: false}
      - {type: batch_norm, name: bn1}
      - {type: relu, name: relu1}
      - {type: conv2d, name: conv2, filters: 16, kernel: 3, padding: 1, bias: false}
      - {type: batch_norm, name: bn2}
      - {type: relu, name: relu2}
      - {type: conv2d, name: conv3, filters: 64, kernel: 1, bias: false}
      - {type: batch_norm, name: bn3}
      - {type: add, name: add, inputs: [bn3, input]}
      - {type: relu, name: relu3}
layers:
  - {block: res, name: stage, repeat: %d}
"""


def residual_spec(layers: int) -> str:
    return RESIDUAL_SPEC % (layers // 10)


def flat_spec(layers: int) -> str:
    """The same kind of network written out layer by layer: the YAML itself grows with the depth."""
    lines = ["name: generated flat stack", "input: [64, 56, 56]", "layout: channels_first", "layers:"]
    for i in range(layers):
        lines.append("  - {type: conv2d, filters: 64, kernel: 3, padding: 1}" if i % 2 == 0 else "  - relu")
    return "\n".join(lines) + "\n"


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    for var in ("FORCE_COLOR", "TTY_COMPATIBLE", "PYTHONPROFILEIMPORTTIME", "PYTHONTRACEMALLOC"):
        env.pop(var, None)
    return env


ENV = child_env()


def run(cmd: list[str], tty: bool = False, env: dict[str, str] = ENV, columns: int = 200, status: int = 0,
        ) -> tuple[float, float, subprocess.CompletedProcess | None]:
    """(wall seconds, child CPU seconds, result) of one run; stdout to a pipe, or a pty `columns` wide.
    A piped run must exit with `status`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    if tty:
        proc = None
        _run_in_pty(cmd, env, columns)
    else:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True)
        if proc.returncode != status:
            raise RuntimeError(f"{' '.join(cmd)} exited with {proc.returncode}, not {status}:\n{proc.stderr.decode()[-2000:]}")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc


def _run_in_pty(cmd: list[str], env: dict[str, str] = ENV, columns: int = 200) -> str:
    """Run with stdout on a pty `columns` wide; returns stderr."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    drained = threading.Thread(target=_drain, args=(master,), daemon=True)
    drained.start()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=slave, stderr=subprocess.PIPE)
    finally:
        os.close(slave)
    drained.join(5)
    os.close(master)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr.decode()[-2000:]}")
    return proc.stderr.decode()


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass


class Timing:
    def __init__(self, walls: list[float], cpus: list[float]):
        self.wall = min(walls)
        self.median = statistics.median(walls)
        self.cpu = min(cpus)

    def __str__(self) -> str:
        return f"{ms(self.wall)} (median {ms(self.median)}, CPU {ms(self.cpu)})"


def timed(cmd: list[str], repeat: int, tty: bool = False, env: dict[str, str] = ENV, status: int = 0) -> Timing:
    return timed_together({"x": cmd}, repeat, tty, {"x": env}, status=status)["x"]


def timed_together(cmds: dict[str, list[str]], repeat: int, tty: bool | set[str] = False,
                   envs: dict[str, dict[str, str]] | None = None, columns: int = 200, status: int = 0,
                   ) -> dict[str, Timing]:
    """Time several commands in interleaved rounds, so that a burst of load elsewhere on the machine
    hits them all alike and their ratios stay fair. `tty`: all commands, or the keys of those, run
    on a pty; `envs`: a command's environment, if not ENV; `status`: the exit status each must give."""
    envs = envs or {}
    on_tty = set(cmds) if tty is True else set(tty or ())
    for key, cmd in cmds.items():
        run(cmd, key in on_tty, envs.get(key, ENV), columns, status)  # warm the file cache
    walls: dict[str, list[float]] = {k: [] for k in cmds}
    cpus: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(repeat):
        for key, cmd in cmds.items():
            wall, cpu, _ = run(cmd, key in on_tty, envs.get(key, ENV), columns, status)
            walls[key].append(wall)
            cpus[key].append(cpu)
    return {k: Timing(walls[k], cpus[k]) for k in cmds}


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms" if seconds < 10 else f"{seconds:7.2f} s "


class Report:
    def __init__(self) -> None:
        self.misses: list[str] = []

    def section(self, title: str) -> None:
        print(f"\n## {title}", flush=True)

    def row(self, label: str, value: str) -> None:
        print(f"  {label:<44} {value}", flush=True)

    def check(self, label: str, value: str, ok: bool, target: str) -> None:
        mark = "ok  " if ok else "MISS"
        print(f"  {label:<44} {value:<22} [{mark}] target {target}", flush=True)
        if not ok:
            self.misses.append(label)


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = " load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        load = ""
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs ({cpu}),{load}; "
            f"Python {platform.python_version()}")


# The interpreter the command-line rows run in (see lean_python); PY until main() makes it.
CLI_PY = PY


def lean_python(tmp: Path) -> str:
    """An interpreter that starts as a user's does after `pip install .`: a venv without pip whose only
    addition is a .pth naming the checkout and the site-packages holding click, rich and PyYAML.

    Not the checkout's own venv: an editable install adds an import hook that loads pathlib, re,
    fnmatch and more into *every* interpreter start (~10 ms here), which makes every floor slower
    and hides what cnncalc imports itself."""
    import sysconfig

    venv = tmp / "lean-venv"
    subprocess.run([PY, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    deps = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    Path(site, "cnncalc-benchmarks.pth").write_text("\n".join([str(ROOT), *deps]) + "\n")
    return str(python)


def cnncalc_cmd(*args: str) -> list[str]:
    # what the `cnncalc` console script runs, minus the shell wrapper (pyenv/venv shims add their own cost)
    return [CLI_PY, "-c", "import sys; from cnncalc.cli import main; sys.argv[0] = 'cnncalc'; main()", *args]


def imported_modules(*args: str) -> set[str]:
    """Every module in sys.modules when `cnncalc ARGS` exits. (Not `python -X importtime`: it does not
    see modules imported through importlib.import_module, such as the subcommands and layer types.)"""
    code = ("import atexit, sys; atexit.register(lambda: print(*sys.modules, file=sys.stderr)); "
            "from cnncalc.cli import main; sys.argv[0] = 'cnncalc'; main()")
    proc = subprocess.run([CLI_PY, "-c", code, *args], cwd=ROOT, env=ENV, capture_output=True, text=True)
    return set(proc.stderr.split())


# ---- sections ----------------------------------------------------------------------------------

def startup(rep: Report, repeat: int) -> None:
    rep.section("Startup: whole-process wall time (stdout piped; floors and cnncalc runs interleaved)")
    t = timed_together({
        "python": [CLI_PY, "-c", "pass"],
        "venv": [PY, "-c", "pass"],
        "bare": [CLI_PY, "-I", "-S", "-c", "pass"],
        "libs": [CLI_PY, "-c", "import click, yaml"],
        "rich": [CLI_PY, "-c", "import click, yaml, rich"],
        "stack": [CLI_PY, "-c", "import click, yaml, rich.console, rich.table"],
        "--version": cnncalc_cmd("--version"),
        "--help": cnncalc_cmd("--help"),
        "alexnet": cnncalc_cmd("show", "architectures/alexnet.yaml"),
        "resnet50": cnncalc_cmd("show", "architectures/resnet50.yaml"),
        "json": cnncalc_cmd("show", "--format", "json", "architectures/resnet50.yaml"),
        "-m": [CLI_PY, "-m", "cnncalc", "show", "architectures/resnet50.yaml"],
    }, repeat)
    python = t["python"].wall
    rep.row("python -c pass (the interpreter alone)", str(t["python"]))
    rep.row("  the same in the checkout's venv (editable hook)", f"{t['venv']}  {t['venv'].wall / python:.2f}x")
    rep.row("python -I -S -c pass (no site, no .pth)", f"{t['bare']}  {t['bare'].wall / python:.2f}x")
    rep.row("floor of json: import click, yaml", f"{t['libs']}  {t['libs'].wall / python:.2f}x python")
    rep.row("  import click, yaml, rich (the package only)", f"{t['rich']}  {t['rich'].wall / python:.2f}x python")
    rep.row("floor of the table: + rich.console, rich.table", f"{t['stack']}  {t['stack'].wall / python:.2f}x python")
    for arg in ("--version", "--help"):
        mods = imported_modules(arg)
        heavy = sorted(m for m in mods if m in ("yaml", "rich", "cnncalc.spec", "cnncalc.analysis", "cnncalc.layers"))
        rep.check(f"cnncalc {arg}", f"{t[arg].wall * 1000:.1f} ms, {t[arg].wall / python:.2f}x python", not heavy,
                  "imports no analysis" + (f" (imports {', '.join(heavy)})" if heavy else ""))
    for net in ("alexnet", "resnet50"):
        rep.row(f"cnncalc show {net}", str(t[net]))
        ratio = t[net].wall / t["stack"].wall
        rep.check(f"  show {net} vs the table floor", f"{ratio:.2f}x", ratio <= 1.5, "<= 1.5x")
    rep.row("cnncalc show --format json resnet50", str(t["json"]))
    ratio = t["json"].wall / t["libs"].wall
    rep.check("  show --format json resnet50 vs the json floor", f"{ratio:.2f}x", ratio <= 1.3, "<= 1.3x")
    rep.row("python -m cnncalc show resnet50", f"{t['-m']}  {t['-m'].wall / t['resnet50'].wall:.2f}x cnncalc show")
    # 200 columns: the table fits; 80 (the default terminal): it is 113 wide, so columns are left out
    for columns, label in ((200, "cnncalc show resnet50 in a terminal"),
                           (80, "cnncalc show resnet50, 80-column terminal")):
        try:
            cmd = cnncalc_cmd("show", "architectures/resnet50.yaml")
            tty = timed_together({"piped": cmd, "tty": cmd}, max(5, repeat), tty={"tty"}, columns=columns)
            ratio = tty["tty"].wall / tty["piped"].wall
            rep.check(label, f"{tty['tty'].wall * 1000:.1f} ms, {ratio:.2f}x piped", ratio <= 1.2, "<= 1.2x piped")
        except (ImportError, OSError) as exc:
            rep.row(label, f"skipped ({exc})")


# The work of `cnncalc show` (commands/show.py), in its order, with a clock between the phases. The
# modules the command imports as it goes are imported up front here, so that each phase is its work.
# The clock is perf_counter's, the system's monotonic clock: the parent's readings share it. With
# the spec "-", the floor: the libraries only.
CHILD_PHASES = """\
import sys, time
laps = [time.perf_counter()]
fmt, spec = sys.argv[1], sys.argv[2]
import click, yaml
if fmt == "table":
    import rich.console, rich.table
laps.append(time.perf_counter())
if spec == "-":
    print(0, 0, *laps, *laps[1:] * 4, file=sys.stderr)
    sys.exit()
before = set(sys.modules)
import cnncalc.cli
cnncalc.cli.main.get_command(None, "show")  # the command's module, as click finds it
from cnncalc.layers import all_types
all_types()  # the layer registry imports every layer type's module
from cnncalc import analysis, conventions, expect, importers, memory, render
from cnncalc.render import columns
if fmt == "json":
    import json
    from cnncalc import receptive
else:
    from cnncalc.render import table
laps.append(time.perf_counter())
new = set(sys.modules) - before
net = importers.load_model(spec, {})
laps.append(time.perf_counter())
a = analysis.analyse(net, conventions.get(None).name)
laps.append(time.perf_counter())
if fmt == "json":
    click.echo(json.dumps(render.json_doc(a, memory.MemoryConfig(1, "float32", "adam"), None), indent=2))
else:
    table.print_table(a, table.console(), columns.extra_columns(()), None)
expect.check(a)
sys.stdout.flush()
laps.append(time.perf_counter())
own = sum(m.startswith("cnncalc") for m in new)
print(own, len(new) - own, *laps, file=sys.stderr)
"""

PHASES = ("interpreter start", "import the libraries", "import cnncalc's modules", "read + parse the spec",
          "analyse", "write the output", "exit (freeing every module)")


def phase_times(cmd: list[str], repeat: int) -> tuple[list[float], str, str]:
    """The phases of CHILD_PHASES (seconds) in its least disturbed run, and the module counts."""
    runs = []
    for i in range(repeat + 1):  # the first warms the file cache
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, env=ENV, capture_output=True, text=True, check=True)
        end = time.perf_counter()
        own, stdlib, *laps = proc.stderr.split()
        if i:
            runs.append([start, *map(float, laps), end])
    best = min(runs, key=lambda r: r[-1] - r[0])
    return [b - a for a, b in zip(best[:-1], best[1:], strict=True)], own, stdlib


def breakdown(rep: Report, repeat: int) -> None:
    """Where the time of a start-up row goes, beside its floor: the interpreter, the libraries,
    cnncalc's modules, the work and the exit, read off one clock by the parent and the child. Each
    column is the run with the least whole-process time; its phases add up to it."""
    rep.section("Where the start-up time goes (the work of `cnncalc show` phase by phase, and its floor)")
    for fmt, net in (("json", "resnet50"), ("table", "resnet50"), ("table", "alexnet")):
        floor, _, _ = phase_times([CLI_PY, "-c", CHILD_PHASES, fmt, "-"], repeat)
        show, own, stdlib = phase_times([CLI_PY, "-c", CHILD_PHASES, fmt, f"architectures/{net}.yaml"], repeat)
        libs = "click, yaml" + (", rich.console, rich.table" if fmt == "table" else "")
        notes = {1: libs, 2: f"{own} of cnncalc's, {stdlib} more of the standard library"}
        rep.row(f"show {'--format json ' if fmt == 'json' else ''}{net}", "   the floor        show")
        for i, label in enumerate(PHASES):
            f = ms(floor[i]) if floor[i] else "       -   "
            rep.row(f"  {label}", f"{f}  {ms(show[i])}  {notes.get(i, '')}".rstrip())
        rep.row("  whole process", f"{ms(sum(floor))}  {ms(sum(show))}  {sum(show) / sum(floor):.2f}x the floor")


TORCH_SCRIPT = """\
import sys
sys.path.insert(0, "tests")
import torch, torchinfo, torch_models
name = sys.argv[1]
chw = torch_models.INPUT_CHW.get(name, (3, 224, 224))
print(torchinfo.summary(torch_models.build(name), input_size=(1, *chw), verbose=0))
"""


def versus_torch(rep: Report, repeat: int) -> None:
    """Every shipped architecture that tests/torch_models.py builds: `cnncalc show` (piped and in a
    terminal) against building the same network in PyTorch and printing torchinfo.summary, each as a
    whole process."""
    rep.section("cnncalc show vs PyTorch + torchinfo.summary of the same network (whole process)")
    probe = subprocess.run([PY, "-c", "import sys; sys.path.insert(0, 'tests'); import torchinfo, torch_models; "
                            "print(*torch_models.MODELS)"], cwd=ROOT, env=ENV, capture_output=True, text=True)
    if probe.returncode != 0:
        rep.row("torch + torchinfo", "skipped (torch, torchinfo or tests/torch_models.py missing)")
        return
    models = set(probe.stdout.split())
    for spec in sorted((ROOT / "architectures").glob("*.yaml")):
        net = spec.stem
        if net not in models:
            rep.row(f"{net}", "skipped (no PyTorch model of it in tests/torch_models.py)")
            continue
        show = cnncalc_cmd("show", str(spec))
        t = timed_together({"piped": show, "tty": show}, max(3, repeat // 3), tty={"tty"}, columns=120)
        torch_t = timed([PY, "-c", TORCH_SCRIPT, net], 2)
        slowest = max(t["piped"].wall, t["tty"].wall)
        ratio = torch_t.wall / slowest
        rep.check(f"{net}", f"{ratio:.0f}x faster ({ms(slowest).strip()} vs {ms(torch_t.wall).strip()})",
                  ratio >= 10, ">= 10x, piped and in a terminal")


CHILD_ANALYSE = """\
import sys, time
import cnncalc
cnncalc.analyse("architectures/hw_conv_760.yaml")  # lazy imports out of the way
specs = [(path, int(layers)) for path, layers in zip(sys.argv[2::2], sys.argv[3::2])]
best = [float("inf")] * len(specs)
for _ in range(int(sys.argv[1])):  # interleaved rounds: a burst of load hits every size alike
    for i, (path, layers) in enumerate(specs):
        a = None  # the previous result is freed first, as in a fresh process
        start = time.perf_counter()
        a = cnncalc.analyse(path)
        best[i] = min(best[i], time.perf_counter() - start)
        assert len(a.layers) == layers, len(a.layers)
print(*best)
"""

CHILD_RSS = """\
import resource, sys
import cnncalc
a = cnncalc.analyse(sys.argv[1])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux
"""


def analyse_times(repeat: int, *specs: tuple[Path, int]) -> list[float]:
    """Best load + analyse time of each spec, measured in one process in interleaved rounds."""
    args = [str(a) for path, layers in specs for a in (path, layers)]
    _, _, proc = run([PY, "-c", CHILD_ANALYSE, str(repeat), *args])
    assert proc is not None
    return [float(t) for t in proc.stdout.decode().split()]


def scaling(rep: Report, tmp: Path, repeat: int) -> None:
    rep.section("Scaling: load + analyse in one process (best of several), generated specs")
    small, big = tmp / "res1000.yaml", tmp / "res10000.yaml"
    small.write_text(residual_spec(1000))
    big.write_text(residual_spec(10000))
    flat_small, flat_big = tmp / "flat1000.yaml", tmp / "flat10000.yaml"
    flat_small.write_text(flat_spec(1000))
    flat_big.write_text(flat_spec(10000))
    n = max(5, repeat)
    t1, t10 = analyse_times(n, (small, 1000), (big, 10000))
    rep.row("1,000 layers (repeat of a residual block)", ms(t1))
    rep.check("10,000 layers (repeat of a residual block)", ms(t10), t10 < 0.5, "< 0.5 s")
    rep.check("  10,000 / 1,000 layers", f"{t10 / t1:.1f}x", t10 / t1 <= 12, "<= 12x")
    f1, f10 = analyse_times(n, (flat_small, 1000), (flat_big, 10000))
    rep.row("1,000 layers written out (YAML grows too)", ms(f1))
    rep.row("10,000 layers written out", f"{ms(f10)}  {f10 / f1:.1f}x the 1,000")
    _, _, proc = run([PY, "-c", CHILD_RSS, str(big)])
    assert proc is not None
    rss = int(proc.stdout.decode()) / 1024
    rep.check("peak RSS, 10,000 layers (whole process)", f"{rss:.1f} MiB", rss < 150, "< 150 MiB")
    _, _, proc = run([PY, "-c", CHILD_RSS, str(flat_big)])
    assert proc is not None
    rep.row("peak RSS, 10,000 layers written out", f"{int(proc.stdout.decode()) / 1024:.1f} MiB")
    show = cnncalc_cmd("show", str(big))
    t = timed_together({"show": show, "json": cnncalc_cmd("show", "-f", "json", str(big)), "tty": show},
                       max(3, repeat // 3), tty={"tty"})
    rep.row("cnncalc show 10,000 layers (piped)", str(t["show"]))
    rep.row("cnncalc show -f json 10,000 layers (piped)", str(t["json"]))
    ratio = t["tty"].wall / t["show"].wall
    rep.check("cnncalc show 10,000 layers in a terminal", f"{ms(t['tty'].wall)}, {ratio:.2f}x piped", ratio <= 1.2,
              "<= 1.2x piped")


def lint(rep: Report, tmp: Path, repeat: int) -> None:
    rep.section("Lint: 1,000 spec files in one process")
    good, bad = tmp / "specs", tmp / "failing-specs"
    good.mkdir()
    bad.mkdir()
    sources = sorted((ROOT / "architectures").glob("*.yaml"))
    for i in range(1000):
        src = sources[i % len(sources)]
        text = src.read_text()
        (good / f"{i:04d}_{src.name}").write_text(text)
        assert "kernel: " in text, src
        (bad / f"{i:04d}_{src.name}").write_text(text.replace("kernel: ", "kernel: -"))  # an error per kernel
    t = timed(cnncalc_cmd("lint", str(good)), max(3, repeat // 3))
    rep.check(f"`cnncalc lint DIR`, 1,000 files ({len(sources)} archs)", f"{ms(t.wall)} (CPU {ms(t.cpu).strip()})",
              t.wall < 3, "< 3 s")
    cmd = cnncalc_cmd("lint", str(bad))
    _, _, proc = run(cmd, status=1)  # 1 is also a traceback's status: check that every file was read
    assert proc is not None and b"1000 files checked" in proc.stderr, proc
    t = timed(cmd, max(3, repeat // 3), status=1)
    rep.row("  the same files, each with an error per kernel", f"{ms(t.wall)} (CPU {ms(t.cpu).strip()})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    opts = parser.parse_args()
    repeat = 5 if opts.quick else 15
    # An installed package has its bytecode compiled by pip; do the same for the checkout.
    compileall.compile_dir(str(ROOT / "cnncalc"), quiet=1)
    print(textwrap.dedent(f"""\
        cnncalc benchmarks ({'quick' if opts.quick else 'full'} run)
        machine: {machine()}
        cnncalc from {ROOT}; times are the best of {repeat} runs unless noted."""))
    rep = Report()
    with tempfile.TemporaryDirectory(prefix="cnncalc-bench-") as tmp:
        global CLI_PY
        CLI_PY = lean_python(Path(tmp))
        startup(rep, repeat)
        breakdown(rep, repeat)
        if not opts.no_torch:
            versus_torch(rep, repeat)
        scaling(rep, Path(tmp), repeat)
        lint(rep, Path(tmp), repeat)
    print(f"\n{'All targets met.' if not rep.misses else 'Missed: ' + '; '.join(rep.misses)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
