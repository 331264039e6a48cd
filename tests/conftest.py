from __future__ import annotations

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
    a = cnncalc.loads(f"input: {input}\nlayout: {layout}\nlayers:\n  - {layer}\n", "t.yaml").analyse()
    return a.layers[-1]
