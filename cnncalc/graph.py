"""The layer graph: topological order and cycle detection, in linear time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import Diagnostic, SpecError

if TYPE_CHECKING:
    from .spec import LayerSpec

from .spec import INPUT  # noqa: F401 - the name of the network input, re-exported


def topo_order(layers: list[LayerSpec]) -> list[LayerSpec]:
    """Layers ordered so that every layer follows its inputs; definition order where free.

    Raises SpecError naming the cycle if there is one.
    """
    index = {spec.name: i for i, spec in enumerate(layers)}
    # Most specs list every layer after its inputs: then that order is already the answer (the
    # smallest-index-first order below would reproduce it), found in one pass.
    get = index.get
    if all(get(src, -1) < i for i, spec in enumerate(layers) for src in spec.inputs):
        return list(layers)
    import heapq

    indegree = [0] * len(layers)
    consumers: list[list[int]] = [[] for _ in layers]
    for i, spec in enumerate(layers):
        for src in spec.inputs:
            j = index.get(src)
            if j is not None:
                indegree[i] += 1
                consumers[j].append(i)
    ready = [i for i, d in enumerate(indegree) if d == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for k in consumers[i]:
            indegree[k] -= 1
            if indegree[k] == 0:
                heapq.heappush(ready, k)
    if len(order) < len(layers):
        raise SpecError(_cycle(layers, index, {i for i, d in enumerate(indegree) if d > 0}))
    return [layers[i] for i in order]


def _cycle(layers: list[LayerSpec], index: dict[str, int], stuck: set[int]) -> Diagnostic:
    start = min(stuck)
    path = [start]
    seen = {start: 0}
    node = start
    while True:
        node = next(index[s] for s in layers[node].inputs if s in index and index[s] in stuck)
        if node in seen:
            cycle = path[seen[node]:] + [node]
            break
        seen[node] = len(path)
        path.append(node)
    names = " → ".join(layers[i].name for i in reversed(cycle))
    first = layers[cycle[0]]
    return Diagnostic("error", f"cycle in the layer graph: {names}; a layer cannot depend on its own output",
                      first.where("inputs"), "cycle", first.name)
