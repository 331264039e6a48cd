"""`cnncalc report --watch`: a local server that rebuilds the page when the spec changes, stops on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from browser import embedded_data
from conftest import ARCH, ROOT


class Watch:
    """`cnncalc report SPEC --watch` in a child process; `url` once it serves."""

    def __init__(self, spec: Path, *extra: str):
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen([sys.executable, "-m", "cnncalc", "report", str(spec), "--watch", "--port", "0",
                                      *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                     cwd=spec.parent)
        line = self.proc.stderr.readline()  # the first line names the address (or is an error)
        m = re.search(r"serving (http://127\.0\.0\.1:\d+/)", line)
        if not m:
            self.proc.kill()
            raise AssertionError(f"no address: {line!r} {self.proc.stderr.read()}")
        self.url = m.group(1)
        self.first_line = line

    def get(self, path: str = "") -> str:
        with urllib.request.urlopen(self.url + path, timeout=10) as r:
            return r.read().decode("utf-8")

    def version(self) -> str:
        return self.get("__cnncalc/version")

    def wait_change(self, old: str, timeout: float = 10) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            v = self.version()
            if v != old:
                return v
            time.sleep(0.05)
        raise AssertionError("the page was not rebuilt")

    def stop(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGINT)
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        return self.proc.returncode, err


def rewrite(path: Path, text: str) -> None:
    path.write_text(text)
    st = path.stat()  # make sure the modification time moves even on a coarse clock
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))


def test_watch_rebuilds_on_change_shows_errors_and_stops_on_ctrl_c(tmp_path):
    spec = tmp_path / "net.yaml"
    text = (ARCH / "alexnet.yaml").read_text()
    spec.write_text(text)
    w = Watch(spec, "-o", "page.html")
    try:
        assert "127.0.0.1" in w.url and "Ctrl-C stops" in w.first_line
        page = w.get()
        data = embedded_data(page)
        assert data["report"]["doc"]["totals"]["params"] == 62_378_344
        assert data["watch"] == w.version()
        assert "connect-src 'self'" in page.replace("&#x27;", "'")
        assert embedded_data((tmp_path / "page.html").read_text())["report"]["doc"]["totals"]["params"] == 62_378_344

        v1 = w.version()
        rewrite(spec, text.replace("name: fc8, units: 1000", "name: fc8, units: 10"))
        v2 = w.wait_change(v1)
        data = embedded_data(w.get())
        assert data["report"]["doc"]["output_shape"] == [10] and data["watch"] == v2
        assert embedded_data((tmp_path / "page.html").read_text())["report"]["doc"]["output_shape"] == [10]

        rewrite(spec, text.replace("kernel: 11, stride: 4", "kernel: 999, stride: 4"))
        w.wait_change(v2)
        data = embedded_data(w.get())
        assert data["kind"] == "errors"
        assert [e["rule"] for e in data["errors"]] == ["kernel-too-large"]
        assert data["errors"][0]["text"].startswith(f"{spec}:15:54: error: conv1: kernel 999 is larger")
        assert "404" in str(_status(w.url + "nothing"))
    finally:
        status, err = w.stop()
    assert status == 0 and err.rstrip().endswith("stopped") and "Traceback" not in err
    assert "net.yaml:15:" in err  # the located error was printed as well


def _status(url: str) -> int:
    try:
        urllib.request.urlopen(url, timeout=5)
    except urllib.error.HTTPError as exc:
        return exc.code
    return 200


def test_watch_refuses_a_port_in_use(tmp_path):
    spec = tmp_path / "net.yaml"
    spec.write_text((ARCH / "hw_conv_760.yaml").read_text())
    w = Watch(spec, "-o", "-")
    try:
        port = w.url.rsplit(":", 1)[1].strip("/")
        out = subprocess.run([sys.executable, "-m", "cnncalc", "report", str(spec), "--watch", "--port", port],
                             capture_output=True, text=True, cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                             timeout=30)
        assert out.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in out.stderr
        assert "Traceback" not in out.stderr
    finally:
        w.stop()


def test_the_watch_page_of_every_architecture(tmp_path):
    """What --watch serves: the report (with its token, for the reload) or the page of the errors."""
    from cnncalc.memory import MemoryConfig
    from cnncalc.report.watch import build

    for spec in sorted(ARCH.glob("*.yaml")):
        page, lines = build(str(spec), str(ARCH / "resnet18.yaml"), {}, None, MemoryConfig(), "7-1")
        data = embedded_data(page)
        assert data["kind"] == "compare" and data["watch"] == "7-1" and lines == []
        assert data["report"]["doc"]["name"] == __import__("cnncalc").analyse(spec).name
    bad = tmp_path / "bad.yaml"
    bad.write_text("input: 8x8x3\nlayers:\n  - {type: conv2d, filters: 2, kernel: 9}\n")
    page, lines = build(str(bad), None, {}, None, MemoryConfig(), "8-1")
    data = embedded_data(page)
    assert data["kind"] == "errors" and data["watch"] == "8-1"
    assert lines == [e["text"] for e in data["errors"]] and lines[0].startswith(f"{bad}:3:")
