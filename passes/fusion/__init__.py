"""Fusion passes: `fusion` (instruction fusion), `multi-output-fusion` and `fusion-merger`; `defuse`,
their inverse, and `same_program_unfused`, the exact check of any choice of fusions.

Options XLA's own heuristic would take carry a rule ending in `:xla`; `xla_like_choices(module)`
returns, for every alternatives node, the index of that option (0 where XLA would not rewrite).
"""

from hloenv.passes.fusion.defuse import Defuse, same_program_unfused, unfused_fingerprint
from hloenv.passes.fusion.instruction_fusion import XLA_SUFFIX, InstructionFusion, is_xla_choice, xla_like_choices

__all__ = ["XLA_SUFFIX", "Defuse", "InstructionFusion", "is_xla_choice", "same_program_unfused",
           "unfused_fingerprint", "xla_like_choices"]
