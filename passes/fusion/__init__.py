"""Fusion passes: `fusion` (instruction fusion), `multi-output-fusion` and `fusion-merger`.

Options XLA's own heuristic would take carry a rule ending in `:xla`; `xla_like_choices(module)`
returns, for every alternatives node, the index of that option (0 where XLA would not rewrite).
"""

from hloenv.passes.fusion.instruction_fusion import XLA_SUFFIX, InstructionFusion, is_xla_choice, xla_like_choices

__all__ = ["XLA_SUFFIX", "InstructionFusion", "is_xla_choice", "xla_like_choices"]
