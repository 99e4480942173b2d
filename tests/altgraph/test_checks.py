"""hloenv.altgraph.checks: the typed errors for numbers users pass, in the same words everywhere."""

from __future__ import annotations

import numpy as np
import pytest

from hloenv.altgraph.checks import check_int, check_number


@pytest.mark.parametrize("value", [0, 7, np.int64(3), np.uint8(1)])
def test_ints_including_numpy_ones_pass(value):
    check_int("n", value)


@pytest.mark.parametrize("value, error, message", [
    (-1, ValueError, "n must be at least 0, not -1"),
    (1.0, TypeError, "n must be an int, not 1.0"),
    (True, TypeError, "n must be an int, not True"),
    ("3", TypeError, "n must be an int, not '3'"),
    (None, TypeError, "n must be an int, not None"),
])
def test_bad_ints_say_what_was_expected(value, error, message):
    with pytest.raises(error, match=message):
        check_int("n", value)


def test_none_only_where_allowed_and_the_minimum_is_the_callers():
    check_int("limit", None, 1, may_be_none=True)
    with pytest.raises(ValueError, match="limit must be at least 1, not 0"):
        check_int("limit", 0, 1, may_be_none=True)
    with pytest.raises(TypeError, match="limit must be an int or None, not 'all'"):
        check_int("limit", "all", 1, may_be_none=True)


@pytest.mark.parametrize("value, above, error, message", [
    (-0.5, False, ValueError, "x must be at least 0, not -0.5"),
    (0, True, ValueError, "x must be more than 0, not 0"),
    (float("nan"), False, ValueError, "x must be at least 0, not nan"),
    ("1e-3", False, TypeError, "x must be a number, not '1e-3'"),
    (False, False, TypeError, "x must be a number, not False"),
])
def test_bad_numbers_say_what_was_expected(value, above, error, message):
    with pytest.raises(error, match=message):
        check_number("x", value, above=above)


@pytest.mark.parametrize("value", [0, 0.25, np.float32(2.0), np.int64(5), float("inf")])
def test_numbers_including_numpy_ones_pass(value):
    check_number("x", value)
