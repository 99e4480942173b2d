"""Imports the built-in agents so `get_agent(name)` finds them.

`gnn` needs torch and torch-geometric (the `learn` extra): it is imported only when asked for, so
running any other agent never loads torch.
"""

#: Agents whose module is imported on first use: name -> module. (Defined before the imports
#: below: `register_agent`, which they run, reads it from this half-imported module.)
LAZY_AGENTS = {"gnn": "hloenv.agents.gnn"}

from hloenv.agents import greedy, search, simple  # noqa: E402, F401
