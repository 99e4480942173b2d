"""The HLO graph IR: shapes, instructions, computations, modules; parser, printer, verifier."""

from hloenv.altgraph.computation import Computation
from hloenv.altgraph.errors import HloError, HloParseError, HloVerifyError
from hloenv.altgraph.instruction import Instruction
from hloenv.altgraph.module import Module
from hloenv.altgraph.parser import load_hlo, parse_hlo
from hloenv.altgraph.shape import Shape, array, parse_shape, tuple_of

__all__ = [
    "Computation", "HloError", "HloParseError", "HloVerifyError", "Instruction", "Module",
    "Shape", "array", "load_hlo", "parse_hlo", "parse_shape", "tuple_of",
]
