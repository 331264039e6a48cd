"""What a spec may cost: every size a file controls is bounded, so that any file is answered
quickly or refused with a located error. Real networks stay far below each limit (ResNet-152 has
~500 layers and ~550 connections; DenseNet-264's widest concat reads 65 tensors)."""

MAX_LAYERS = 10_000  # layers after blocks and repeats are expanded
MAX_COPIES = 100_000  # layer and block copies made while expanding, those an `if` drops included
MAX_CONNECTIONS = 100_000  # layer inputs in all, counted after expansion
MAX_FAN_IN = 1_000  # inputs of one layer (a merge)
MAX_BLOCK_DEPTH = 16  # blocks used inside blocks
MAX_ERRORS = 1000  # per file, counting repeats of the same error
MAX_DIM = 1 << 24  # no real tensor has a side of 16M; refusing it keeps the arithmetic sane
MAX_VERIFY_BYTES = 2 * 10**9  # weights + activations `verify` may allocate in the framework (float32, batch 1)
MAX_SWEEP = 1000  # values of one `show --sweep` (each is a full analysis)

# worked examples (`conv --values`, `pool --values`): small matrices written out by hand
MAX_WORKED_CELLS = 10_000  # values of an input, a filter, and of the output matrix
MAX_WORKED_TERMS = 1_000_000  # products or window values the derivations write out
MAX_WORKED_VALUE = 10**15  # the largest value: sums of products stay exact and finite
MAX_VALUES_BYTES = 1 << 20  # a --values file or standard input
