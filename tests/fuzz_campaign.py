"""Long fuzz campaign: `python tests/fuzz_campaign.py MINUTES [valid|corrupt|commands] [CASES]`.

Runs one property in rounds of 2,000 random examples until MINUTES have passed or CASES cases have
run (whichever comes first; CASES 0 = no count limit), and prints how many cases ran and whether any
failed (the README's Reliability notes quote it). The properties:

* valid: random valid specs obey the slides' formulas (test_fuzz.py);
* corrupt: random corruptions of them never crash and every problem is located (test_fuzz.py);
* commands: valid, corrupted and hostile specs and random calculator arguments through every command
  and output format, in process, each checked for tracebacks, CPU time, visible-only and well-formed
  output (test_fuzz_commands.py); the summary counts the cases per command and exit status.

One process: the machine is shared. A failure stops the campaign after hypothesis has shrunk it.
"""

from __future__ import annotations

import atexit
import collections
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

import test_fuzz  # noqa: E402
import test_fuzz_commands  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402


def main() -> None:
    minutes = float(sys.argv[1]) if len(sys.argv) > 1 else 10
    which = sys.argv[2] if len(sys.argv) > 2 else "corrupt"
    cases = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    stats: collections.Counter[tuple[str, int]] = collections.Counter()
    slowest = [0.0, ""]
    directory = tempfile.mkdtemp(prefix="cnncalc-campaign-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    if which == "commands":
        strategy = test_fuzz_commands.command_cases()

        def check(case: test_fuzz_commands.Case) -> None:
            status, cpu = test_fuzz_commands.run_case(case, directory)
            command = case.args[0] + (" --values" if "--values" in case.args else "") + (
                " (hostile)" if case.name else "")
            stats[(command, status)] += 1
            if cpu > slowest[0]:
                slowest[:] = [cpu, " ".join(a if len(a) < 40 else a[:37] + "..." for a in case.args)]
    else:
        strategy, check = ((test_fuzz.valid_specs(), test_fuzz.check_valid) if which == "valid"
                           else (test_fuzz.corruptions(), test_fuzz.check_corrupted))
    count = 0

    @settings(max_examples=2000, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def run(case):
        nonlocal count
        count += 1
        check(case)

    start = time.time()
    end = start + 60 * minutes
    rounds = 0
    while time.time() < end and not (cases and count >= cases):
        run()  # raises (after shrinking) on the first failing case
        rounds += 1
        print(f"{which}: {count} cases, {rounds} rounds, {(time.time() - start) / 60:.1f} min, no failure",
              flush=True)
    print(f"done: {which}, {count} cases in {(time.time() - start) / 60:.1f} min, no failure", flush=True)
    if stats:
        print(f"slowest case: {slowest[0]:.2f} s of CPU: {slowest[1]}")
        for (command, status), n in sorted(stats.items()):
            print(f"  {command:28} exit {status}: {n}")


if __name__ == "__main__":
    main()
