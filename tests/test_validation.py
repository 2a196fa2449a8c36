"""Bad input gives clear errors that name the parameter, its value and the allowed range."""

import jax
import jax.numpy as jnp
import pytest

import spinjax as sj

P_STATE = jnp.array(sj.presets.P_STATE)


@pytest.mark.parametrize("make,match", [
    (lambda: sj.EllipticCylinder(40e-9, 100e-9, 0.0), r"thickness = 0 m is outside .*\(0, inf\)"),
    (lambda: sj.EllipticCylinder(-40e-9, 100e-9, 1e-9), r"length_x = -4e-08 m"),
    (lambda: sj.Rectangle(40e-9, jnp.nan, 1e-9), r"length_y = nan"),
    (lambda: sj.Material(Ms=0.0, alpha=0.01), r"Ms = 0 A/m is outside .*\(0, inf\)"),
    (lambda: sj.Material(Ms=1e6, alpha=0.0), r"alpha = 0 is outside .*\(0, 1\)"),
    (lambda: sj.Material(Ms=1e6, alpha=1.0), r"alpha = 1 is outside .*\(0, 1\)"),
    (lambda: sj.sot_mtj_neuron(temperature=-1.0), r"temperature = -1 K is outside .*\[0, inf\)"),
    (lambda: sj.Pulse(jnp.nan, 1e-9), r"amplitude = nan"),
    (lambda: sj.Pulse(jnp.inf, 1e-9), r"amplitude = inf"),
    (lambda: sj.Pulse(1e-4, -1e-9), r"width = -1e-09 s is outside .*\(0, inf\)"),
    (lambda: sj.PulseTrain([1e-4, -1e-4], [1e-9, 1e-9], [0.0, 0.5e-9]), r"pulses overlap"),
    (lambda: sj.HeavyMetal(0.3, 2e-9, -1.0), r"resistivity = -1 Ohm·m"),
])
def test_construction_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_time_step_too_large_is_rejected_with_bound():
    system = sj.sot_mtj_neuron(temperature=300.0)
    with pytest.raises(ValueError, match=r"dt = 1e-11 s is too large.*allowed is dt <= 2\.\d+e-12 s"):
        sj.simulate(system, P_STATE, t1=1e-9, dt=1e-11, key=jax.random.key(0))


def test_mismatched_batch_sizes_are_named():
    system, axes = sj.vary(sj.sot_mtj_neuron(), lambda s: s.magnet.geometry.thickness,
                           jnp.array([1.0e-9, 1.2e-9, 1.5e-9]))
    with pytest.raises(ValueError, match=r"mismatched batch sizes: m0 has 2 devices.*thickness: 3"):
        sj.simulate(system, jnp.tile(P_STATE, (2, 1)), t1=1e-10, dt=1e-13,
                    key=jax.random.key(0), system_axes=axes)


def test_batched_leaf_without_axes_is_explained():
    system, _ = sj.vary(sj.sot_mtj_neuron(temperature=0.0), lambda s: s.magnet.geometry.thickness,
                        jnp.array([1.0e-9, 1.2e-9]))
    with pytest.raises(ValueError, match="needs system_axes"):
        sj.simulate(system, P_STATE, t1=1e-10)


def test_missing_key_or_dt_and_bad_times():
    system = sj.sot_mtj_neuron(temperature=300.0)
    with pytest.raises(ValueError, match="temperature > 0 but no key"):
        sj.simulate(system, P_STATE, t1=1e-9)
    with pytest.raises(ValueError, match="dt is required"):
        sj.simulate(system, P_STATE, t1=1e-9, key=jax.random.key(0))
    with pytest.raises(ValueError, match="t1 = 0 s must be later than t0"):
        sj.simulate(system, P_STATE, t1=0.0, dt=1e-13, key=jax.random.key(0))
    with pytest.raises(ValueError, match="m0 has a zero vector"):
        sj.simulate(system, jnp.zeros(3), t1=1e-9, dt=1e-13, key=jax.random.key(0))
    with pytest.raises(ValueError, match=r"m0 must have shape \(3,\) or \(N, 3\)"):
        sj.simulate(system, jnp.ones(4), t1=1e-9, dt=1e-13, key=jax.random.key(0))


def test_traced_nan_drive_raises_instead_of_returning_nan():
    def final_my(amplitude):
        system = sj.sot_mtj_neuron(current=sj.Pulse(amplitude, 0.1e-9), temperature=0.0)
        return sj.simulate(system, P_STATE, t1=0.2e-9, dt=1e-13).m[1]

    assert jnp.isfinite(jax.jit(final_my)(50e-6))
    # Under jit the check fires inside the compiled program; JAX re-raises it from the
    # callback (an XlaRuntimeError or ValueError, depending on the JAX version).
    with pytest.raises(Exception, match=r"system parameter .*current\.amplitude is NaN or inf"):
        jax.jit(final_my)(jnp.nan)
