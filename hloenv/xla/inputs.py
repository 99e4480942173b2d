"""Deterministic module inputs from a seed, for every HLO element type.

Floats are N(0, 1), integers uniform in ``[0, INT_HIGH)``, booleans fair coin flips, complex
numbers have N(0, 1) real and imaginary parts. No array with elements is ever all zeros. Each
array leaf has its own random stream, derived from ``(seed, parameter number, leaf number)``, so
adding a parameter never changes the inputs of the others.

Tuple parameters become Python tuples; a token becomes an empty ``bool`` array, which is what
PJRT takes and returns for tokens. This module needs numpy (and ml_dtypes, installed with jax)
only: worker processes use it to build inputs without shipping arrays through a pipe.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Union

import numpy as np

from hloenv.altgraph.numpy_types import ML_DTYPES, NUMPY_DTYPES  # noqa: F401  (re-exported)
from hloenv.altgraph.numpy_types import numpy_dtype as hlo_numpy_dtype

#: Integers are drawn from ``[0, INT_HIGH)``: small, non-negative, safe as indices and shifts.
INT_HIGH = 5

# A parameter spec is plain data so it pickles cheaply into a worker:
#   ("array", dtype, dims) | ("tuple", (spec, ...)) | ("token",)
Spec = tuple
Value = Union[np.ndarray, tuple]


def spec_of(shape: Any) -> Spec:
    """The plain-data spec of an IR ``Shape``."""
    if shape.is_tuple:
        return ("tuple", tuple(spec_of(s) for s in shape.tuple_shapes))
    if shape.is_token:
        return ("token",)
    return ("array", shape.dtype, tuple(int(d) for d in shape.dims))


def parameter_specs(module: Any) -> list[Spec]:
    """Specs of the entry computation's parameters, in parameter order."""
    return [spec_of(p.shape) for p in module.entry.parameters]


def numpy_dtype(dtype: str) -> np.dtype:
    """The numpy dtype of an HLO element type; ValueError if there is none."""
    np_dtype = hlo_numpy_dtype(dtype)
    if np_dtype is None:
        raise ValueError(f"no numpy dtype for HLO element type {dtype!r}")
    return np_dtype


def random_array(dtype: str, dims: Sequence[int], rng: np.random.Generator) -> np.ndarray:
    """One array of HLO type ``dtype`` and shape ``dims`` drawn from ``rng``; never all zeros."""
    np_dtype = numpy_dtype(dtype)
    dims = tuple(dims)
    if dtype == "pred":
        out = rng.random(dims) < 0.5
    elif dtype.startswith("c"):
        part = np.float32 if dtype == "c64" else np.float64
        out = (rng.standard_normal(dims, dtype=part) + 1j * rng.standard_normal(dims, dtype=part))
    elif dtype.startswith(("s", "u")):
        out = rng.integers(0, INT_HIGH, size=dims, dtype=np.int64)
    else:
        out = rng.standard_normal(dims, dtype=np.float64 if dtype == "f64" else np.float32)
    out = np.asarray(out).astype(np_dtype)
    if out.size and not out.any():
        out.reshape(-1)[0] = np_dtype.type(1)
    return out


def _leaf_stream(seed: int, param: int, leaf: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, param, leaf]))


def inputs_from_specs(specs: Iterable[Spec], seed: int = 0) -> list[Value]:
    """Inputs for parameters given as specs (see :func:`spec_of`)."""
    out: list[Value] = []
    for number, spec in enumerate(specs):
        counter = [0]

        def build(s: Spec) -> Value:
            kind = s[0]
            if kind == "tuple":
                return tuple(build(e) for e in s[1])
            if kind == "token":
                return np.zeros((0,), np.bool_)
            counter[0] += 1
            return random_array(s[1], s[2], _leaf_stream(seed, number, counter[0] - 1))

        out.append(build(spec))
    return out


def checked_inputs(values: Sequence[Any] | None, specs: Sequence[Spec]) -> list[Value] | None:
    """A user's inputs for parameters given as specs, as the arrays PJRT takes (None for none
    given: the seeded inputs are drawn in the worker): one value per
    parameter (a tuple for a tuple parameter), each of the parameter's shape, converted to its
    element type where numpy converts without changing kind (Python floats for an f32, int64
    for an s32; not floats for an integer parameter).

    Raises:
        ValueError: A count, shape or element type that does not fit, naming the parameter.
    """
    if values is None:
        return None
    if isinstance(values, np.ndarray) or not isinstance(values, Sequence):
        raise ValueError(f"inputs are a list with one value per parameter ({len(specs)}), not a "
                         f"{type(values).__name__}")
    if len(values) != len(specs):
        raise ValueError(f"{len(values)} input{'' if len(values) == 1 else 's'} for {len(specs)} parameters")

    def fit(value: Any, spec: Spec, where: str) -> Value:
        if spec[0] == "tuple":
            if not isinstance(value, (tuple, list)) or len(value) != len(spec[1]):
                raise ValueError(f"{where} is a tuple of {len(spec[1])} values, not {type(value).__name__}")
            return tuple(fit(v, s, f"{where}[{k}]") for k, (v, s) in enumerate(zip(value, spec[1])))
        if spec[0] == "token":
            return np.zeros((0,), np.bool_)
        dtype, dims = numpy_dtype(spec[1]), tuple(spec[2])
        array = np.asarray(value)
        if array.shape != dims:
            raise ValueError(f"{where} has shape {array.shape}, the parameter {spec[1]}{list(dims)}")
        if array.dtype != dtype:
            floats = "fcV"  # (V: ml_dtypes' bfloat16 and float8 types)
            fits = (array.dtype.kind in "iub" and dtype.kind in "iu" + floats) or (
                array.dtype.kind in floats and dtype.kind in floats and (array.dtype.kind != "c" or dtype.kind == "c"))
            if not fits:
                raise ValueError(f"{where} holds {array.dtype}, the parameter {spec[1]}")
            array = array.astype(dtype)
        return np.ascontiguousarray(array)
    return [fit(v, s, f"input {k}") for k, (v, s) in enumerate(zip(values, specs))]


def make_inputs(module: Any, seed: int = 0) -> list[Value]:
    """Deterministic inputs for ``module``'s entry parameters.

    Args:
        module: A Module, HLO text or a path to an HLO file.
        seed: Same seed, same inputs.

    Returns:
        One value per parameter: a numpy array, a tuple of values for a tuple parameter, or an
        empty bool array for a token.
    """
    from hloenv.xla.source import as_module
    return inputs_from_specs(parameter_specs(as_module(module)), seed)


def flatten(values: Iterable[Value]) -> list[np.ndarray]:
    """Leaves in the order PJRT takes them: tuples flattened depth-first."""
    flat: list[np.ndarray] = []
    for v in values:
        if isinstance(v, tuple):
            flat.extend(flatten(v))
        else:
            flat.append(v)
    return flat
