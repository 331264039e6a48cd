"""The package can be published: `python -m build` makes a wheel and an sdist, each installs into a
fresh virtual environment with its dependencies, and the installed `cnncalc` gives AlexNet's numbers."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    pytest.importorskip("build")
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], check=True, capture_output=True,
                   timeout=600)
    return out


def test_the_sdist_carries_the_docs_architectures_and_tests(dist):
    (sdist,) = dist.glob("cnncalc-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for needed in ("LICENSE", "README.md", "pyproject.toml", "cnncalc/cli.py", "architectures/alexnet.yaml",
                   "docs/spec.md", "tests/test_fuzz.py", ".pre-commit-hooks.yaml"):
        assert needed in names, needed
    assert not any("__pycache__" in n for n in names)


def test_the_wheel_carries_the_licence(dist):
    import zipfile

    (wheel,) = dist.glob("cnncalc-*.whl")
    with zipfile.ZipFile(wheel) as whl:
        (licence,) = [n for n in whl.namelist() if n.endswith(".dist-info/licenses/LICENSE")]
        assert whl.read(licence) == (ROOT / "LICENSE").read_bytes()
        metadata = whl.read(licence.split("/")[0] + "/METADATA").decode()
    assert "License-Expression: MIT" in metadata and "License-File: LICENSE" in metadata


@pytest.mark.parametrize("kind", ["whl", "tar.gz"])
def test_each_artifact_installs_and_runs(dist, tmp_path, kind):
    (artifact,) = dist.glob(f"cnncalc-*.{kind}")
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    bin_dir = env / ("Scripts" if sys.platform == "win32" else "bin")
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(artifact)], check=True,
                   capture_output=True, timeout=600)
    version = subprocess.run([str(bin_dir / "cnncalc"), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("cnncalc, version ")
    shown = subprocess.run([str(bin_dir / "cnncalc"), "show", str(ROOT / "architectures" / "alexnet.yaml"), "-f",
                            "json"], capture_output=True, text=True, check=True, cwd=tmp_path)
    totals = json.loads(shown.stdout)["totals"]
    assert (totals["trainable_params"], totals["macs"]) == (62_378_344, 1_135_256_096)


def test_the_ci_snippets_install_from_git_not_from_pypi():
    from packaging.requirements import Requirement

    for doc in ("README.md", "docs/lint.md"):
        text = (ROOT / doc).read_text(encoding="utf-8")
        assert "pip install cnncalc\n" not in text and "pip install cnncalc " not in text, doc  # not published
        (line,) = [line for line in text.splitlines() if "pip install \"cnncalc @ git+" in line]
        spec = line.split('pip install "', 1)[1].rstrip('"')
        requirement = Requirement(spec.replace("<URL of the cnncalc git repository you use>",
                                               "https://example.org/cnncalc.git").replace("<a tag or commit of it>",
                                                                                          "v0.1.0"))
        assert requirement.name == "cnncalc" and requirement.url.startswith("git+")
