"""Imports the built-in agents so `get_agent(name)` finds them."""

from hloenv.agents import simple  # noqa: F401
