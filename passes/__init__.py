"""hloenv.passes (see the open issues)."""
