"""The frameworks' own names for activations, dense layers, softmax and attention: PyTorch and Keras
class names are type names, their constructor arguments are parameter names, and the arguments that
restate what cnncalc infers are checked against it."""

from __future__ import annotations

import inspect
import os

import pytest

import cnncalc
from cnncalc.layers import all_types, lookup
from cnncalc.layers.activations import Activation

MODULES = ("activations", "softmax", "dense", "attention", "patch_embedding")
MINE = [cls for cls in all_types().values() if cls.__module__.rsplit(".", 1)[-1] in MODULES]
NO_CLASS = ("patch_embedding", "select_token")  # ViT's code, not a class of either framework

# PyTorch and Keras class names of types that are not activations (those declare theirs)
CLASSES = {"dense": ["nn.Linear", "torch.nn.Linear", "nn.LazyLinear", "keras.layers.Dense", "Dense"],
           "softmax": ["nn.Softmax", "layers.Softmax"], "log_softmax": ["nn.LogSoftmax", "log_softmax"],
           "multi_head_attention": ["nn.MultiheadAttention", "keras.layers.MultiHeadAttention"],
           "prelu": ["nn.PReLU", "keras.layers.PReLU"]}
# arguments that change no number cnncalc computes, or that hold values rather than sizes
IGNORED = {"device", "dtype", "name", "kernel_initializer", "bias_initializer", "kernel_regularizer",
           "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint", "kwargs", "seed",
           "alpha_initializer", "alpha_regularizer", "alpha_constraint", "attention_axes", "sliding_window",
           "flash_attention", "use_gate", "lora_rank", "lora_alpha", "quantization_config", "self", "args"}
# Keras's ReLU options make other functions, which are types of their own (relu6, leaky_relu); torch's
# Hardtanh keeps deprecated spellings of min_val and max_val
NOT_HERE = {"relu": {"max_value", "negative_slope", "threshold"}, "relu6": {"max_value", "negative_slope", "threshold"},
            "hardtanh": {"min_value", "max_value"}}


@pytest.mark.parametrize("cls", [c for c in MINE if c.name not in NO_CLASS], ids=lambda c: c.name)
def test_framework_class_names_are_type_names(cls):
    names = list(CLASSES.get(cls.name, []))
    if issubclass(cls, Activation):
        names += [cls.torch_class, f"torch.{cls.torch_class}", cls.keras_name or cls.name]
        if cls.keras_class and not cls.keras_fixed:  # Keras's ReLU(max_value=6) is relu6
            names += [cls.keras_class, cls.keras_class.replace("layers.", "keras.layers.")]
    assert names
    for name in names:
        assert lookup(name) is cls, name


def _accepted(cls) -> set[str]:
    return {n for pname, p in cls.params.items() for n in (pname, *p.aliases)}


def _torch_and_keras_classes(cls) -> list:
    torch = pytest.importorskip("torch")
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    found = []
    for name in CLASSES.get(cls.name, []) + ([cls.torch_class, cls.keras_class] if issubclass(cls, Activation) else []):
        for prefix, module in (("torch.nn.", torch.nn), ("nn.", torch.nn), ("keras.layers.", keras.layers),
                               ("layers.", keras.layers)):
            if name.startswith(prefix) and hasattr(module, name[len(prefix):]):
                found.append(getattr(module, name[len(prefix):]))
                break
    return list(dict.fromkeys(found))


@pytest.mark.parametrize("cls", [c for c in MINE if c.name not in NO_CLASS], ids=lambda c: c.name)
def test_the_frameworks_argument_names_are_parameters(cls):
    """Every constructor argument of the PyTorch module and the Keras layer that sets a number cnncalc
    computes (or states one) is a parameter name or alias of the type."""
    classes = _torch_and_keras_classes(cls)
    assert classes
    for framework_class in classes:
        args = set(inspect.signature(framework_class.__init__).parameters) - IGNORED - NOT_HERE.get(cls.name, set())
        assert args <= _accepted(cls), (framework_class, args - _accepted(cls))


@pytest.mark.parametrize("layer,message,value", [
    ("{type: dense, in_features: 100, units: 5}", "in_features 100, but its input has 12 features", "100"),
    ("{type: MultiheadAttention, embed_dim: 16, num_heads: 2}", "embed_dim 16, but its input has 12 features", "16"),
    ("{type: nn.MultiheadAttention, embed_dim: 12, num_heads: 2, vdim: 6}", "vdim 6, but its input has 12", "6}"),
    ("{type: nn.PReLU, num_parameters: 7}", "num_parameters 7, but its input has 12 channels", "7"),
])
def test_restated_sizes_are_checked_at_their_value(layer, message, value):
    text = f"input: [3, 12]\nlayers:\n  - {layer}\n"
    with pytest.raises(cnncalc.SpecError) as info:
        cnncalc.analyse(cnncalc.loads(text, "n.yaml"))
    d = info.value.first
    assert message in d.message and (d.loc.line, d.loc.col) == (3, text.splitlines()[2].index(value) + 1)


def test_torch_inplace_is_accepted_and_changes_nothing():
    plain = cnncalc.analyse(cnncalc.loads("input: [4, 4, 3]\nlayers: [relu, relu6, silu, hardswish]\n"))
    inplace = cnncalc.analyse(cnncalc.loads("input: [4, 4, 3]\nlayers:\n" + "".join(
        f"  - {{type: {t}, inplace: true}}\n" for t in ("ReLU", "ReLU6", "SiLU", "Hardswish"))))
    assert inplace.totals == plain.totals
