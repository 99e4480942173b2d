"""Frontends other than HLO text: StableHLO/MHLO through jaxlib, TensorFlow when installed, JAX."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hloenv.altgraph import HloParseError, Module, parse_hlo
from hloenv.dataset.errors import FrontendUnavailable
from hloenv.dataset.reader import proto_to_text


def stablehlo_to_hlo(mlir: str | bytes) -> str:
    """HLO text (constants in full) of a StableHLO or MHLO module (MLIR text or bytecode).

    Uses jaxlib's own converter (``jaxlib._jax.mlir.mlir_module_to_xla_computation``).

    Raises:
        HloParseError: jaxlib cannot parse or legalise the MLIR.
    """
    from jaxlib import _jax
    try:
        computation = _jax.mlir.mlir_module_to_xla_computation(mlir, use_tuple_args=False,
                                                                return_tuple=False)
    except Exception as err:  # jaxlib raises its own error types
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise HloParseError(f"MLIR not accepted by jaxlib: {first[:300]}") from None
    return proto_to_text(computation.as_serialized_hlo_module_proto())


def load_mlir(path: str | os.PathLike) -> Module:
    """A Module from a StableHLO/MHLO ``.mlir`` file."""
    path = Path(path)
    return parse_hlo(stablehlo_to_hlo(path.read_bytes()), str(path))


def jax_hlo_text(fn: Callable, *args: Any) -> str:
    """Unoptimized HLO text of ``jax.jit(fn)`` on ``args``, constants in full."""
    from hloenv.data.generate import hlo_text_of
    text = hlo_text_of(fn, *args)
    if "{...}" in text:  # large constants elided by jax's printer: go through StableHLO instead
        import jax
        text = stablehlo_to_hlo(jax.jit(fn).lower(*args).as_text())
    return text


def tensorflow_available() -> bool:
    """Whether TensorFlow can be imported here (it is an optional extra: ``pip install hloenv[tf]``)."""
    import importlib.util
    return importlib.util.find_spec("tensorflow") is not None


def tf_hlo_text(fn: Callable, *args: Any) -> str:
    """Unoptimized HLO text of ``tf.function(fn, jit_compile=True)`` on ``args``.

    Raises:
        FrontendUnavailable: TensorFlow is not installed.
    """
    if not tensorflow_available():
        raise FrontendUnavailable("the TensorFlow frontend needs tensorflow "
                                  "(pip install 'hloenv[tf]')")
    import tensorflow as tf
    compiled = tf.function(fn, jit_compile=True)
    proto = compiled.experimental_get_compiler_ir(*args)(stage="hlo_serialized")
    return proto_to_text(proto)
