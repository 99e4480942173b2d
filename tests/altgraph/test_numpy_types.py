"""HLO element types as numpy dtypes, ml_dtypes ones resolved on first use."""

import ml_dtypes
import numpy as np

from hloenv.altgraph.numpy_types import ML_DTYPES, NUMPY_DTYPES, numpy_dtype


def test_every_listed_type_has_its_dtype_and_others_have_none():
    for hlo_type, scalar in NUMPY_DTYPES.items():
        assert numpy_dtype(hlo_type) == np.dtype(scalar)
    for hlo_type, name in ML_DTYPES.items():
        assert numpy_dtype(hlo_type) == np.dtype(getattr(ml_dtypes, name))
    assert numpy_dtype("token") is None and numpy_dtype("f7") is None
