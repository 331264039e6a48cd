"""Reading a spec's YAML: PyYAML path (libyaml events + Python composer) vs cnncalc.yamlfast.

    python benchmarks/yaml_parse.py            # every architecture file + a 10,000-line spec
    python benchmarks/yaml_parse.py --quick

Times are the minimum over repetitions, in one warm process (imports excluded: `import yaml`
alone costs more than any of these). A script that prints ratios, not a test.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cnncalc import yamlfast, yamlio  # noqa: E402


def slow(text: str, file: str) -> yamlio.Node:
    """What yamlio.load_yaml did before the fast path."""
    return yamlio._Converter(file).convert(yamlio._compose(text, file))


def best(fn, text: str, file: str, repeat: int) -> float:
    fn(text, file)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(text, file)
        times.append(time.perf_counter() - start)
    return min(times)


def generated(lines: int) -> str:
    rows = ["input: [64, 56, 56]", "layout: channels_first", "layers:"]
    rows += ["  - {type: conv2d, filters: 64, kernel: 3, padding: 1}" if i % 2 == 0 else "  - relu"
             for i in range(lines - len(rows))]
    return "\n".join(rows) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    repeat = 10 if args.quick else 50
    cases = [(p.name, p.read_text()) for p in sorted((ROOT / "architectures").glob("*.yaml"))]
    cases.append(("generated 10,000 lines", generated(10_000)))
    print(f"{'file':28} {'PyYAML path':>12} {'yamlfast':>10} {'ratio':>7}")
    for name, text in cases:
        if yamlfast.parse(text, name) is None:
            print(f"{name:28} not in the fast subset")
            continue
        r = repeat if len(text) < 50_000 else max(3, repeat // 10)
        old, new = best(slow, text, name, r), best(yamlfast.parse, text, name, r)
        print(f"{name:28} {old * 1e3:9.2f} ms {new * 1e3:7.3f} ms {old / new:6.1f}x")


if __name__ == "__main__":
    main()
