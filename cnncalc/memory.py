"""Parameter, activation and training memory of an analysed network (convention: docs/memory.md).

One dtype for everything (parameters, activations, gradients, optimizer state), no batch
dimension in the per-sample counts, and every layer output counted as its own tensor (no
in-place reuse; a layer called again with shared weights has an output per call). Training adds a gradient per trainable parameter, the optimizer's state, the
activations autograd keeps for the backward pass (the input and every layer output) and the
largest set of activation gradients alive at once (one layer's output and input gradients).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .graph import INPUT

if TYPE_CHECKING:
    from .analysis import Analysis, LayerResult

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}
# extra copies of the trainable parameters the optimizer keeps (torch.optim state)
OPTIMIZER_STATES = {"sgd": 0, "momentum": 1, "adam": 2}


@dataclass(frozen=True)
class MemoryConfig:
    """What the memory estimate assumes: samples per batch, element type and optimizer."""

    batch_size: int = 1
    dtype: str = "float32"
    optimizer: str = "adam"

    def __post_init__(self) -> None:
        if self.dtype not in DTYPE_BYTES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPE_BYTES)}, got {self.dtype!r}")
        if self.optimizer not in OPTIMIZER_STATES:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZER_STATES)}, got {self.optimizer!r}")
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ValueError(f"batch size must be a positive integer, got {self.batch_size!r}")

    @property
    def bytes_per_element(self) -> int:
        return DTYPE_BYTES[self.dtype]

    def bytes(self, elements_per_sample: int) -> int:
        """Bytes of a per-sample activation count for the whole batch."""
        return elements_per_sample * self.batch_size * self.bytes_per_element


def activation_elements(layer: LayerResult) -> int:
    """Output values of one layer for one sample."""
    return layer.tensor.numel


def memory(a: Analysis, cfg: MemoryConfig | None = None) -> dict[str, Any]:
    """The top-level "memory" object of the JSON output (all byte counts are exact integers)."""
    cfg = cfg or MemoryConfig()
    b = cfg.bytes_per_element
    t = a.totals
    elements = {layer.name: activation_elements(layer) for layer in a.layers}
    input_elements = 0  # every network input
    for _, shape in a.inputs or [(INPUT, a.input_shape)]:
        input_elements += math.prod(shape)
    act = sum(elements.values())
    param_bytes = t["params"] * b
    # While a layer runs backward, the gradient of its output and those of its inputs are alive;
    # no gradient is computed for the network inputs.
    workspace = max((elements[layer.name] + sum(elements[n] for n in layer.inputs if n in elements)
                     for layer in a.layers), default=0)
    training = {
        "param_bytes": param_bytes,
        "gradient_bytes": t["trainable_params"] * b,
        "optimizer_state_bytes": OPTIMIZER_STATES[cfg.optimizer] * t["trainable_params"] * b,
        "saved_activation_bytes": cfg.bytes(input_elements + act),
        "gradient_workspace_bytes": cfg.bytes(workspace),
    }
    training["total_bytes"] = sum(training.values())
    return {
        "batch_size": cfg.batch_size,
        "dtype": cfg.dtype,
        "bytes_per_element": b,
        "optimizer": cfg.optimizer,
        "param_bytes": param_bytes,
        "input_elements": input_elements,
        "input_bytes": cfg.bytes(input_elements),
        "activation_elements": act,
        "activation_bytes": cfg.bytes(act),
        "forward_bytes": param_bytes + cfg.bytes(input_elements + act),
        "training": training,
    }
