"""The `cnncalc` command: a thin shell over the library.

Subcommands live in `cnncalc.commands.<module>` and are imported only when invoked, so
`cnncalc --help` and `--version` stay fast (click's documented "lazy loading" pattern).
"""

from __future__ import annotations

import importlib

import click

from .version import __version__

# command name → (module, attribute, one-line help shown by `cnncalc --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "show": ("cnncalc.commands.show", "show", "Analyse a spec: shapes, params, MACs and FLOPs per layer."),
    "conventions": ("cnncalc.commands.conventions", "conventions",
                    "List the MACs/FLOPs counting conventions (torchvision, fvcore, thop, ...)."),
    "types": ("cnncalc.commands.show", "types", "List the layer types and their parameters."),
    "conv": ("cnncalc.commands.calc", "conv", "One conv layer: shape, params, MACs, FLOPs; or a worked example."),
    "pool": ("cnncalc.commands.calc", "pool", "One pooling layer: shape and operations; or a worked example."),
    "dense": ("cnncalc.commands.calc", "dense", "One dense layer: params, MACs, FLOPs."),
    "size": ("cnncalc.commands.calc", "size", "The bare output size (N − F + 2P)/S + 1."),
    "solve": ("cnncalc.commands.solve", "solve", "Find the padding, stride or kernel that gives an output size."),
    "export": ("cnncalc.commands.export", "export", "Write the network as PyTorch or Keras code."),
    "import": ("cnncalc.commands.import_", "import_",
               "Write an ONNX, PyTorch, Keras or Caffe model as a spec (folded into blocks, checked)."),
    "verify": ("cnncalc.commands.export", "verify", "Build the network in PyTorch or Keras and compare every layer."),
    "diagram": ("cnncalc.commands.diagram", "diagram", "Draw the network as SVG (or Mermaid)."),
    "report": ("cnncalc.commands.report", "report",
               "Write an interactive HTML page: graph, table, charts, explanations (--compare, --watch)."),
    "diff": ("cnncalc.commands.diff", "diff", "Layer-by-layer and total differences between two specs."),
    "check": ("cnncalc.commands.check", "check", "Verify the `expect:` assertions of spec files."),
    "lint": ("cnncalc.commands.lint", "lint", "Check spec files for CI: every problem, file:line:col, exit 1."),
    "schema": ("cnncalc.commands.schema", "schema", "Print the JSON Schema of the spec format (for editors)."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        cmd: click.Command = getattr(importlib.import_module(module), attr)
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # describe commands without importing them
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][2]) for name in sorted(COMMANDS)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cnncalc")
def main() -> None:
    """Exact output shapes, parameters, MACs and FLOPs of convolutional networks.

    Write the network as YAML (see docs/spec.md), then: cnncalc show net.yaml
    """
