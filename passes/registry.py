"""Imports every built-in pass so that `get_pass(name)` and pipeline strings find it."""

from hloenv.passes import cse, dce  # noqa: F401
