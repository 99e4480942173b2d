"""Imports the built-in agents so `get_agent(name)` finds them.

`gnn` needs torch and torch-geometric (the `learn` extra): it is imported only when asked for, so
running any other agent never loads torch.
"""

from hloenv.agents import greedy, search, simple  # noqa: F401

#: Agents whose module is imported on first use: name -> module.
LAZY_AGENTS = {"gnn": "hloenv.agents.gnn"}
