"""Diffrax wiring: the stochastic LLG of many devices as one SDE solve.

Layout. Physics is written for one device (`Macrospin.drift(t, m)`, m a `Vec3` of scalars).
`simulate` holds N devices as one state, a `Vec3` of three contiguous (N,) arrays (structure of
arrays, "components first"), and maps the one-device vector field over them with `jax.vmap`:
XLA then sees purely elementwise arithmetic. Measured on this project's 2-core CPU (one core,
N = 1e4, float32): the same physics with m as a (3, N) array ran at 1.5e7 / 2.4e7 device-steps/s
(Gaussian / three-point noise), because per-device stacking compiled to transposes; the `Vec3`
layout runs at 3.4e7 / 1.0e8. With `Vec3` physics, `vmap` over one-device solves is within
15 % of the single batched solve (benchmarks/throughput.py).

Time. The solver integrates in nanoseconds (t = tau * 1 ns): float32 then carries step sizes,
pulse edges and rates of order 1e-4..1e2 rather than 1e-13..1e11. Inputs and outputs are SI.

Solvers.
- Stochastic (a PRNG `key` is given): Stratonovich Heun with a fixed step `dt`, noise from a
  `CounterBrownianPath` (increments a pure function of each trial's seed and the step index).
- Deterministic (no key): adaptive Tsit5 with a PID controller, or fixed-step Heun if `dt` is
  given.

|m| = 1. After every step the state is projected back onto the unit sphere. Projection keeps
the order of the underlying one-step method (Hairer, Lubich & Wanner, Geometric Numerical
Integration, §IV.4), costs one rsqrt per device and step, and is what every peer (mumax, cmtj,
magnum.np) does; an implicit midpoint rule would conserve |m| exactly but needs a nonlinear
solve per step. Heun without projection drifts by ~1e-6 over 3e4 steps (solver-notes.md).
"""

import math
from collections.abc import Callable, Sequence
from typing import ClassVar

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import lineax as lx
import numpy as np
from jaxtyping import Array, Float

from ._checks import check_finite, is_concrete
from .llg import Macrospin
from ._vector import Vec3
from .noise import NOISE_KINDS, CounterBrownianPath, trial_seeds

TIME_UNIT = 1e-9
"""Internal time unit of the solver [s]."""

MAX_ANGLE_PER_STEP = 0.5
"""Largest allowed (max precession rate) x dt [rad]: beyond it Heun is inaccurate or unstable."""


def _project(m: Vec3) -> Vec3:
    return m * jax.lax.rsqrt(m.dot(m))


class Renormalised(dfx.AbstractWrappedSolver):
    """Wraps a diffrax solver and projects the state back to |m| = 1 after every step.

    `project` maps a state to its projection; it is a pytree (`jax.tree_util.Partial`) so it
    may carry arrays, e.g. the cell mask of a micromagnetic mesh. Default: the macrospin
    projection of a `Vec3` state.
    """

    solver: dfx.AbstractSolver
    project: Callable = jtu.Partial(_project)

    @property
    def term_structure(self):
        return self.solver.term_structure

    @property
    def interpolation_cls(self):
        return self.solver.interpolation_cls

    @property
    def term_compatible_contr_kwargs(self):
        return self.solver.term_compatible_contr_kwargs

    @property
    def scan_kind(self):
        # Read by diffrax.ForwardMode, which needs the wrapped solver built with "lax".
        return getattr(self.solver, "scan_kind", None)

    def order(self, terms):
        return self.solver.order(terms)

    def strong_order(self, terms):
        return self.solver.strong_order(terms)

    def error_order(self, terms):
        return self.solver.error_order(terms)

    def init(self, terms, t0, t1, y0, args):
        return self.solver.init(terms, t0, t1, y0, args)

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        y1, err, dense, state, result = self.solver.step(
            terms, t0, t1, y0, args, solver_state, made_jump)
        return self.project(y1), err, dense, state, result

    def func(self, terms, t0, y0, args):
        return self.solver.func(terms, t0, y0, args)


class SphericalHeun(dfx.AbstractStratonovichSolver):
    """Heun's method (explicit trapezoidal rule) followed by projection onto |m| = 1.

    One step over [t0, t1] with control dX (dt and the Brownian increment, held fixed over
    the step, which is what makes Heun converge to the Stratonovich solution):

        k0 = f(t0, y0) dX,   k1 = f(t1, y0 + k0) dX,   y1 = P(y0 + (k0 + k1) / 2),

    P normalising each device's m (state layout (3, N)). Same scheme as `diffrax.Heun`, minus
    the embedded error estimate and the generic Runge–Kutta bookkeeping, which cost more than
    the LLG itself at these sizes. Strong order 0.5 and weak order 1 for the non-commutative
    thermal noise; order 2 for ODEs.
    """

    term_structure: ClassVar = dfx.AbstractTerm
    interpolation_cls: ClassVar = dfx.LocalLinearInterpolation

    def order(self, terms):
        return 2

    def strong_order(self, terms):
        return 0.5

    def init(self, terms, t0, t1, y0, args):
        return None

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        control = terms.contr(t0, t1)
        k0 = terms.vf_prod(t0, y0, args, control)
        k1 = terms.vf_prod(t1, y0 + k0, args, control)
        y1 = _project(y0 + (k0 + k1) * 0.5)
        return y1, None, dict(y0=y0, y1=y1), None, dfx.RESULTS.successful

    def func(self, terms, t0, y0, args):
        return terms.vf(t0, y0, args)


class LLGTerms(dfx.MultiTerm):
    """`MultiTerm(ODETerm(drift), ControlTerm(diffusion))` of the stochastic LLG.

    Solvers that introspect the two terms (e.g. diffrax's SRK family) see an ordinary
    MultiTerm. Solvers that only ask for `vf_prod` (Heun, Midpoint, Euler, ...) get the drift
    and diffusion products from one fused evaluation, `Macrospin.increment`.
    """

    increment: Callable = eqx.field(static=True)

    def __init__(self, drift: dfx.ODETerm, diffusion: dfx.ControlTerm, increment: Callable):
        self.terms = (drift, diffusion)
        self.increment = increment

    def vf_prod(self, t, y, args, control):
        dt, dw = control
        return self.increment(t, y, args, dt, dw)


class Trajectory(eqx.Module):
    """Result of `simulate`.

    - `ts`: save times [s], shape (n_save,).
    - `m`: unit magnetization. Single device: (n_save, 3); batch of N: (N, n_save, 3).
      When only the final state was saved the time axis is dropped: (3,) or (N, 3).
    """

    ts: Float[Array, " n_save"]
    m: Float[Array, "..."]


def _batched(fn, system_axes, n_vec=1):
    """Map a one-device function f(system, *vecs) over the device axis of `n_vec` Vec3s."""
    return jax.vmap(fn, in_axes=(system_axes,) + (0,) * n_vec, out_axes=0)


def vary(system, where: Callable, values):
    """Batch one parameter of `system` over `values`.

    **Arguments:**

    - `system`: any pytree (e.g. a `Macrospin`).
    - `where`: function selecting one leaf, as in `equinox.tree_at`
      (e.g. `lambda s: s.magnet.geometry.thickness`).
    - `values`: array (N, ...) of values for that leaf.

    **Returns:** `(batched_system, system_axes)`, to pass as `simulate(batched_system, ...,
    system_axes=system_axes)`.
    """
    values = jnp.asarray(values)
    if values.ndim == 0:
        raise ValueError("values must have a leading batch axis, got a scalar")
    batched = eqx.tree_at(where, system, values)
    axes = jtu.tree_map(lambda _: None, system)
    axes = eqx.tree_at(where, axes, 0, is_leaf=lambda x: x is None)
    return batched, axes


def _cast_floats(tree, dtype):
    def cast(x):
        if isinstance(x, float) or (eqx.is_array(x) and jnp.issubdtype(x.dtype, jnp.floating)):
            return jnp.asarray(x, dtype)
        return x
    return jtu.tree_map(cast, tree)


def _batch_size(system, system_axes, n_m0):
    axes = jax.tree.broadcast(system_axes, system, is_leaf=lambda x: x is None)
    axis_of = {jtu.keystr(p): a for p, a in
               jtu.tree_flatten_with_path(axes, is_leaf=lambda x: x is None)[0]}
    sizes = []
    for path, leaf in jtu.tree_flatten_with_path(system)[0]:
        name = jtu.keystr(path)
        ax = axis_of.get(name)
        if ax is None:
            continue
        shape = jnp.shape(leaf)
        if len(shape) <= ax:
            raise ValueError(f"system leaf {name} has shape {shape}: no axis {ax} to batch over")
        sizes.append((shape[ax], name))
    n_values = {size for size, _ in sizes}
    if n_m0 is not None:
        n_values.add(n_m0)
    if len(n_values) > 1:
        detail = ", ".join(f"{name}: {size}" for size, name in sizes)
        raise ValueError(f"mismatched batch sizes: m0 has {n_m0} devices; batched system "
                         f"leaves have {detail}")
    return n_values.pop() if n_values else None


def _checked_finite(system):
    """Attach a run-time finiteness check, naming the leaf, to every float parameter.

    Construction already rejects concrete NaN/inf; this catches values that were traced
    (under jit, grad or vmap) when the system was built.
    """
    def check(path, leaf):
        if eqx.is_array(leaf) and jnp.issubdtype(leaf.dtype, jnp.floating) and not is_concrete(leaf):
            return eqx.error_if(leaf, ~jnp.all(jnp.isfinite(leaf)),
                                f"system parameter {jtu.keystr(path)} is NaN or inf")
        return leaf
    return jtu.tree_map_with_path(check, system)


@eqx.filter_jit
def _max_rate(system, system_axes):
    if system_axes is None:
        return system.max_rate()
    return jnp.max(jax.vmap(lambda s: s.max_rate(), in_axes=(system_axes,))(system))


def _integrate(system, y0, seeds, step_times, save_times, *, system_axes, noise, adaptive,
               rtol, atol, max_steps, adjoint, progress):
    dtype = y0.x.dtype

    def drift(tau, y, sys):
        t = tau * TIME_UNIT
        return _batched(lambda s, m: s.drift(t, m), system_axes)(sys, y) * TIME_UNIT

    drift_term = dfx.ODETerm(drift)
    if seeds is not None:
        structure = jax.eval_shape(lambda: y0)
        noise_scale = math.sqrt(TIME_UNIT)

        def diffusion(tau, y, sys):
            t = tau * TIME_UNIT

            def apply(dw):
                g = _batched(lambda s, m, w: s.diffusion(t, m, w), system_axes, 2)
                return g(sys, y, dw) * noise_scale

            return lx.FunctionLinearOperator(apply, structure)

        path = CounterBrownianPath(seeds, step_times[0], step_times[1] - step_times[0],
                                   kind=noise, dtype=np.dtype(dtype))
        def increment(tau, y, sys, dtau, dw):
            t = tau * TIME_UNIT
            inc = _batched(lambda s, m, w: s.increment(t, m, dtau * TIME_UNIT, w * noise_scale),
                           system_axes, 2)
            return inc(sys, y, dw)

        terms = LLGTerms(drift_term, dfx.ControlTerm(diffusion, path), increment)
        solver = SphericalHeun()
        controller = dfx.StepTo(ts=step_times)
        dt0 = None
    elif adaptive:
        terms = drift_term
        solver = Renormalised(dfx.Tsit5())
        controller = dfx.PIDController(rtol=rtol, atol=atol)
        dt0 = None
    else:
        terms = drift_term
        solver = SphericalHeun()
        controller = dfx.StepTo(ts=step_times)
        dt0 = None
    saveat = dfx.SaveAt(t1=True) if save_times is None else dfx.SaveAt(ts=save_times)
    sol = dfx.diffeqsolve(
        terms, solver, t0=step_times[0], t1=step_times[-1], dt0=dt0, y0=y0, args=system,
        saveat=saveat, stepsize_controller=controller, max_steps=max_steps, adjoint=adjoint,
        progress_meter=dfx.TqdmProgressMeter() if progress else dfx.NoProgressMeter(),
    )
    ys = sol.ys.to_array(axis=-1)  # (n_save, N, 3)
    ys = eqx.error_if(
        ys, ~jnp.all(jnp.isfinite(ys)),
        "the LLG solve produced NaN or inf: check that all parameters are finite and that dt "
        "resolves the fastest precession (see spinjax.simulate)",
    )
    return sol.ts * TIME_UNIT, ys


@eqx.filter_jit
def _solve(system, y0, seeds, step_times, save_times, *, n_shards, **config):
    """`_integrate`, split over `n_shards` local devices along the device axis if > 1.

    Trials are independent, so each device integrates its own slice with no communication
    (`shard_map`); batched system leaves are split the same way, shared ones replicated.
    """
    if n_shards == 1:
        return _integrate(system, y0, seeds, step_times, save_times, **config)
    P = jax.sharding.PartitionSpec
    mesh = jax.sharding.Mesh(np.array(jax.local_devices()[:n_shards]), ("devices",))
    axes = jax.tree.broadcast(config["system_axes"], system, is_leaf=lambda x: x is None)
    system_specs = jax.tree.map(
        lambda ax, leaf: P() if ax is None else P(*([None] * ax), "devices"),
        axes, system, is_leaf=lambda x: x is None)
    seed_specs = None if seeds is None else P(None, "devices")

    def run(sys, y, sd):
        return _integrate(sys, y, sd, step_times, save_times, **config)

    sharded = jax.shard_map(run, mesh=mesh, in_specs=(system_specs, P("devices"), seed_specs),
                            out_specs=(P(), P(None, "devices")), check_vma=False)
    return sharded(system, y0, seeds)


def simulate(
    system: Macrospin,
    m0,
    *,
    t1: float,
    t0: float = 0.0,
    dt: float | None = None,
    key=None,
    trial_index=None,
    save_at: Sequence[float] | Array | None = None,
    system_axes=None,
    dtype=None,
    noise: str = "gaussian",
    rtol: float = 1e-7,
    atol: float = 1e-9,
    max_steps: int = 1_000_000,
    adjoint: dfx.AbstractAdjoint | None = None,
    progress: bool = False,
    shard: bool = True,
) -> Trajectory:
    """Integrate the (stochastic) LLG equation of one device or a batch of devices.

    **Arguments:**

    - `system`: a `Macrospin`. Its float leaves may carry a batch axis (see `system_axes`).
    - `m0`: initial magnetization, shape (3,) for one device or (N, 3) for N devices
      (normalised here; must be non-zero and finite).
    - `t1`, `t0`: end and start times [s].
    - `dt`: fixed step [s]. Required with a `key` (thermal runs); optional otherwise (then the
      solve is adaptive Tsit5 with tolerances `rtol`, `atol` on m).
    - `key`: a `jax.random` key. Given: the thermal field is on (temperature from the system)
      and the solve is Stratonovich Heun. Trial i's noise depends only on
      `(key, trial_index[i])`.
    - `trial_index`: global trial indices, shape (N,), default `arange(N)`; sweeps pass their
      global indices so results do not depend on chunking.
    - `save_at`: times [s] at which to save m; default: only the final state.
    - `system_axes`: like `jax.vmap`'s `in_axes` for `system`: `None` (one system shared by
      all devices), `0` (every leaf batched on axis 0) or a pytree prefix of `system`.
    - `dtype`: float32 or float64 (default: float64 if `jax_enable_x64` is on, else float32).
    - `noise`: "gaussian" or "three_point" increment law (see `spinjax.noise`).
    - `adjoint`: diffrax adjoint for gradients (default `RecursiveCheckpointAdjoint`).
    - `progress`: show a tqdm progress bar.
    - `shard`: split the device axis over all local JAX devices (GPUs, or CPU devices made
      with `XLA_FLAGS=--xla_force_host_platform_device_count=K`) when N divides evenly and
      `simulate` is not called under a JAX transformation (jit, grad, vmap).

    **Returns:** a `Trajectory` with `ts` [s] and `m`.

    **Example:**

    ```python
    traj = simulate(system, jnp.tile(jnp.array([0.0, 1.0, 0.0]), (1000, 1)), t1=1e-9,
                    dt=1e-13, key=jax.random.key(0))
    traj.m.shape  # (1000, 3)
    ```
    """
    if dtype is None:
        dtype = jnp.zeros(()).dtype if jax.config.jax_enable_x64 else jnp.float32
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype = {dtype} must be float32 or float64")
    if dtype == np.float64 and not jax.config.jax_enable_x64:
        raise ValueError("dtype = float64 needs jax_enable_x64: call "
                         "jax.config.update('jax_enable_x64', True) first")
    if noise not in NOISE_KINDS:
        raise ValueError(f"noise = {noise!r} is not one of {NOISE_KINDS}")
    if not isinstance(system, Macrospin):
        raise TypeError(f"system must be a spinjax.Macrospin, got {type(system).__name__}")

    m0 = jnp.asarray(m0, dtype)
    if m0.ndim not in (1, 2) or m0.shape[-1] != 3:
        raise ValueError(f"m0 must have shape (3,) or (N, 3), got {m0.shape}")
    check_finite("m0", m0)
    norm = jnp.linalg.norm(m0, axis=-1, keepdims=True)
    if is_concrete(norm) and np.any(np.asarray(norm) == 0):
        raise ValueError("m0 has a zero vector: every initial magnetization must be non-zero")
    single = m0.ndim == 1
    y0 = (m0 / norm).reshape(-1, 3)  # (N, 3)

    n = _batch_size(system, system_axes, None if single else m0.shape[0])
    if single and n is not None:
        y0 = jnp.broadcast_to(y0, (n, 3))
        single = False
    n = y0.shape[0]
    y0 = Vec3.from_array(y0, axis=-1)
    try:
        out = jax.eval_shape(_batched(lambda s, m: s.drift(0.0, m), system_axes), system, y0)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"the system's parameters do not broadcast to one value per device ({err}): a "
            "parameter with a batch axis needs system_axes (see spinjax.vary)") from err
    if any(leaf.shape != (n,) for leaf in jtu.tree_leaves(out)):
        raise ValueError(
            f"the system's parameters do not broadcast to one value per device (expected "
            f"dm/dt of shape ({n},) per component, got {jtu.tree_map(lambda x: x.shape, out)}): "
            "a parameter with a batch axis needs system_axes (see spinjax.vary)")
    system = _checked_finite(_cast_floats(system, dtype))

    for name, value in (("t0", t0), ("t1", t1)):
        check_finite(name, value, unit="s")
    if is_concrete((t0, t1)) and not float(t1) > float(t0):
        raise ValueError(f"t1 = {float(t1):.6g} s must be later than t0 = {float(t0):.6g} s")
    temperature_on = key is not None
    if not temperature_on and is_concrete(system.temperature) and np.any(
            np.asarray(system.temperature) > 0):
        raise ValueError("system.temperature > 0 but no key was given: pass key= to switch the "
                         "thermal field on, or set temperature=0.0 for a deterministic run")
    if temperature_on and dt is None:
        raise ValueError("dt is required for thermal (stochastic) runs: pass a fixed step in s, "
                         "e.g. dt=1e-13")

    if dt is not None:
        if is_concrete(dt) and not float(dt) > 0:
            raise ValueError(f"dt = {float(dt):.6g} s must be > 0")
        rate = _max_rate(system, system_axes)
        if is_concrete(rate):
            angle = float(rate) * float(dt)
            if not np.isfinite(angle) or angle > MAX_ANGLE_PER_STEP:
                raise ValueError(
                    f"dt = {float(dt):.6g} s is too large for the fields and torques: the "
                    f"fastest precession ({float(rate):.4g} rad/s) turns m by {angle:.3g} rad "
                    f"per step; allowed is dt <= {MAX_ANGLE_PER_STEP / float(rate):.4g} s "
                    f"({MAX_ANGLE_PER_STEP} rad per step)")
        n_steps = max(1, int(math.ceil((float(t1) - float(t0)) / float(dt) - 1e-9)))
        step_times = (float(t0) + np.arange(n_steps + 1) * float(dt)).clip(max=float(t1))
        step_times[-1] = float(t1)
        step_times = jnp.asarray(step_times / TIME_UNIT, dtype)
        max_steps = n_steps
    else:
        step_times = jnp.asarray([t0 / TIME_UNIT, t1 / TIME_UNIT], dtype)

    seeds = None
    if temperature_on:
        if trial_index is None:
            trial_index = jnp.arange(n)
        trial_index = jnp.asarray(trial_index)
        if trial_index.shape != (n,):
            raise ValueError(f"trial_index must have shape ({n},), got {trial_index.shape}")
        seeds = trial_seeds(key, trial_index)

    save_times = None
    if save_at is not None:
        save_at = jnp.asarray(save_at, dtype)
        if save_at.ndim != 1 or save_at.shape[0] == 0:
            raise ValueError(f"save_at must be a non-empty 1-D array of times in s, got shape "
                             f"{save_at.shape}")
        if is_concrete(save_at):
            s = np.asarray(save_at, np.float64)
            if np.any(np.diff(s) < 0) or s[0] < float(t0) - 1e-18 or s[-1] > float(t1) + 1e-18:
                raise ValueError(f"save_at must be sorted and inside [t0, t1] = [{t0}, {t1}] s")
        save_times = save_at / TIME_UNIT

    # Shard only outside transformations: under grad/jit the caller owns the placement (and
    # equinox's checkpointed loop cannot be differentiated through shard_map).
    n_devices = len(jax.local_devices())
    n_shards = (n_devices if shard and n_devices > 1 and n % n_devices == 0
                and is_concrete((system, y0)) else 1)
    ts, ys = _solve(
        system, y0, seeds, step_times, save_times, n_shards=n_shards,
        system_axes=system_axes, noise=noise,
        adaptive=dt is None, rtol=rtol, atol=atol, max_steps=max_steps,
        adjoint=dfx.RecursiveCheckpointAdjoint() if adjoint is None else adjoint,
        progress=progress,
    )
    m = jnp.moveaxis(ys, 1, 0)  # (N, n_save, 3)
    if save_at is None:
        m = m[:, 0]
        ts = ts[0]
    if single:
        m = m[0]
    return Trajectory(ts=ts, m=m)
