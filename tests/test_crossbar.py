"""Crossbar arrays: ideal limit, finite neuron conductance, IR drop, levels, noise, gradients.

All in float64 (conftest), small arrays: exactness checks compare to 1e-10 relative, far
above float64 round-off (1e-16 x the conditioning ~1e4 of the nodal systems) and far below
any physical effect checked (IR drop here is >= 1e-5 relative).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spinjax.circuits import (CrossbarArray, conductance_levels, dense_nodal_currents,
                              kirchhoff_currents, quantize_conductance, tile_column_currents,
                              tiled_ir_drop_currents)

RNG = np.random.default_rng(7)
W = RNG.uniform(-1.0, 1.0, (12, 5))
X = RNG.uniform(-1.0, 1.0, (4, 12))
G_MIN, G_MAX = 1 / 3.7e6, 20 / 3.7e6


@pytest.mark.parametrize("scheme", ["differential", "offset"])
def test_ideal_limit_is_the_matrix_product(scheme):
    xb = CrossbarArray(read_voltage=0.1, bits=None, neuron_conductance=jnp.inf, scheme=scheme)
    i = xb.currents(xb.program(W, w_max=1.0), X)
    np.testing.assert_allclose(i / xb.weight_scale(1.0), X @ W, rtol=1e-10, atol=1e-12)


def test_finite_neuron_conductance_matches_the_closed_form():
    xb = CrossbarArray(read_voltage=0.08, bits=None, neuron_conductance=1 / 400)
    g = xb.program(W, w_max=1.0)
    i = np.asarray(xb.currents(g, X))
    gp, gm = np.asarray(g.plus), np.asarray(g.minus)
    for j in range(W.shape[1]):  # physics.md 6, written out per column
        gamma = (gp[:, j] + gm[:, j]).sum() * 400
        expected = (0.08 * X @ gp[:, j] - 0.08 * X @ gm[:, j]) / (1 + gamma)
        np.testing.assert_allclose(i[:, j], expected, rtol=1e-12)
    # The column node sits at I / G_s: loading shrinks the currents by 1 / (1 + gamma).
    ideal = np.asarray(CrossbarArray(read_voltage=0.08, bits=None,
                                     neuron_conductance=jnp.inf).currents(g, X))
    assert np.all(np.abs(i) < np.abs(ideal))


@pytest.mark.parametrize("r_wire", [1.0, 100.0, 1e4])
def test_ir_drop_matches_a_dense_nodal_solve(r_wire):
    g = RNG.uniform(G_MIN, G_MAX, (6, 5))
    v = RNG.uniform(-0.1, 0.1, 6)
    expected = dense_nodal_currents(g, v, r_wire, 2.5e-3)
    got = np.asarray(tiled_ir_drop_currents(g, v, r_wire, 2.5e-3))
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-20)
    # and the drop is real: it differs from ideal wires by more than the tolerance
    ideal = np.asarray(kirchhoff_currents(g, v, 2.5e-3))
    assert np.max(np.abs(got - ideal) / np.abs(ideal)) > 1e-6


def test_tiles_join_at_the_neuron_node():
    g = RNG.uniform(G_MIN, G_MAX, (8, 6))
    v = RNG.uniform(-0.1, 0.1, (3, 8))
    # Negligible wire resistance: any tiling is the closed form.
    tiled = tiled_ir_drop_currents(g, v, 1e-6, 2.5e-3, tile_rows=4, tile_cols=3)
    np.testing.assert_allclose(tiled, kirchhoff_currents(g, v, 2.5e-3), rtol=1e-8)
    # Resistive wires: shorter tiles lose less to IR drop than one long array.
    whole = tiled_ir_drop_currents(g, v, 500.0, 2.5e-3)
    split = tiled_ir_drop_currents(g, v, 500.0, 2.5e-3, tile_rows=4)
    ideal = kirchhoff_currents(g, v, 2.5e-3)
    assert np.linalg.norm(split - ideal) < np.linalg.norm(whole - ideal)


def test_crossbar_with_wires_uses_the_nodal_solve():
    xb = CrossbarArray(read_voltage=0.1, bits=None, wire_resistance=50.0)
    g = xb.program(W[:3, :4], w_max=1.0)
    x = X[:1, :3]
    rows = np.concatenate([np.asarray(g.plus), np.asarray(g.minus)])
    v = np.concatenate([0.1 * x[0], -0.1 * x[0]])
    np.testing.assert_allclose(xb.currents(g, x)[0], dense_nodal_currents(rows, v, 50.0, 1 / 400),
                               rtol=1e-10)


def test_quantisation_is_exactly_n_bit():
    for bits in (1, 4, 6):
        xb = CrossbarArray(bits=bits)
        g = xb.program(W, w_max=1.0)
        values = np.unique(np.concatenate([np.ravel(g.plus), np.ravel(g.minus)]))
        levels = np.asarray(conductance_levels(G_MIN, G_MAX, bits))
        assert len(levels) == 2**bits
        assert np.all(np.min(np.abs(values[:, None] - levels[None, :]), axis=1) < 1e-18)
    dense = np.linspace(-1.0, 1.0, 2001)[:, None]
    used = np.unique(np.asarray(CrossbarArray(bits=4).program(dense, 1.0).plus))
    assert len(used) == 16  # all levels reachable, none other
    # Straight-through gradient: d q / d g = 1 inside the range.
    grad = jax.grad(lambda g: jnp.sum(quantize_conductance(g, G_MIN, G_MAX, 4)))(
        jnp.array([2e-6, 3e-6]))
    np.testing.assert_allclose(grad, 1.0)


def test_gradients_match_finite_differences():
    xb = CrossbarArray(read_voltage=0.05, bits=None, neuron_conductance=1 / 400)
    w0, x = jnp.asarray(W), jnp.asarray(X)

    def loss(w, dv, gs):
        arr = CrossbarArray(read_voltage=dv, bits=None, neuron_conductance=gs)
        return jnp.sum(jnp.tanh(arr.currents(arr.program(w, 1.2), x) / 1e-6))

    grads = jax.grad(loss, argnums=(0, 1, 2))(w0, 0.05, 1 / 400)
    h = 1e-6
    e = jnp.zeros_like(w0).at[2, 3].set(h)
    fd_w = (loss(w0 + e, 0.05, 1 / 400) - loss(w0 - e, 0.05, 1 / 400)) / (2 * h)
    fd_dv = (loss(w0, 0.05 + 1e-8, 1 / 400) - loss(w0, 0.05 - 1e-8, 1 / 400)) / 2e-8
    fd_gs = (loss(w0, 0.05, 1 / 400 + 1e-9) - loss(w0, 0.05, 1 / 400 - 1e-9)) / 2e-9
    np.testing.assert_allclose(grads[0][2, 3], fd_w, rtol=1e-6)
    np.testing.assert_allclose(grads[1], fd_dv, rtol=1e-6)
    np.testing.assert_allclose(grads[2], fd_gs, rtol=1e-5)
    assert xb.currents(xb.program(w0, 1.2), x).shape == (4, 5)


def test_gradient_through_the_ir_drop_solve():
    g0 = jnp.asarray(RNG.uniform(G_MIN, G_MAX, (4, 3)))
    v = jnp.asarray(RNG.uniform(-0.1, 0.1, 4))
    f = lambda g: jnp.sum(tile_column_currents(g, v, 200.0) ** 2)  # noqa: E731
    h = 1e-10
    e = jnp.zeros_like(g0).at[1, 2].set(h)
    np.testing.assert_allclose(jax.grad(f)(g0)[1, 2], (f(g0 + e) - f(g0 - e)) / (2 * h),
                               rtol=1e-6)


def test_variation_and_read_noise_statistics():
    xb = CrossbarArray(bits=None, variation=0.1, read_noise=0.05, read_voltage=0.1)
    g = xb.program(W, w_max=1.0)
    chip = xb.chip(g, jax.random.key(0))
    np.testing.assert_array_equal(chip.plus, xb.chip(g, jax.random.key(0)).plus)  # same key
    log_factor = np.log(np.asarray(chip.plus) / np.asarray(g.plus)).ravel()
    # 60 samples of N(0, 0.1): std within ~4 standard errors (SE = 0.1 / sqrt(2 * 60)).
    assert abs(np.std(log_factor) - 0.1) < 4 * 0.1 / np.sqrt(120)
    # Read noise: sample std of 4000 reads of one input vs the closed-form column sigma.
    keys = jax.random.split(jax.random.key(1), 4000)
    reads = jax.vmap(lambda k: xb.currents(chip, X[0], key=k))(keys)
    rows = np.concatenate([np.asarray(chip.plus), np.asarray(chip.minus)])
    v = np.concatenate([0.1 * X[0], -0.1 * X[0]])
    gamma = rows.sum(0) * 400
    sigma = 0.05 * np.sqrt((v**2) @ rows**2) / (1 + gamma)
    # Relative SE of a std from 4000 samples: 1 / sqrt(8000) = 1.1 %; allow 5 %.
    np.testing.assert_allclose(np.std(np.asarray(reads), axis=0), sigma, rtol=0.05)
    np.testing.assert_allclose(np.mean(np.asarray(reads), axis=0), xb.currents(chip, X[0]),
                               atol=4 * np.max(sigma) / np.sqrt(4000))


def test_read_energy_is_the_sum_over_devices():
    xb = CrossbarArray(read_voltage=0.1, bits=4, read_time=2e-9, wire_capacitance=1e-16)
    g = xb.program(W, w_max=1.0)
    x = X[0]
    rows = np.concatenate([np.asarray(g.plus), np.asarray(g.minus)])
    v = np.concatenate([0.1 * x, -0.1 * x])
    v_col = np.asarray(xb.currents(g, x)) * 400
    joule = sum(rows[i, j] * (v[i] - v_col[j]) ** 2 for i in range(24) for j in range(5))
    expected = joule * 2e-9 + 1e-16 * 5 * np.sum(v**2)
    np.testing.assert_allclose(xb.energy(g, x), expected, rtol=1e-12)


def test_bad_inputs_raise_clear_errors():
    xb = CrossbarArray()
    with pytest.raises(ValueError, match="w_max"):
        xb.program(W * 3, w_max=1.0)
    with pytest.raises(ValueError, match="n_in = 12"):
        xb.currents(xb.program(W, 1.0), X[:, :5])
    with pytest.raises(ValueError, match="weights must be"):
        xb.program(W[0], 1.0)
    with pytest.raises(ValueError, match="bits"):
        CrossbarArray(bits=0)
    with pytest.raises(ValueError, match="on_off_ratio"):
        CrossbarArray(on_off_ratio=1.0)
    with pytest.raises(ValueError, match="read_voltage"):
        CrossbarArray(read_voltage=-0.1)
    with pytest.raises(ValueError, match="scheme"):
        CrossbarArray(scheme="single")
    with pytest.raises(ValueError, match="max_tiles = 2"):
        CrossbarArray(tile_rows=8, tile_cols=8, max_tiles=2).program(W, 1.0)
    assert CrossbarArray(tile_rows=8, tile_cols=8).tiles_needed(12, 5) == 3
    # Saturating weights on request instead of failing (training).
    g = xb.program(W * 3, w_max=1.0, clip=True)
    assert float(jnp.max(g.plus)) <= float(xb.g_max) * (1 + 1e-12)
