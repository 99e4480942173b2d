"""Imports every built-in pass so that `get_pass(name)` and pipeline strings find it."""

from hloenv.passes import cse, dce  # noqa: F401
from hloenv.passes import call_inliner, reshape_mover, transpose_folding, tuple_simplifier  # noqa: F401
from hloenv.passes.fusion import defuse, fusion_merger, instruction_fusion, multi_output_fusion  # noqa: F401
from hloenv.passes import algsimp  # noqa: F401
from hloenv.passes import constant_folding  # noqa: F401
