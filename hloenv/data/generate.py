"""Regenerate the bundled HLO modules from the project's own JAX workloads.

    python -m hloenv.data.generate            # rewrites hloenv/data/*.hlo

Each module is the unoptimized HLO that `jax.jit(fn).lower(*args)` produces, exactly what a user
would harvest; constants are printed in full (the script refuses elided ones).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent
DEFAULT_MODULE = "mlp_train_step.hlo"


def _workloads() -> dict[str, tuple[Callable, tuple]]:
    import jax
    import jax.numpy as jnp

    key = jax.random.PRNGKey(0)
    k1, k2, k3, k4 = jax.random.split(key, 4)

    def mlp_loss(params, x, y):
        h = x
        for w, b in params[:-1]:
            h = jax.nn.relu(h @ w + b)
        w, b = params[-1]
        logits = h @ w + b
        return -jnp.mean(jnp.sum(jax.nn.log_softmax(logits) * y, axis=-1))

    def mlp_train_step(params, x, y):
        loss, grads = jax.value_and_grad(mlp_loss)(params, x, y)
        new = jax.tree_util.tree_map(lambda p, g: p - 0.01 * g, params, grads)
        return new, loss

    sizes = [32, 64, 64, 10]
    mlp_params = [(jax.random.normal(k, (a, b)) * 0.1, jnp.zeros(b))
                  for k, a, b in zip(jax.random.split(k1, 3), sizes[:-1], sizes[1:])]
    x = jax.random.normal(k2, (16, 32))
    y = jax.nn.one_hot(jnp.arange(16) % 10, 10)

    def conv_forward(w1, w2, images):
        h = jax.lax.conv_general_dilated(images, w1, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
        h = jax.nn.relu(h)
        h = jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
        h = jax.lax.conv_general_dilated(h, w2, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
        return jnp.mean(jax.nn.relu(h), axis=(1, 2))

    def transformer_block(x, wq, wk, wv, wo, w1, w2):
        def norm(v):
            mu = v.mean(-1, keepdims=True)
            return (v - mu) * jax.lax.rsqrt(((v - mu) ** 2).mean(-1, keepdims=True) + 1e-5)
        h = norm(x)
        q, k, v = h @ wq, h @ wk, h @ wv
        att = jax.nn.softmax(q @ jnp.swapaxes(k, -1, -2) / jnp.sqrt(q.shape[-1]), axis=-1)
        x = x + (att @ v) @ wo
        return x + jax.nn.gelu(norm(x) @ w1) @ w2

    d = 32
    tparams = [jax.random.normal(k, s) * 0.1 for k, s in
               zip(jax.random.split(k3, 6), [(d, d)] * 4 + [(d, 4 * d), (4 * d, d)])]

    def scan_rnn(w, xs):
        def cell(h, x):
            h = jnp.tanh(h @ w + x)
            return h, h.sum()
        return jax.lax.scan(cell, jnp.zeros(xs.shape[-1]), xs)

    def rng_dropout(key, x):
        keep = jax.random.bernoulli(key, 0.9, x.shape)
        noise = jax.random.normal(jax.random.fold_in(key, 1), x.shape)
        return jnp.where(keep, x / 0.9, 0.0) + 0.01 * noise

    return {
        "mlp_train_step.hlo": (mlp_train_step, (mlp_params, x, y)),
        "convnet_forward.hlo": (conv_forward, (jax.random.normal(k4, (3, 3, 3, 8)) * 0.1,
                                               jax.random.normal(k4, (3, 3, 8, 16)) * 0.1,
                                               jax.random.normal(k2, (2, 16, 16, 3)))),
        "transformer_block.hlo": (transformer_block, (jax.random.normal(k3, (2, 16, d)), *tparams)),
        "scan_rnn.hlo": (scan_rnn, (jax.random.normal(k1, (16, 16)) * 0.1, jax.random.normal(k2, (12, 16)))),
        "rng_dropout.hlo": (rng_dropout, (key, jax.random.normal(k2, (64, 64)))),
    }


def hlo_text_of(fn: Callable, *args) -> str:
    """The unoptimized HLO text of `jax.jit(fn)` on `args`."""
    import jax
    return jax.jit(fn).lower(*args).as_text(dialect="hlo")


def main() -> None:
    from hloenv.altgraph import parse_hlo
    for name, (fn, args) in _workloads().items():
        text = hlo_text_of(fn, *args)
        module = parse_hlo(text, name)  # refuses elided constants
        (DATA_DIR / name).write_text(module.to_text())
        print(f"wrote {name}: {module.instruction_count} instructions")


if __name__ == "__main__":
    main()
