from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

import cnncalc

ROOT = Path(__file__).resolve().parent.parent
ARCH = ROOT / "architectures"


@pytest.fixture
def spec(tmp_path):
    """Write spec text to a file and return its path."""

    def write(text: str, name: str = "net.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


def one_layer(layer: str, input: str = "[32, 32, 3]", layout: str = "channels_last"):
    """Analyse a single-layer network and return its LayerResult."""
    a = cnncalc.analyse(cnncalc.loads(f"input: {input}\nlayout: {layout}\nlayers:\n  - {layer}\n", "t.yaml"))
    return a.layers[-1]


def mutations(text: str, n: int, rng: random.Random, chars: Sequence[str]) -> Iterator[str]:
    """n copies of `text`, each with 1 to 3 characters deleted, inserted (from `chars`) or replaced."""
    for _ in range(n):
        s = list(text)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(s) + 1)
            op = rng.random()
            if op < 0.4 and s:
                del s[min(i, len(s) - 1)]
            elif op < 0.8:
                s.insert(i, rng.choice(chars))
            elif s:
                s[min(i, len(s) - 1)] = rng.choice(chars)
        yield "".join(s)


@pytest.fixture(scope="session")
def archs():
    """Every shipped architecture, analysed once: {stem: Analysis}."""
    return {p.stem: cnncalc.analyse(p) for p in sorted(ARCH.glob("*.yaml"))}


def import_torchvision():
    """torchvision's own model builders, beside the CPU build of torch.

    The torchvision release that matches torch 2.13.0 is published as a CUDA build: its C++ ops
    (nms, roi_align, ...) cannot load beside CPU torch, and `import torchvision` fails registering
    abstract implementations for two of them. The model builders never call those ops, so the two
    schemas are declared (without kernels) when, and only when, the real ones did not load."""
    import sys

    torch = pytest.importorskip("torch")
    pytest.importorskip("PIL")
    try:
        import torchvision
    except RuntimeError:
        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]
        lib = torch.library.Library("torchvision", "FRAGMENT")
        lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        import_torchvision.library = lib  # kept alive: the schemas live as long as the Library object
        import torchvision
    except ImportError:
        pytest.skip("torchvision is not installed")
    return torchvision


@pytest.fixture(scope="session")
def torchvision():
    return import_torchvision()
