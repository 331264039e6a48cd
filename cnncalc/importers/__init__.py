"""Bring existing models in: ONNX files, PyTorch factories, Keras models and Caffe prototxt as specs.

`read(source, options)` maps the source's operations to spec layers (an `Imported`); `to_spec`
folds and writes them as spec text and proves, by analysing that text, that every layer has the
shape and weight count the source declares. `load_model(path)` is what `show`, `lint`, `diagram`
and `export` call: a spec file is loaded as always, a model file is imported in memory.

Reading a model file runs no code: ONNX and Keras files and prototxt are data. Only a Python
factory the user names (`package.module:factory`, `path/file.py:factory`) is executed. The
frameworks are optional extras, imported only here and only when their kind of source is read.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..analysis import Analysis
    from ..spec import Network
    from .model import Imported, ImportFailure, Node, Options

__all__ = ["read", "to_spec", "load_model", "kind_of", "is_model_file", "Imported", "Options", "ImportFailure"]

KINDS = {".onnx": "onnx", ".keras": "keras", ".prototxt": "caffe", ".pbtxt": "caffe"}
_FACTORY = re.compile(r"(?P<module>[A-Za-z_][\w.]*|.+\.py):(?P<attr>[A-Za-z_]\w*)")


def __getattr__(name: str) -> Any:
    """Imported, ImportFailure and Options, defined on first use: loading a spec file (`show`,
    `lint`, `check`) goes through `load_model` and needs none of them."""
    if name in ("Imported", "ImportFailure", "Options"):
        from . import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def kind_of(source: str) -> str:
    """onnx, keras, caffe, factory or spec: which reader takes `source`."""
    suffix = Path(source).suffix.lower()
    if suffix in KINDS:
        return KINDS[suffix]
    if suffix == ".json":
        return "keras" if _keras_json(source) else "spec"
    if not os.path.exists(source) and _FACTORY.fullmatch(source):
        return "factory"
    return "spec"


def _keras_json(path: str) -> bool:
    """A Keras model config (`model.to_json()`): a JSON object with class_name and config."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    return b'"class_name"' in head and b'"config"' in head


def is_model_file(path: str) -> bool:
    return kind_of(path) in ("onnx", "keras", "caffe")


def read(source: str, options: Options | None = None) -> Imported:
    """The source's layers; raises ImportFailure (a SpecError) with one located message."""
    from .model import Options, unreadable

    options = options or Options()
    kind = kind_of(source)
    if kind == "onnx":
        from . import onnx_reader as reader
    elif kind == "keras":
        from . import keras_reader as reader  # type: ignore[no-redef,attr-defined,unused-ignore]
    elif kind == "caffe":
        from . import caffe_reader as reader  # type: ignore[no-redef,attr-defined,unused-ignore]
    elif kind == "factory":
        from . import factory as reader  # type: ignore[no-redef,attr-defined,unused-ignore]
    else:
        raise unreadable(source, "not a model cnncalc imports: give an .onnx, .keras, Keras .json or Caffe "
                                 ".prototxt file, or a Python factory as package.module:function")
    return reader.read(source, options)


def to_spec(imp: Imported, folding: bool = True, command: str = "", file: str | None = None
            ) -> tuple[str, Analysis]:
    """The spec text for `imp` and its analysis, checked layer by layer against the source."""
    from ..analysis import analyse
    from ..errors import SpecError
    from ..spec import loads
    from .model import ImportFailure
    from .write import check, to_text

    file = file or imp.source
    text = to_text(imp, folding, command)
    try:
        a = analyse(loads(text, file))
    except SpecError as err:
        first = err.first
        node = _node_at(imp, text, first.layer, first.loc.line)
        if node is not None and node.where:  # the source's sizes, which no such layer can have
            raise ImportFailure(imp.source, f"{node.where}: {first.message}", first.rule) from None
        lines = text.splitlines()
        if 0 < first.loc.line <= len(lines) and lines[first.loc.line - 1].startswith(("input:", "inputs:")):
            raise ImportFailure(imp.source, f"the model's input: {first.message}", first.rule) from None
        raise ImportFailure(imp.source, f"the imported spec does not analyse: {first.message} [{first.rule}]; "
                                        "please report this as a cnncalc bug", "import-mismatch") from None
    check(imp, a, imp.source)
    return text, a


def _node_at(imp: Imported, text: str, layer: str | None, line: int) -> Node | None:
    """The imported node an error in its spec `text` is about: the layer it names, else the one written
    on its line (one flow mapping per layer); None if neither is one node."""
    import yaml

    by_name = {n.name: n for n in imp.nodes}
    if layer in by_name:
        return by_name[layer]
    lines = text.splitlines()
    if not 0 < line <= len(lines) or not lines[line - 1].startswith("  - {"):  # a top-level layer, no block's
        return None
    try:
        entry = yaml.safe_load(lines[line - 1][4:].split("  # ", 1)[0])
    except yaml.YAMLError:
        return None
    return by_name.get(str(entry.get("name"))) if isinstance(entry, dict) else None


def load_model(path: str | os.PathLike[str], overrides: dict[str, Any] | None = None) -> Network:
    """A spec file, or a model file imported in memory (its layers located in the imported spec)."""
    from ..spec import display_name, load

    name = display_name(path)
    if not is_model_file(name):
        return load(path, overrides)
    from ..spec import loads

    text, _ = to_spec(read(name))
    network = loads(text, f"{name} (imported)", overrides)
    network.text = text
    return network
