"""Folding: repeated module paths become blocks and repeats, and the folded spec analyses to exactly the
layers of the flat one (names, shapes, params, MACs)."""

from __future__ import annotations

from cnncalc import importers
from cnncalc.importers.model import INPUT, Imported, Node


def residual_net(stages: list[tuple[int, int, int]], stem: int = 16) -> Imported:
    """A stem conv, then per stage (count, channels, stride) blocks of conv-bn-relu-conv-bn + shortcut
    (a 1x1 conv where the shape changes) + add + relu, named like torchvision's `layerN.k.*`."""
    nodes = [Node("stem", "conv2d", {"filters": stem, "kernel": 3, "padding": 1}, [INPUT])]
    prev, c_in = "stem", stem
    for s, (count, c, stride) in enumerate(stages, 1):
        for k in range(count):
            p = f"layer{s}.{k}"
            st = stride if k == 0 else 1
            nodes += [Node(f"{p}.conv1", "conv2d", {"filters": c, "kernel": 3, "stride": st, "padding": 1,
                                                    "bias": False}, [prev]),
                      Node(f"{p}.bn1", "batch_norm", {}, [f"{p}.conv1"]),
                      Node(f"{p}.relu", "relu", {}, [f"{p}.bn1"]),
                      Node(f"{p}.conv2", "conv2d", {"filters": c, "kernel": 3, "padding": 1, "bias": False},
                           [f"{p}.relu"]),
                      Node(f"{p}.bn2", "batch_norm", {}, [f"{p}.conv2"])]
            short = prev
            if st != 1 or c != c_in:
                nodes.append(Node(f"{p}.down", "conv2d", {"filters": c, "kernel": 1, "stride": st, "bias": False},
                                  [prev]))
                short = f"{p}.down"
            nodes += [Node(f"{p}.add", "add", {}, [f"{p}.bn2", short]), Node(f"{p}.out", "relu", {}, [f"{p}.add"])]
            prev, c_in = f"{p}.out", c
    nodes += [Node("pool", "global_avg_pool2d", {}, [prev]), Node("fc", "dense", {"units": 10}, ["pool"])]
    return Imported("net", "channels_first", (3, 32, 32), nodes, "net.onnx", "ONNX")


def same_layers(imp: Imported) -> str:
    folded, a = importers.to_spec(imp)
    flat, b = importers.to_spec(imp, folding=False)
    assert [(x.name, x.tensor, x.trainable_params, x.non_trainable_params, x.macs) for x in a.layers] == \
        [(x.name, x.tensor, x.trainable_params, x.non_trainable_params, x.macs) for x in b.layers]
    assert "blocks:" not in flat and len(flat.splitlines()) >= len(folded.splitlines())
    return folded


def test_residual_stages_fold_into_one_block_with_repeats():
    text = same_layers(residual_net([(3, 16, 1), (4, 32, 2), (2, 64, 2)]))
    assert text.count("{block: layer_block, name: layer") == 3
    assert "name: layer1, repeat: 3, filters: 16}" in text
    assert "name: layer2, repeat: 4, filters: 32, stride: '${2 if i == 0 else 1}', down: '${i == 0}'}" in text
    # the shortcut conv exists only where the stride is 2: its stride is written as 2
    assert "{type: conv2d, name: down, inputs: [input], filters: $filters, kernel: 1, stride: 2, bias: false, " \
           "if: $down}" in text
    assert """{type: add, name: add, inputs: [bn2, '${"down" if down else "input"}']}""" in text


def test_a_module_without_a_twin_stays_inline():
    text = same_layers(residual_net([(1, 16, 1)]))
    assert "blocks:" not in text and "{type: conv2d, name: layer1.0.conv1," in text


def test_a_first_copy_that_differs_is_written_with_i():
    text = same_layers(residual_net([(4, 16, 1)], stem=8))  # layer1.0 changes the channels: a shortcut there only
    assert "{block: layer_block, name: layer1, repeat: 4, down: '${i == 0}'}" in text
    assert "params: {down: false}" in text


def test_thousands_of_layers_fold_to_a_few_lines():
    imp = residual_net([(1200, 16, 1)])  # 1 + 1200 * 7 + 2 = 8,403 layers
    assert len(imp.nodes) == 8_403
    text = same_layers(imp)
    assert len(text.splitlines()) < 25
    assert "{block: layer_block, name: layer1, repeat: 1200}" in text


def test_a_fold_up_to_the_layer_limit_stays_folded():
    """9,999 layers in 1,428 uses of one block: block uses do not count against limits.MAX_LAYERS."""
    imp = residual_net([(1428, 16, 1)])
    text, a = importers.to_spec(imp)
    assert "{block: layer_block, name: layer1, repeat: 1428}" in text and len(a.layers) == 9_999
