"""Vectorised Gamma, Dirichlet and Beta draws for the fund population.

``jax.random.gamma`` draws each variate with its own ``while_loop`` and key split; batched over a
population of 1,000 funds x 4 buckets x many paths that loop is the single largest cost of a
short simulation on CPU (measured in ``benchmarks/bench_sim.py``: about 25 times a normal draw of
the same size). Here every element of a batch draws its candidates at once:

Marsaglia and Tsang (2000), "A simple method for generating gamma variables", ACM Transactions on
Mathematical Software 26(3), 363-372: for shape ``a >= 1`` let ``d = a - 1/3``, ``c = 1/sqrt(9d)``;
draw ``x ~ N(0, 1)``, ``u ~ U(0, 1)``, ``v = (1 + c x)^3``; accept ``d v`` when ``v > 0`` and
``log u < x^2/2 + d - d v + d log v`` (acceptance >= 95%). For ``a < 1`` draw with ``a + 1`` and
multiply by ``u^(1/a)`` (their section 6).

``ROUNDS`` candidates per element are drawn in one batch; the rare elements with no accepted
candidate draw again in a ``while_loop`` over the whole batch until every element is accepted, so
the result is exact, not truncated. Dirichlet = normalised independent Gammas, Beta(a, b) =
G_a / (G_a + G_b) (Devroye 1986, "Non-Uniform Random Variate Generation", ch. IX).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

#: candidates drawn per element before the (rarely taken) loop; with acceptance >= 0.95 the
#: chance an element needs the loop is <= 0.05**ROUNDS
ROUNDS = 4


def gamma(key: jax.Array, a: jax.Array, shape: tuple[int, ...]) -> jax.Array:
    """Gamma(a, 1) variates of ``shape`` (``a`` broadcasts to it; float64)."""
    a = jnp.broadcast_to(jnp.asarray(a, jnp.float64), shape)
    boost = a < 1.0
    d = jnp.where(boost, a + 1.0, a) - 1.0 / 3.0
    c = 1.0 / jnp.sqrt(9.0 * d)
    k_boost, k_first, k_loop = jax.random.split(key, 3)

    def candidates(k):
        kx, ku = jax.random.split(k)
        x = jax.random.normal(kx, (ROUNDS, *shape), jnp.float64)
        u = jax.random.uniform(ku, (ROUNDS, *shape), jnp.float64)
        v = (1.0 + c * x) ** 3
        vp = jnp.where(v > 0.0, v, 1.0)
        ok = (v > 0.0) & (jnp.log(u) < 0.5 * x * x + d - d * vp + d * jnp.log(vp))
        val, any_ok = d * vp[-1], ok[-1]
        for r in range(ROUNDS - 2, -1, -1):  # the first accepted candidate wins
            val = jnp.where(ok[r], d * vp[r], val)
            any_ok = any_ok | ok[r]
        return val, any_ok

    def again(carry):
        val, done, k = carry
        k, sub = jax.random.split(k)
        new, ok = candidates(sub)
        take = ~done & ok
        return jnp.where(take, new, val), done | ok, k

    val, done = candidates(k_first)
    val, _, _ = jax.lax.while_loop(lambda c_: ~jnp.all(c_[1]), again, (val, done, k_loop))
    u = jax.random.uniform(k_boost, shape, jnp.float64, minval=jnp.finfo(jnp.float64).tiny)
    return jnp.where(boost, val * u ** (1.0 / jnp.where(boost, a, 1.0)), val)


def dirichlet(key: jax.Array, alpha: jax.Array, n: int) -> jax.Array:
    """``n`` draws from Dirichlet(``alpha``): shape ``[K, n]`` (components first, draws last)."""
    g = gamma(key, alpha[:, None], (alpha.shape[0], n))
    return g / g.sum(0)


def beta(key: jax.Array, a: jax.Array, b: jax.Array, n: int) -> jax.Array:
    """``n`` draws from Beta(``a``, ``b``)."""
    g = gamma(key, jnp.stack([a, b])[:, None], (2, n))
    return g[0] / (g[0] + g[1])
