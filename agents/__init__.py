"""hloenv.agents (see the open issues)."""
