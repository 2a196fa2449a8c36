"""Volatile MTJ synapse: frequent pulses switch it (LTP), sparse ones do not (STP decays).

Counts are binomial with 300 trials (standard error <= 0.029); margins are >= 4 standard
errors from the values measured while writing the test (P(5 pulses, 1.05 ns) = 0.92,
P(5 pulses, 5 ns) = 0.08).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spinjax.devices import VolatileMTJSynapse, agreement, calibrate_leak, calibrate_neuron

N_TRIALS = 300
SYNAPSE = VolatileMTJSynapse()


@pytest.fixture(scope="module")
def calibrated():
    single = calibrate_neuron(SYNAPSE.cell, jax.random.key(20),
                              currents=np.array([12, 16, 20, 25, 30, 40]) * 1e-6,
                              n_trials=N_TRIALS)
    leak = calibrate_leak(SYNAPSE, single.surrogate, jax.random.key(21),
                          trains=[(2, 1.05e-9), (5, 1.05e-9), (5, 2.5e-9), (5, 5e-9)],
                          n_trials=N_TRIALS)
    return single, leak


def test_short_intervals_potentiate_long_term_and_long_intervals_do_not(calibrated):
    single, leak = calibrated
    p = dict(zip(leak.trains, leak.k / leak.n))
    p1 = float(single.surrogate.probability(SYNAPSE.pulse_amplitude))
    assert p1 < 0.08  # one pulse alone rarely switches
    assert p[(5, 1.05e-9)] > 0.75  # five pulses 50 ps apart: LTP
    assert p[(5, 5e-9)] < 0.2  # the same five pulses 4 ns apart: the excitation decays
    assert p[(2, 1.05e-9)] < p[(5, 1.05e-9)] - 0.3  # more pulses, more LTP
    assert p[(5, 1.05e-9)] > p[(5, 2.5e-9)] > p[(5, 5e-9)] - 0.05  # falls with interval


def test_leaky_surrogate_predicts_unseen_trains(calibrated):
    single, leak = calibrated
    # The fitted leak time is of the order of the layer's relaxation time (0.77 ns).
    assert 0.05e-9 < float(leak.surrogate.tau_leak) < 5e-9
    held_out = [(3, 1.05e-9), (3, 1.5e-9)]
    k = np.array([SYNAPSE.switching_probability(n, dt, jax.random.key(30 + i), N_TRIALS)[1]
                  for i, (n, dt) in enumerate(held_out)])
    pred = np.array([float(leak.surrogate.probability(jnp.full(n, SYNAPSE.pulse_amplitude),
                                                      SYNAPSE.pulse_starts(n, dt)))
                     for n, dt in held_out])
    assert np.all(agreement(pred, k, np.full(2, N_TRIALS), leak.max_error)), (pred, k)
    # The surrogate is differentiable in the pulse timing: P falls with the interval.
    def p_of(interval):
        return leak.surrogate.probability(jnp.full(5, SYNAPSE.pulse_amplitude),
                                          SYNAPSE.pulse_starts(5, interval))
    assert float(jax.grad(p_of)(jnp.asarray(1.5e-9))) < 0


def test_conductance_and_programming_energy():
    g_p = float(SYNAPSE.conductance(jnp.array([0.0, 1.0, 0.0])))
    g_ap = float(SYNAPSE.conductance(jnp.array([0.0, -1.0, 0.0])))
    np.testing.assert_allclose([g_p, g_ap], [1 / 1.21e6, 1 / 2.5e6], rtol=1e-12)
    # Five 20 µA, 1 ns pulses in the 400 Ohm heavy metal.
    np.testing.assert_allclose(SYNAPSE.programming_energy(5),
                               5 * (20e-6) ** 2 * 400 * (1e-9 - 10e-12 / 3), rtol=1e-12)


def test_bad_synapse_inputs():
    with pytest.raises(ValueError, match="pulse_amplitude"):
        VolatileMTJSynapse(pulse_amplitude=-1e-6)
    with pytest.raises(ValueError, match="interval"):  # 1 ns pulses 0.5 ns apart overlap
        SYNAPSE.switching_probability(3, 0.5e-9, jax.random.key(0), 8)
