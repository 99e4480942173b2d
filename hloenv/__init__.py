"""hloenv: a reinforcement-learning graph-rewrite environment for XLA HLO."""

from hloenv.altgraph import (Computation, HloError, HloParseError, HloVerifyError, Instruction, Module,
                             Shape, load_hlo, parse_hlo)

__version__ = "0.1.0"

__all__ = [
    "Computation", "HloError", "HloParseError", "HloVerifyError", "Instruction", "Module", "Shape",
    "load_hlo", "parse_hlo",
]
