"""Gradients through deterministic and fixed-noise stochastic LLG solves, against finite
differences (float64), and the tuning workflows' error handling."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spinjax as sj
from spinjax import tuning

T_READ = 0.4e-9
DT = 1e-13


# The pulse drive is piecewise linear in its width, with kinks whenever an edge corner meets a
# step time (every 0.1 ps of width); 0.20005 ns puts the width half a step away from one.
def _neuron(thickness=1.2e-9, ms=1e6, alpha=0.0122, amplitude=150e-6, width=0.20005e-9,
            temperature=300.0):
    material = sj.Material(Ms=ms, alpha=alpha)
    return sj.sot_mtj_neuron(thickness=thickness, material=material, temperature=temperature,
                             current=sj.Pulse(amplitude, width=width, start=20e-12))


PARAMS = {  # name: (selector, value, relative finite-difference step)
    "thickness": (lambda s: s.magnet.geometry.thickness, 1.2e-9, 1e-5),
    "Ms": (lambda s: s.magnet.material.Ms, 1e6, 1e-5),
    "alpha": (lambda s: s.magnet.material.alpha, 0.0122, 1e-5),
    "amplitude": (lambda s: s.torques[0].current.amplitude, 150e-6, 1e-5),
    "width": (lambda s: s.torques[0].current.width, 0.20005e-9, 1e-7),  # h = 2e-17 s
}


def _objective(stochastic):
    def objective(system):
        if stochastic:
            m = tuning.final_states(system, n_trials=4, key=jax.random.key(1), t_read=T_READ,
                                    dt=DT)
            return tuning.mean_easy_axis(m)
        system = eqx.tree_at(lambda s: s.temperature, system, 0.0)
        m = sj.simulate(system, jnp.array([0.05, 1.0, 0.0]), t1=T_READ, dt=DT).m
        return m[1]
    return objective


# The default run checks every parameter once and both modes (each case compiles its own
# solve, ~15-30 s); the other five combinations run with `-m slow`.
_DEFAULT_CASES = {("thickness", False), ("Ms", False), ("amplitude", False), ("width", False),
                  ("alpha", True)}


@pytest.mark.parametrize("name, stochastic", [
    pytest.param(name, stochastic, id=f"{name}-{'fixed-noise' if stochastic else 'deterministic'}",
                 marks=() if (name, stochastic) in _DEFAULT_CASES else pytest.mark.slow)
    for name in PARAMS for stochastic in (False, True)])
def test_gradient_matches_central_difference(name, stochastic):
    where, value, rel = PARAMS[name]
    objective = _objective(stochastic)
    system = _neuron()
    f, grad = tuning.grad_wrt(objective, system, where)
    h = rel * value
    plus = objective(eqx.tree_at(where, system, value + h))
    minus = objective(eqx.tree_at(where, system, value - h))
    fd = (plus - minus) / (2 * h)
    # Discretise-then-differentiate: the gradient is exact for the discrete scheme, so the
    # only error is the O(h^2) truncation and float64 rounding of the difference (~1e-10/h).
    assert float(grad) == pytest.approx(float(fd), rel=2e-4, abs=1e-6 * abs(float(fd)) + 1e-30)
    assert abs(float(grad)) > 0


def test_soft_probability_converges_to_monte_carlo():
    system = _neuron(amplitude=190e-6)
    m = tuning.final_states(system, n_trials=2000, key=jax.random.key(5), t_read=T_READ, dt=DT,
                            noise="three_point", dtype=jnp.float32)
    hard = float(tuning.hard_switching_probability(m))
    assert 0.15 < hard < 0.85  # a point on the curve, not a trivial one
    gaps = [abs(float(tuning.soft_switching_probability(m, t)) - hard)
            for t in (0.3, 0.1, 0.03, 0.003, 0.0003)]
    # On the same trials the soft estimate tends to the hard one (the bias can change sign on
    # the way, so the gaps need not fall monotonically) ...
    assert gaps[-1] <= min(gaps[:-1]) and gaps[-1] < 0.2 * gaps[0]
    # ... and is far inside the binomial standard error sqrt(p(1-p)/n) <= 0.011.
    assert gaps[-1] < 0.011
    # Independent trials (fresh keys) agree with the soft estimate within 4 standard errors.
    fresh = tuning.final_states(system, n_trials=2000, key=jax.random.key(6), t_read=T_READ,
                                dt=DT, noise="three_point", dtype=jnp.float32)
    p = float(tuning.hard_switching_probability(fresh))
    se = np.sqrt(2 * p * (1 - p) / 2000)
    assert abs(float(tuning.soft_switching_probability(m, 0.003)) - p) < 4 * se


def test_gradient_of_static_or_integer_field_is_refused():
    system = _neuron()
    with pytest.raises(TypeError, match="floating-point leaf"):
        tuning.grad_wrt(lambda s: 0.0, system, lambda s: s.torques[0].current_axis)
    with pytest.raises(TypeError, match="cannot select"):
        tuning.grad_wrt(lambda s: 0.0, system, lambda s: s.no_such_field)


def test_non_finite_objective_is_refused():
    system = _neuron()
    with pytest.raises(FloatingPointError, match="not finite"):
        tuning.grad_wrt(lambda s: jnp.log(-s.temperature), system, lambda s: s.temperature)


def test_infeasible_retention_floor_is_refused():
    model = tuning.SwitchingModel(a=jnp.array([-0.45, 1.7]), b=jnp.array([0.1, 0.2, 0.01]))
    with pytest.raises(ValueError, match="infeasible constraint: Delta >= 80"):
        tuning.design_neuron(model, target_i50=60e-6, max_log_width=0.2, delta_floor=80,
                             thickness_bounds=(0.6e-9, 2.0e-9))
