"""Bundled HLO modules the project generates from its own JAX code."""
