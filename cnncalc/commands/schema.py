"""`cnncalc schema`: print the JSON Schema of the spec format (for editors)."""

from __future__ import annotations

import click

from .common import write_output


@click.command()
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True, path_type=str),
              help="Write the schema to this file instead of stdout.")
def schema(output: str | None) -> None:
    """Print the JSON Schema of cnncalc specs, generated from the layer registry.

    Editors with yaml-language-server (VS Code's YAML extension, Neovim, JetBrains, ...) complete
    and check specs whose first line is `# yaml-language-server: $schema=<path or URL of this file>`.
    """
    from ..schema import to_json

    text = to_json()
    write_output(text, output)
