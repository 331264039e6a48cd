"""cnncalc's version: one place, read by the package, its metadata (pyproject.toml) and every output
that names the tool (generated code, imported specs, reports)."""

__version__ = "0.1.0"
