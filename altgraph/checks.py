"""Typed errors for the numbers users pass (counts, seconds, seeds, tolerances), by name.

Shared by the env's settings, `evaluate`/`compare`, `run_bench`, the agents and the training
script, so each refuses what it cannot use in the same words. It sits on the lowest floor (the
standard library only) so that every floor, the XLA bridge included, may use it. numpy's integers and floats count as ints and numbers (they are
`numbers.Integral` / `numbers.Real`); bools do not. `did_you_mean` is the hint for a misspelled name.
"""

from __future__ import annotations

from collections.abc import Iterable
from numbers import Integral, Real


def did_you_mean(word: str, known: Iterable[str], n: int = 2) -> str:
    """`" (did you mean 'a', 'b'?)"` for the names of `known` close to `word`; "" if none is."""
    import difflib
    close = difflib.get_close_matches(word, sorted(known), n=n)
    return f" (did you mean {', '.join(map(repr, close))}?)" if close else ""


def check_int(name: str, value: object, minimum: int = 0, *, may_be_none: bool = False) -> None:
    """`value` is an int >= `minimum` (or None when `may_be_none`)."""
    if value is None and may_be_none:
        return
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an int{' or None' if may_be_none else ''}, not {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {value}")


def check_number(name: str, value: object, minimum: float = 0.0, *, above: bool = False,
                 may_be_none: bool = False) -> None:
    """`value` is a real number >= `minimum` (> with `above`; never NaN), or None when `may_be_none`."""
    if value is None and may_be_none:
        return
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number{' or None' if may_be_none else ''}, not {value!r}")
    if value != value or value < minimum or (above and value == minimum):
        raise ValueError(f"{name} must be {'more than' if above else 'at least'} {minimum:g}, not {value}")
