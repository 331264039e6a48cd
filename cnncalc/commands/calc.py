"""One-layer calculators: `cnncalc conv`, `pool`, `dense` and `size` (see docs/calculators.md).

Layer numbers come from `cnncalc.calc` (the layer registry); `--values` worked examples from
`cnncalc.worked`. This module only parses options and prints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from .common import (
    CalcCommand,
    CalcOutput,
    PaddingType,
    ShapeType,
    SizeType,
    calculator_options,
    fail_calc,
    image_shape,
    size_range,
)

if TYPE_CHECKING:
    from ..analysis import Analysis
    from ..worked import Matrix, Worked

LAYOUTS = ("channels_last", "channels_first")
_layout = click.option("--layout", type=click.Choice(LAYOUTS), default="channels_last", show_default=True,
                       help="How --input is read: HxWxC (channels_last) or CxHxW (channels_first).")


# ---- output -------------------------------------------------------------------------------------

def _layer(out: CalcOutput, layer_type: str, input: Any, layout: str = "channels_last", **params: Any) -> None:
    """Analyse a one-layer network and print it in out.fmt; layer-rule errors exit 1."""
    from ..calc import analyse_layer
    from ..errors import SpecError

    try:
        a = analyse_layer(layer_type, input, layout, convention=out.convention, **params)
    except SpecError as err:
        fail_calc(err, layer_type)
    _print_layer(out, a)


def _print_layer(out: CalcOutput, a: Analysis) -> None:
    from .. import explain as ex
    from ..render import human, shape_text

    layer = a.layers[0]
    lines = ex.layer_lines(layer, a.convention) if out.explain else []
    if out.fmt == "json":
        import json

        from ..render.columns import extend_json

        d = extend_json(a, a.to_dict(), None)["layers"][0]  # exactly a `show --format json` layer
        if out.explain:
            d["explain"] = lines
        click.echo(json.dumps(d, indent=2))
    elif out.fmt == "markdown":
        from ..render import to_markdown

        text = to_markdown(a).rstrip("\n")
        if out.explain:
            text += "\n\n" + ex.to_markdown(a)
        click.echo(text)
    else:
        click.echo(f"{layer.type}: {shape_text(layer.input_shapes[0])} → {shape_text(layer.output_shape)}"
                   + (f" ({a.layout})" if len(layer.output_shape) > 1 else ""))
        for line in lines:
            click.echo(ex.INDENT + line)
        click.echo(f"output: {shape_text(layer.output_shape)}")
        click.echo(f"params: {layer.params:,} (trainable {layer.trainable_params:,}, "
                   f"non-trainable {layer.non_trainable_params:,})")
        click.echo(f"MACs:   {_big(layer.macs, human)}")
        click.echo(f"FLOPs:  {_big(layer.flops, human)}, convention {a.convention}")
    for w in layer.warnings:
        click.echo(f"warning: {w}", err=True)


def _big(n: int, human: Any) -> str:
    return f"{n:,} ({human(n)})" if n >= 1000 else str(n)


def _print_worked(out: CalcOutput, w: Worked, title: str) -> None:
    from ..explain import INDENT
    from ..worked import as_channels, format_matrix, num

    if out.fmt == "json":
        import json

        click.echo(json.dumps(w.to_dict(out.explain), indent=2))
    elif out.fmt == "markdown":
        chans = as_channels(w.output)
        lines = [f"{title} → {_shape(chans)}"]
        if out.explain:
            lines += [""] + [f"- `{line}`" for line in w.size_explain + w.cells]
        for c, rows in enumerate(chans, 1):
            lines += ["", f"Channel {c}:", ""] if len(chans) > 1 else [""]
            # row and column numbers as headers, the way out(i,j) in the derivations counts them
            lines.append("| out | " + " | ".join(str(j) for j in range(1, len(rows[0]) + 1)) + " |")
            lines.append("|---|" + "---:|" * len(rows[0]))
            lines += [f"| **{i}** | " + " | ".join(num(v) for v in row) + " |" for i, row in enumerate(rows, 1)]
        click.echo("\n".join(lines))
    else:
        if out.explain:
            click.echo(title)
            for line in w.size_explain + w.cells:
                click.echo(INDENT + line)
            click.echo(f"output {_shape(as_channels(w.output))}:")
        click.echo(format_matrix(w.output))
    for msg in w.warnings:
        click.echo(f"warning: {msg}", err=True)


def _matrix(value: str, hint: str) -> list[Matrix]:
    """--values / --kernel-values: a file name, '-' for stdin, or the numbers inline ("1 2; 3 4").

    Returns one matrix per channel (channels are separated by blank lines or `|`). At most
    MAX_VALUES_BYTES are read: a worked example is a small matrix, and /dev/zero never ends."""
    import os
    import re
    import sys

    from ..errors import visible
    from ..limits import MAX_VALUES_BYTES
    from ..worked import MatrixError, parse_channels

    too_long = f"more than {MAX_VALUES_BYTES:,} bytes of values; a worked example is a small matrix"
    if value == "-":
        text = sys.stdin.read(MAX_VALUES_BYTES + 1)
        if len(text) > MAX_VALUES_BYTES:
            raise click.BadParameter(f"standard input has {too_long}", param_hint=hint)
    elif os.path.isfile(value):  # a regular file (through symlinks); not a pipe or a device
        try:
            with open(value, encoding="utf-8") as fh:
                text = fh.read(MAX_VALUES_BYTES + 1)
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise click.BadParameter(visible(f"cannot read {value}: {reason}"), param_hint=hint) from None
        if len(text) > MAX_VALUES_BYTES:
            raise click.BadParameter(visible(f"{value} has {too_long}"), param_hint=hint)
    elif re.fullmatch(r"[\s\d.,;|+\-eE\[\]]*", value):
        text = value
    else:
        raise click.BadParameter(f"{value!r} is neither a file nor numbers like \"1 2 3; 4 5 6\"", param_hint=hint)
    try:
        return parse_channels(text)
    except MatrixError as exc:
        raise click.BadParameter(visible(str(exc)), param_hint=hint) from None


def _worked(out: CalcOutput, fn: Any, title: str, *args: Any, **kwargs: Any) -> None:
    from ..errors import LayerError

    try:
        w = fn(*args, **kwargs)
    except LayerError as exc:
        click.echo(f"error: {exc.message} [{exc.rule}]", err=True)
        raise SystemExit(1) from None
    _print_worked(out, w, title)


def _reject(given: dict[str, Any], why: str) -> None:
    for opt, v in given.items():
        if v:
            raise click.BadParameter(why, param_hint=opt)


def _shape(m: list[Matrix]) -> str:
    """HxW, plus the channel count when there are several."""
    return f"{len(m[0])}x{len(m[0][0])}" + (f" ({len(m)} channels)" if len(m) > 1 else "")


def _pad_text(padding: Any) -> str:
    return ",".join(map(str, padding)) if isinstance(padding, list) else str(padding)


# ---- commands -----------------------------------------------------------------------------------

@click.command(cls=CalcCommand)
@click.option("--input", "-i", "input_", type=ShapeType(), help="Input shape, e.g. 32x32x3 (in --layout order).")
@click.option("--filters", "-n", type=click.IntRange(min=1), help="Number of filters (output channels).")
@click.option("--kernel", "-k", type=SizeType(), help="Kernel size: 5 or 3x5.")
@click.option("--stride", "-s", type=SizeType(), default=1, show_default=True, help="Stride: 1 or 2x1.")
@click.option("--padding", "-p", type=PaddingType(), default=0, show_default=True,
              help="INT, H,W, TOP,BOTTOM,LEFT,RIGHT, same (TensorFlow rule) or valid.")
@click.option("--dilation", "-d", type=SizeType(), default=1, show_default=True, help="Dilation: 1 or HxW.")
@click.option("--groups", "-g", type=click.IntRange(min=1), default=1, show_default=True, help="Grouped convolution.")
@click.option("--no-bias", is_flag=True, help="The layer has no bias.")
@_layout
@click.option("--values", metavar="FILE|NUMBERS", help='Worked example: the input matrix (file, - or "1 2; 3 4").')
@click.option("--kernel-values", metavar="FILE|NUMBERS", help="Worked example: the filter matrix.")
@calculator_options
def conv(out: CalcOutput, input_: tuple[int, ...] | None, filters: int | None, kernel: Any, stride: Any,
         padding: Any, dilation: Any, groups: int, no_bias: bool, layout: str, values: str | None,
         kernel_values: str | None) -> None:
    """A conv2d layer: output shape, params, MACs, FLOPs.

    \b
    cnncalc conv --input 32x32x3 --filters 10 --kernel 5 --padding 2
    cnncalc conv --values image.txt --kernel-values filter.txt --stride 2
    """
    if values is not None or kernel_values is not None:
        if values is None or kernel_values is None:
            raise click.BadParameter("a worked example needs both --values and --kernel-values",
                                     param_hint="--values" if values is None else "--kernel-values")
        _reject({"--input": input_, "--filters": filters, "--no-bias": no_bias, "--groups": groups != 1},
                "not used with --values (the worked example is one matrix and one filter)")
        from .. import worked

        x, w = _matrix(values, "--values"), _matrix(kernel_values, "--kernel-values")
        if kernel is not None and (kernel if isinstance(kernel, tuple) else (kernel, kernel)) != (len(w[0]), len(w[0][0])):
            raise click.BadParameter(f"{kernel} does not match the {_shape(w)} --kernel-values", param_hint="--kernel")
        title = f"{_shape(x)} ⊛ {_shape(w)}, stride {stride}, padding {_pad_text(padding)}" + (
            f", dilation {dilation}" if dilation != 1 else "")
        _worked(out, worked.conv2d, title, x, w, stride=stride, padding=padding, dilation=dilation)
        return
    for opt, v in (("--input", input_), ("--filters", filters), ("--kernel", kernel)):
        if v is None:
            raise click.BadParameter("required (or give --values and --kernel-values)", param_hint=opt)
    assert input_ is not None
    _layer(out, "conv2d", image_shape(input_, layout), layout, filters=filters, kernel=kernel, stride=stride,
           padding=padding, dilation=dilation, groups=groups, bias=not no_bias)


@click.command(cls=CalcCommand)
@click.option("--input", "-i", "input_", type=ShapeType(), help="Input shape, e.g. 4x4x1 (in --layout order).")
@click.option("--kernel", "-k", type=SizeType(), required=True, help="Window size: 2 or 2x3.")
@click.option("--stride", "-s", type=SizeType(), default=None, help="Stride (default: the kernel).")
@click.option("--padding", "-p", type=PaddingType(), default=0, show_default=True,
              help="INT (at most half the kernel), H,W, TOP,BOTTOM,LEFT,RIGHT, same or valid.")
@click.option("--ceil-mode", is_flag=True, help="PyTorch ceil_mode: round the output size up.")
@click.option("--type", "-t", "kind", type=click.Choice(("max", "avg")), default="max", show_default=True)
@_layout
@click.option("--values", metavar="FILE|NUMBERS", help='Worked example: the input matrix (file, - or "1 2; 3 4").')
@calculator_options
def pool(out: CalcOutput, input_: tuple[int, ...] | None, kernel: Any, stride: Any, padding: Any, ceil_mode: bool,
         kind: str, layout: str, values: str | None) -> None:
    """A max or avg pooling layer: output shape and operations.

    \b
    cnncalc pool --input 4x4x1 --kernel 2 --stride 2
    cnncalc pool --values "1 1 2 4; 5 6 7 8; 3 2 1 0; 1 2 3 4" --kernel 2
    """
    if values is not None:
        _reject({"--input": input_}, "not used with --values (the worked example's size is the matrix's)")
        from .. import worked

        x = _matrix(values, "--values")
        title = (f"{kind} pool {_shape(x)}, kernel {kernel}, stride {stride or kernel}, padding {_pad_text(padding)}"
                 + (", ceil_mode" if ceil_mode else ""))
        if ceil_mode and padding == "same":
            raise click.BadParameter("ceil_mode does not combine with padding 'same'", param_hint="--ceil-mode")
        _worked(out, worked.pool2d, title, x, kernel, stride, padding, ceil_mode, kind)
        return
    if input_ is None:
        raise click.BadParameter("required (or give --values)", param_hint="--input")
    params: dict[str, Any] = {"kernel": kernel, "padding": padding, "ceil_mode": ceil_mode}
    if stride is not None:
        params["stride"] = stride
    _layer(out, f"{kind}_pool2d", image_shape(input_, layout), layout, **params)


@click.command(cls=CalcCommand)
@click.option("--in", "in_features", type=click.IntRange(min=1), required=True, help="Input features (e.g. 3072).")
@click.option("--out", "out_features", type=click.IntRange(min=1), required=True, help="Output features.")
@click.option("--no-bias", is_flag=True, help="The layer has no bias.")
@calculator_options
def dense(out: CalcOutput, in_features: int, out_features: int, no_bias: bool) -> None:
    """A fully connected layer: params, MACs, FLOPs.

    \b
    cnncalc dense --in 3072 --out 10
    """
    _layer(out, "dense", [in_features], units=out_features, bias=not no_bias)


# ignore_unknown_options: `size 7 3 -1` should say "S must be ≥ 1", not "no such option -1"
@click.command(cls=CalcCommand, context_settings={"ignore_unknown_options": True})
@click.argument("n", type=size_range(1))
@click.argument("f", type=size_range(1))
@click.argument("s", type=size_range(1), default=1)
@click.argument("p", type=size_range(0), default=0)
@calculator_options
def size(out: CalcOutput, n: int, f: int, s: int, p: int) -> None:
    """The output size (N − F + 2P)/S + 1 of input N, filter F, stride S, padding P.

    Prints the size frameworks use (rounded down); warns when the stride does not fit.

    \b
    cnncalc size 7 3 2      → 3
    cnncalc size 7 3 3      → 2, warning: stride does not fit: 2.33
    """
    from ..calc import size as calc_size
    from ..errors import LayerError

    try:
        d = calc_size(n, f, s, p)
    except LayerError as exc:
        click.echo(f"error: {exc.message} [{exc.rule}]", err=True)
        raise SystemExit(1) from None
    exact = d.exact
    lines = [f"output = {d.formula}"]
    if out.fmt == "json":
        import json

        doc: dict[str, Any] = {"input": n, "kernel": f, "stride": s, "padding": p, "output": d.out,
                               "exact": exact, "ratio": d.ratio}
        if out.explain:
            doc["explain"] = lines
        click.echo(json.dumps(doc, indent=2))
    elif out.fmt == "markdown":
        click.echo("| N | F | S | P | output |\n|---:|---:|---:|---:|---:|\n"
                   f"| {n} | {f} | {s} | {p} | {d.out} |")
        if out.explain:
            click.echo("\n" + "\n".join(f"- `{line}`" for line in lines))
    elif out.explain:
        click.echo("output = (N − F + 2P)/S + 1")
        click.echo("\n".join(lines))
    else:
        click.echo(d.out)
    if not exact:
        unread = (f"; the last {d.unread} input row{'s are' if d.unread > 1 else ' is'} never read"
                  if d.unread else "")
        formula, ratio = d.formula.split(" = ")[:2]
        click.echo(f"warning: stride does not fit: {ratio.split(' → ')[0]} = {formula}"
                   f" is not an integer; frameworks round down to {d.out}{unread}", err=True)
