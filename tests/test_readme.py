"""The README shows real output: its AlexNet table is what `cnncalc show` prints today."""

from __future__ import annotations

import subprocess
import sys

from conftest import ARCH, ROOT


def test_readme_alexnet_table_is_current():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("$ cnncalc show architectures/alexnet.yaml\n") + len("$ cnncalc show architectures/alexnet.yaml\n")
    shown = readme[start:readme.index("```", start)].rstrip("\n")
    out = subprocess.run([sys.executable, "-m", "cnncalc", "show", str(ARCH / "alexnet.yaml")], capture_output=True,
                         text=True, cwd=ROOT, check=True).stdout
    assert shown == "\n".join(line.rstrip() for line in out.rstrip("\n").splitlines())


def test_readme_commands_are_the_documented_ones():
    first = (ROOT / "README.md").read_text(encoding="utf-8").split("```")[1]
    assert "pip install . && cnncalc show architectures/alexnet.yaml" in first
    assert 'pip install -e ".[test,oracle]" && python -m pytest' in first
    assert 'pip install -e ".[test,oracle]" && python -m pytest' in (ROOT / ".ci" / "run").read_text()
