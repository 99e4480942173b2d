"""hloenv.dataset (see the open issues)."""
