"""`cnncalc import SOURCE`: an ONNX file, a PyTorch or Keras factory, a Keras model or a Caffe prototxt as
a spec."""

from __future__ import annotations

import os
import sys
import tempfile

import click

from .common import ShapeType, parse_sets, print_diagnostics


@click.command("import")
@click.argument("source")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=str),
              help="Write the spec to this file (written whole or not at all) instead of standard output.")
@click.option("--input", "input_shapes", type=ShapeType(), metavar="SHAPE", multiple=True,
              help="Input size without batch, in the source's layout (3x224x224 for PyTorch and ONNX); "
                   "needed where the source does not fix it. Repeat it for a model of several inputs, in "
                   "their order.")
@click.option("--allow-unknown", is_flag=True,
              help="Keep an operation no layer type computes as an `opaque` layer (its declared shape, counted "
                   "as zero), with a warning, instead of failing.")
@click.option("--no-fold", is_flag=True, help="List every layer; no blocks or repeats.")
@click.option("--arg", "args", multiple=True, metavar="NAME=VALUE",
              help="A keyword argument for a Python factory, e.g. --arg num_classes=10 (repeatable).")
def import_(source: str, output: str | None, input_shapes: tuple[tuple[int, ...], ...], allow_unknown: bool,
            no_fold: bool, args: tuple[str, ...]) -> None:
    """Write SOURCE as a cnncalc spec: names, layout and repeated blocks kept; every layer checked.

    SOURCE is an ONNX file (model.onnx), a Keras model (model.keras, or its JSON config), a Caffe
    model definition (deploy.prototxt) or a Python factory (package.module:function or
    path/to/file.py:function, which is run: PyTorch modules are built on the meta device, Keras models
    read from their config). Model files are read as data; no code in them runs. Exit status: 0
    done, 1 an operation or model cnncalc cannot express, 2 SOURCE cannot be read.
    """
    from .. import importers
    from ..errors import SpecError
    from .common import failure_status

    if output and os.path.exists(source) and os.path.exists(output) and os.path.samefile(source, output):
        click.echo(f"{output}: error: this is the model being imported; write the spec to another file", err=True)
        sys.exit(2)
    options = importers.Options(None, allow_unknown, parse_sets(args) if args else {}, list(input_shapes))
    command = " ".join(["cnncalc import", source, *(f"--input {'x'.join(map(str, s))}" for s in input_shapes),
                        *(["--allow-unknown"] if allow_unknown else []), *(["--no-fold"] if no_fold else []),
                        *(f"--arg {a}" for a in args), *(["-o", output] if output else [])])
    try:
        imp = importers.read(source, options)
        text, analysis = importers.to_spec(imp, not no_fold, command)
    except SpecError as exc:
        print_diagnostics(exc.diagnostics)
        sys.exit(failure_status(exc))
    for w in imp.warnings:
        click.echo(f"{source}: warning: {w} [opaque-layer]", err=True)
    t = analysis.totals
    if not output:
        click.echo(text, nl=False)
    else:
        _write(output, text)
    click.echo(f"{output or 'spec'}: {len(analysis.layers)} layers from {imp.kind}; params {t['params']:,} "
               f"({t['trainable_params']:,} trainable), MACs {t['macs']:,}", err=True)


def _write(path: str, text: str) -> None:
    """Write `path` whole or not at all: a temporary file beside it, renamed over it."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".cnncalc-import-", suffix=".yaml", dir=folder)
    except OSError as exc:
        click.echo(f"{path}: error: cannot write: {exc.strerror or exc}", err=True)
        sys.exit(1)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        os.unlink(tmp)
        click.echo(f"{path}: error: cannot write: {exc.strerror or exc}", err=True)
        sys.exit(1)
