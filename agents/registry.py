"""Imports the built-in agents so `get_agent(name)` finds them."""

from hloenv.agents import greedy, search, simple  # noqa: F401
