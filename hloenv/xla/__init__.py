"""The XLA bridge: compile, run, time and compare modules through jaxlib."""
