"""Long fuzz campaign: `python tests/fuzz_campaign.py MINUTES [valid|corrupt]`.

Runs the properties of test_fuzz.py in rounds of 2,000 random examples until the time is up and
prints how many cases ran and whether any failed (the README's Reliability notes quote it).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

import test_fuzz  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402


def main() -> None:
    minutes = float(sys.argv[1]) if len(sys.argv) > 1 else 10
    which = sys.argv[2] if len(sys.argv) > 2 else "corrupt"
    strategy, check = ((test_fuzz.valid_specs(), test_fuzz.check_valid) if which == "valid"
                       else (test_fuzz.corruptions(), test_fuzz.check_corrupted))
    count = 0

    @settings(max_examples=2000, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def run(case):
        nonlocal count
        count += 1
        check(case)

    end = time.time() + 60 * minutes
    rounds = 0
    while time.time() < end:
        run()  # raises (after shrinking) on the first failing case
        rounds += 1
        print(f"{which}: {count} cases, {rounds} rounds, no failure", flush=True)


if __name__ == "__main__":
    main()
