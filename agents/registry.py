"""Imports the built-in agents so `get_agent(name)` finds them (gnn only with the `learn` extra)."""

from hloenv.agents import greedy, search, simple  # noqa: F401

try:
    from hloenv.agents import gnn  # noqa: F401
except ImportError:  # torch / torch-geometric not installed
    pass
