"""HLO element types as numpy dtypes.

numpy has most of them; bf16, the 4-bit integers and the f8 types come from ml_dtypes, which is
imported at the first use of one of them: importing it takes 0.9 s, which every process that
parsed, rewrote or evaluated a module used to pay, and most programs never need it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: HLO element type -> numpy scalar type, for the types numpy has itself...
NUMPY_DTYPES: dict[str, Any] = {
    "pred": np.bool_,
    "s8": np.int8, "s16": np.int16, "s32": np.int32, "s64": np.int64,
    "u8": np.uint8, "u16": np.uint16, "u32": np.uint32, "u64": np.uint64,
    "f16": np.float16, "f32": np.float32, "f64": np.float64,
    "c64": np.complex64, "c128": np.complex128,
}
#: ...and HLO element type -> ml_dtypes attribute, for the rest.
ML_DTYPES: dict[str, str] = {
    "bf16": "bfloat16", "s4": "int4", "u4": "uint4", "f8e4m3fn": "float8_e4m3fn",
    "f8e5m2": "float8_e5m2", "f8e4m3fnuz": "float8_e4m3fnuz", "f8e5m2fnuz": "float8_e5m2fnuz",
    "f8e4m3b11fnuz": "float8_e4m3b11fnuz", "f8e3m4": "float8_e3m4", "f8e4m3": "float8_e4m3",
    "f8e8m0fnu": "float8_e8m0fnu", "f4e2m1fn": "float4_e2m1fn", "s2": "int2", "u2": "uint2",
}
_resolved: dict[str, np.dtype] = {}


def numpy_dtype(hlo_type: str) -> np.dtype | None:
    """The numpy dtype of an HLO element type, None if there is none (token, tuple, unknown)."""
    dtype = _resolved.get(hlo_type)
    if dtype is None:
        scalar = NUMPY_DTYPES.get(hlo_type)
        if scalar is None:
            name = ML_DTYPES.get(hlo_type)
            if name is None:
                return None
            import ml_dtypes
            scalar = getattr(ml_dtypes, name)
        dtype = _resolved[hlo_type] = np.dtype(scalar)
    return dtype
