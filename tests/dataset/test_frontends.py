"""StableHLO/MHLO through jaxlib, JAX functions, and TensorFlow when it is installed."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from hloenv.altgraph import HloParseError
from hloenv.dataset import FrontendUnavailable, from_jax, load, stablehlo_to_hlo, tf_hlo_text

MHLO = """module @m {
  func.func public @main(%arg0: tensor<3xf32>) -> tensor<3xf32> {
    %0 = mhlo.sine %arg0 : tensor<3xf32>
    %1 = mhlo.add %0, %0 : tensor<3xf32>
    return %1 : tensor<3xf32>
  }
}
"""


def test_stablehlo_and_mhlo_text_become_hlo():
    import jax
    import jax.numpy as jnp
    from hloenv.altgraph import parse_hlo

    stablehlo = jax.jit(lambda x: jnp.sin(x) * 2.0).lower(jnp.ones(3)).as_text()
    assert "stablehlo." in stablehlo
    ops = parse_hlo(stablehlo_to_hlo(stablehlo)).opcode_histogram()
    assert ops["sine"] == 1 and ops["multiply"] == 1
    ops = parse_hlo(stablehlo_to_hlo(MHLO)).opcode_histogram()
    assert ops == {"parameter": 1, "sine": 1, "add": 1}
    with pytest.raises(HloParseError, match="MLIR not accepted"):
        stablehlo_to_hlo("module { this is not mlir }")


def test_mlir_files_are_loaded(tmp_path):
    (tmp_path / "m.mlir").write_text(MHLO)
    (tmp_path / "bad.mlir").write_text("garbage")
    ds = load(tmp_path)
    assert ds.names() == ["m"] and ds["m"].tags["opcodes"]["sine"] == 1
    assert [p.kind for p in ds.problems] == ["parse_error"]


def test_from_jax_keeps_large_constants():
    import jax.numpy as jnp

    table = np.arange(2000, dtype=np.float32)

    def lookup_add(x):
        return x + jnp.asarray(table)

    entry = from_jax(lookup_add, jnp.ones(2000, jnp.float32))
    assert entry.name == "lookup_add" and entry.source == "jax:lookup_add"
    text = entry.text()
    assert "{...}" not in text and "1999" in text
    assert entry.backends == ("cpu", "gpu") and entry.tags["opcodes"]["add"] == 1


@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is not None, reason="tensorflow is installed")
def test_tensorflow_frontend_says_it_is_missing():
    with pytest.raises(FrontendUnavailable, match="tensorflow"):
        tf_hlo_text(lambda x: x + 1, np.ones(3, np.float32))


@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None, reason="tensorflow not installed")
def test_tensorflow_function_becomes_hlo():  # pragma: no cover - needs the tf extra
    import tensorflow as tf
    from hloenv.altgraph import parse_hlo
    text = tf_hlo_text(lambda x: tf.sin(x) + 1.0, tf.ones([3]))
    assert parse_hlo(text).opcode_histogram()["sine"] == 1
