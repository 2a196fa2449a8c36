"""Differentiable device tuning: switching objectives, surrogates and Optax workflows.

Three layers, from the most faithful to the fastest:

1. Pathwise (reparameterised) objectives of sLLG trajectories: with the PRNG key fixed, the
   final magnetization of every trial is a smooth function of every float parameter of the
   device, material, geometry and pulse, and `jax.grad` differentiates straight through the
   solve (`soft_switching_probability`, `mean_easy_axis`, `grad_wrt`); `calibrate_current`
   drives sLLG Monte Carlo with an Optax loop.
2. A differentiable behavioural model, `SwitchingModel`: I50 and the curve width as functions of
   physical features of the device (Sun's critical current, relaxation time, barrier) with a
   few coefficients fitted to Monte Carlo sweeps; its gradients reach geometry and material.
3. Optax design loops on the model (`design_neuron`), checked afterwards with fresh Monte
   Carlo.

Memory: gradients use diffrax's `RecursiveCheckpointAdjoint`, whose online treeverse keeps
O(checkpoints) states instead of one per step (see benchmarks/gradients.py).
"""

import dataclasses
import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float

from . import presets
from .llg import Macrospin
from .solve import simulate
from .waveforms import Pulse

# --- pathwise objectives ----------------------------------------------------------------------

def final_states(system: Macrospin, *, n_trials: int, key, t_read: float, dt: float = 1e-13,
                 noise: str = "gaussian", dtype=None, trial_offset: int = 0, adjoint=None,
                 m0=presets.P_STATE):
    """m(t_read) of `n_trials` thermal trials started from `m0`, shape (n_trials, 3).

    Differentiable in every float leaf of `system` (the noise is fixed by `key` and the trial
    indices `trial_offset + arange(n_trials)`).
    """
    m0 = jnp.tile(jnp.asarray(m0, float), (n_trials, 1))
    return simulate(system, m0, t1=t_read, dt=dt, key=key, noise=noise, dtype=dtype,
                    trial_index=trial_offset + jnp.arange(n_trials), adjoint=adjoint).m


def soft_switching_probability(m_final, temperature: float = 0.1, axis=presets.P_STATE):
    """Mean of sigmoid(-(m · axis) / temperature) over trials: a smooth P(P→AP).

    `temperature` (dimensionless, in units of the easy-axis component) trades bias for
    smoothness: a trial contributes its hard indicator 1[m·axis < 0] up to
    sigmoid(-|m·axis| / temperature), so the bias is bounded by the fraction of trials that end
    within a few `temperature` of the hard axis, and vanishes as temperature -> 0 (tested).
    """
    if not temperature > 0:
        raise ValueError(f"temperature = {temperature} is outside the allowed range (0, inf)")
    along = m_final @ jnp.asarray(axis, m_final.dtype)
    return jnp.mean(jax.nn.sigmoid(-along / temperature))


def hard_switching_probability(m_final, axis=presets.P_STATE):
    """Fraction of trials that ended on the AP side (m · axis < 0)."""
    return jnp.mean(m_final @ jnp.asarray(axis, m_final.dtype) < 0)


def mean_easy_axis(m_final, axis=presets.P_STATE):
    """Mean final component along `axis`: +1 none switched, -1 all switched."""
    return jnp.mean(m_final @ jnp.asarray(axis, m_final.dtype))


def grad_wrt(objective: Callable, tree, where: Callable):
    """Value and gradient of `objective(tree)` with respect to the leaf `where(tree)`.

    Raises `TypeError` naming the leaf if it is not a floating-point array (an integer or a
    static field has no gradient), and `FloatingPointError` if the objective is not finite.
    """
    try:
        leaf = where(tree)
    except AttributeError as err:
        raise TypeError(f"cannot select the parameter: {err}") from err
    is_leaf = any(leaf is x for x in jax.tree_util.tree_leaves(tree))
    if not is_leaf or not (isinstance(leaf, float) or (
            eqx.is_array(leaf) and jnp.issubdtype(jnp.asarray(leaf).dtype, jnp.floating))):
        raise TypeError(f"cannot differentiate with respect to {leaf!r} "
                        f"({type(leaf).__name__}): gradients need a floating-point leaf, not an "
                        "integer or a static (configuration) field")

    def wrapped(value):
        return objective(eqx.tree_at(where, tree, value))

    value, grad = jax.value_and_grad(wrapped)(jnp.asarray(leaf, float))
    if not np.all(np.isfinite(np.asarray(value))):
        raise FloatingPointError(f"the objective is not finite ({value}); no gradient")
    if not np.all(np.isfinite(np.asarray(grad))):
        raise FloatingPointError(
            f"the gradient is not finite ({grad}). In float32, adjoints of SI-scaled "
            "parameters (volumes ~1e-24 m^3) can leave the float32 range on trajectories that "
            "pass near the saddle: differentiate in float64 (dtype=jnp.float64 with "
            "jax_enable_x64)")
    return value, grad


# --- calibration ------------------------------------------------------------------------------

@dataclasses.dataclass
class Calibration:
    """Result of `calibrate`: the calibrated value (e.g. current [A]), its fixed-noise P and
    the optimisation history."""

    value: float
    probability: float
    history: list[dict]


def calibrate(make_system: Callable[[Array], Macrospin], *, t_read: float, x0: float,
              target: float = 0.5, n_trials: int = 512, key=None, log_width: float = 0.15,
              steps: int = 40, learning_rate: float = 0.3, dt: float = 1e-13,
              noise: str = "gaussian", dtype=None) -> Calibration:
    """Find the value x > 0 of a drive parameter at which the switching probability is `target`.

    `make_system(x)` builds the device for parameter value `x` (e.g. the write current [A] or
    the pulse width [s]); P must grow with x. `t_read` [s] must leave the magnet time to settle
    after the pulse. Each step runs `n_trials` fixed-noise sLLG trials and takes an Optax SGD
    step on ln x with a straight-through estimator:

    - value: P, the fraction of trials switched at `t_read` (unbiased Monte Carlo);
    - gradient: that of the logistic model dP/d ln x = 1 / (4 `log_width`) at P = 1/2,
      positive by construction.

    This is Robbins–Monro stochastic approximation with a step halved every quarter of
    `steps`. The pathwise derivative of the soft probability is no substitute here: measured
    on the 5a neuron it changes sign with the precession phase at the end of the pulse (above
    ~80 µA for 0.5 ns) and decays to noise of either sign once trials settle. The returned
    value averages the last quarter of the iterates.
    """
    if not 0.0 < target < 1.0:
        raise ValueError(f"target = {target} is outside the allowed range (0, 1)")
    if not x0 > 0:
        raise ValueError(f"x0 = {x0} must be > 0")
    if not log_width > 0:
        raise ValueError(f"log_width = {log_width} is outside the allowed range (0, inf)")
    key = jax.random.key(0) if key is None else key

    @jax.jit
    def loss_fn(log_x):
        m = final_states(make_system(jnp.exp(log_x)), n_trials=n_trials, key=key,
                         t_read=t_read, dt=dt, noise=noise, dtype=dtype)
        surrogate = log_x / (4.0 * log_width)
        p = hard_switching_probability(m) + surrogate - jax.lax.stop_gradient(surrogate)
        return (p - target) ** 2, p

    grad_fn = jax.jit(jax.value_and_grad(loss_fn, has_aux=True))
    schedule = optax.exponential_decay(learning_rate, transition_steps=max(1, steps // 4),
                                       decay_rate=0.5, staircase=True)
    optimiser = optax.sgd(schedule)
    param = jnp.asarray(math.log(x0))
    state = optimiser.init(param)
    history = []
    for step in range(steps):
        (loss, p), grad = grad_fn(param)
        if not (np.isfinite(loss) and np.isfinite(grad)):
            raise FloatingPointError(f"non-finite loss or gradient at step {step}: "
                                     f"loss {loss}, gradient {grad}")
        history.append(dict(step=step, value=float(jnp.exp(param)), probability=float(p),
                            loss=float(loss)))
        updates, state = optimiser.update(grad, state)
        param = optax.apply_updates(param, updates)
    tail = [h["value"] for h in history[-max(1, steps // 4):]]
    value = float(np.exp(np.mean(np.log(tail))))
    _, p = loss_fn(jnp.log(value))
    return Calibration(value=value, probability=float(p), history=history)


def calibrate_current(make_system: Callable[[Array], Macrospin], *, t_read: float,
                      current0: float, **kwargs) -> Calibration:
    """`calibrate` for the write current [A]: the I50 of the device (`make_system(current)`)."""
    if not current0 > 0:
        raise ValueError(f"current0 = {current0} A must be > 0")
    return calibrate(make_system, t_read=t_read, x0=current0, **kwargs)


# --- differentiable behavioural model ---------------------------------------------------------

def switching_features(system: Macrospin, pulse_width):
    """Physical features of a pulse-driven SOT device, all differentiable.

    **Returns:** `(i_c0 [A], x, delta)`: Sun's zero-temperature critical charge current,
    the precessional overdrive x = tau ln(pi / (2 theta_0)) / t_pw (tau the relaxation time,
    theta_0 = 1/sqrt(2 Delta) the thermal cone angle) and the thermal stability Delta.
    """
    sot = system.torques[0]
    i_c0 = system.critical_spin_current() / sot.efficiency(system.magnet)
    delta = system.thermal_stability()
    theta0 = jnp.sqrt(1.0 / (2.0 * delta))
    x = system.relaxation_time() * jnp.log(jnp.pi / (2.0 * theta0)) / pulse_width
    return i_c0, x, delta


class SwitchingModel(eqx.Module):
    """P_sw(I; device, t_pw) as a log-logistic curve with physics-based parameters:

        I50       = I_c0 (a0 + a1 x)                     (precessional switching, Sun's I_c0)
        log_width = b0 + b1 / sqrt(Delta) + b2 ln x

    with the features of `switching_features`. The coefficients come from Monte Carlo sweeps
    (`fit_switching_model`); gradients reach every float leaf of the device through the
    features. On the default sweep (3 barriers x 3 pulses) I50 is reproduced within 9 %.
    """

    a: Float[Array, "2"]
    b: Float[Array, "3"]

    def i50(self, system, pulse_width):
        """Current of 50 % switching [A]."""
        i_c0, x, _ = switching_features(system, pulse_width)
        return i_c0 * (self.a[0] + self.a[1] * x)

    def log_width(self, system, pulse_width):
        """Logistic scale in ln I (dimensionless)."""
        _, x, delta = switching_features(system, pulse_width)
        return self.b[0] + self.b[1] / jnp.sqrt(delta) + self.b[2] * jnp.log(x)

    def probability(self, system, current, pulse_width):
        """P_sw for a pulse of `current` [A] and width `pulse_width` [s]."""
        i50 = self.i50(system, pulse_width)
        z = (jnp.log(jnp.maximum(current, 1e-30)) - jnp.log(i50)) / self.log_width(system, pulse_width)
        return jnp.where(current > 0, jax.nn.sigmoid(z), 0.0)


def fit_switching_model(models: list[dict], make_system=None,
                        temperature: float = 300.0) -> SwitchingModel:
    """Least-squares fit of `SwitchingModel` to sweep fits (entries of models.json).

    `make_system(thickness)` builds the device for each entry's `thickness_nm` (default: the
    5a neuron at `temperature`).
    """
    if len(models) < 3:
        raise ValueError(f"need at least 3 fitted curves, got {len(models)}")
    make_system = make_system or (lambda t: presets.sot_mtj_neuron(thickness=t,
                                                                   temperature=temperature))
    rows_a, y_a, rows_b, y_b = [], [], [], []
    for m in models:
        system = make_system(m["thickness_nm"] * 1e-9)
        i_c0, x, delta = (float(v) for v in switching_features(system, m["pulse_ns"] * 1e-9))
        rows_a.append([i_c0, i_c0 * x])
        y_a.append(m["i50_uA"] * 1e-6)
        rows_b.append([1.0, 1.0 / math.sqrt(delta), math.log(x)])
        y_b.append(m["log_width"])
    # Relative least squares for I50 (weights 1/I50), plain for the width.
    w = 1.0 / np.asarray(y_a)
    a = np.linalg.lstsq(np.asarray(rows_a) * w[:, None], np.asarray(y_a) * w, rcond=None)[0]
    b = np.linalg.lstsq(np.asarray(rows_b), np.asarray(y_b), rcond=None)[0]
    return SwitchingModel(a=jnp.asarray(a), b=jnp.asarray(b))


# --- design -----------------------------------------------------------------------------------

def write_energy(system: Macrospin, current, pulse_width):
    """Joule energy I^2 R_HM t_pw [J] of a trapezoidal write pulse in the heavy metal."""
    r_hm = system.torques[0].hm_resistance(system.magnet)
    return Pulse(current, pulse_width).integral_of_square() * r_hm


@dataclasses.dataclass
class Design:
    """Result of `design_neuron` (SI units) and the loss history."""

    thickness: float
    pulse_width: float
    i50: float
    log_width: float
    delta: float
    write_energy: float
    history: list[dict]


def thickness_for_stability(delta_floor: float, temperature: float, bounds) -> float:
    """Smallest thickness [m] in `bounds` with Delta >= `delta_floor` (Delta grows with t)."""
    lo, hi = bounds

    def delta(t):
        return float(presets.sot_mtj_neuron(thickness=t, temperature=temperature)
                     .thermal_stability())

    if delta(hi) < delta_floor:
        raise ValueError(
            f"infeasible constraint: Delta >= {delta_floor} needs a thicker layer than the "
            f"upper bound {hi * 1e9:.3g} nm allows (Delta there = {delta(hi):.3g})")
    if delta(lo) >= delta_floor:
        return lo
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if delta(mid) < delta_floor else (lo, mid)
    return hi


def design_neuron(model: SwitchingModel, *, target_i50: float, max_log_width: float,
                  thickness_bounds=(0.6e-9, 2.0e-9), pulse_bounds=(0.1e-9, 2.0e-9),
                  delta_floor: float = 0.0, temperature: float = 300.0,
                  energy_weight: float = 0.1, steps: int = 400,
                  learning_rate: float = 0.05) -> Design:
    """Choose free-layer thickness and pulse width of the 5a neuron with Optax.

    Minimises (ln(I50 / target_i50) / 0.01)^2 + (relu(log_width - max_log_width) / 0.01)^2
    + energy_weight * E_write(I50) / 1 fJ: I50 placed at the target current [A] to ~1 %, a
    curve at least as steep as `max_log_width`, and the least write energy.

    Constraints are explicit: thickness and pulse width are sigmoid maps of free parameters
    onto their bounds [m], [s]; the retention floor Delta >= `delta_floor` becomes a lower
    thickness bound (Delta grows with thickness), and an unreachable floor raises ValueError.
    """
    for name, (lo, hi) in (("thickness_bounds", thickness_bounds),
                           ("pulse_bounds", pulse_bounds)):
        if not 0 < lo < hi:
            raise ValueError(f"{name} = {(lo, hi)} must satisfy 0 < low < high")
    if not target_i50 > 0:
        raise ValueError(f"target_i50 = {target_i50} A must be > 0")
    t_lo = thickness_for_stability(delta_floor, temperature, thickness_bounds)
    t_hi = thickness_bounds[1]
    p_lo, p_hi = pulse_bounds

    def unpack(u):
        t = t_lo + (t_hi - t_lo) * jax.nn.sigmoid(u[0])
        w = p_lo + (p_hi - p_lo) * jax.nn.sigmoid(u[1])
        return t, w

    def loss_fn(u):
        t, w = unpack(u)
        system = presets.sot_mtj_neuron(thickness=t, temperature=temperature)
        i50 = model.i50(system, w)
        width = model.log_width(system, w)
        energy = write_energy(system, i50, w)
        loss = ((jnp.log(i50 / target_i50) / 0.01) ** 2
                + (jax.nn.relu(width - max_log_width) / 0.01) ** 2
                + energy_weight * energy / 1e-15)
        return loss, (i50, width, energy)

    grad_fn = jax.jit(jax.value_and_grad(loss_fn, has_aux=True))
    optimiser = optax.adam(learning_rate)
    u = jnp.zeros(2)
    state = optimiser.init(u)
    history = []
    for step in range(steps):
        (loss, (i50, width, energy)), grad = grad_fn(u)
        if not (np.isfinite(loss) and np.all(np.isfinite(grad))):
            raise FloatingPointError(f"non-finite loss or gradient at step {step}: {loss}")
        t, w = unpack(u)
        history.append(dict(step=step, loss=float(loss), thickness=float(t),
                            pulse_width=float(w), i50=float(i50), log_width=float(width),
                            write_energy=float(energy)))
        updates, state = optimiser.update(grad, state)
        u = optax.apply_updates(u, updates)
    t, w = unpack(u)
    system = presets.sot_mtj_neuron(thickness=t, temperature=temperature)
    i50 = model.i50(system, w)
    return Design(thickness=float(t), pulse_width=float(w), i50=float(i50),
                  log_width=float(model.log_width(system, w)),
                  delta=float(system.thermal_stability()),
                  write_energy=float(write_energy(system, i50, w)), history=history)
