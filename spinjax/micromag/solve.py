"""Diffrax wiring for micromagnetic dynamics: `run` (LLG) and `relax` (energy descent).

Time. As in `spinjax.solve`, the solver integrates in nanoseconds (t = tau * `TIME_UNIT`);
inputs and outputs are SI.

Solvers. `run` uses an adaptive explicit Runge–Kutta method (Dormand–Prince `Dopri5` by default,
`Tsit5`, or Bogacki–Shampine `Bosh3`) with a PID step-size controller. `relax` integrates the precession-free damping flow
dm/dt = -gamma m x (m x H_eff) with the same machinery and stops when max |m x H_eff| falls
below `tol`. After every step |m| is projected back to 1 in each magnetic cell (see
`spinjax.solve` for why projection keeps the method's order).

Step size on fine grids. The exchange field makes the LLG stiff: its fastest (grid-scale)
precession has angular frequency ~ gamma (2 A / (mu0 Ms)) sum_axes 4 / d^2 (7.3e12 rad/s for SP4
at 2.5 nm cells), and an explicit method's step is capped by its stability region along the
(almost) imaginary axis, whatever rtol asks for: SP4 at 200 x 50 cells takes the same ~3530
Dopri5 steps at rtol 1e-4, 1e-5 and 1e-6. Dopri5 and Tsit5 stay stable up to dt * omega ~ 2
with 6 field evaluations per step; Bosh3 up to ~1.7 with 3 (FSAL), so on such stability-limited
runs "bosh3" needs ~0.6x the field evaluations (measured on SP4 200 x 50, field 1: 3972 steps +
177 rejected at rtol 1e-5, <m>(1 ns) equal to Dopri5's within 1e-6, ~0.5x the wall time). On
coarse grids, where accuracy sets the step, the 5th-order methods are the better choice.
`Exchange(stencil="multilinear")` halves the largest exchange eigenvalue, and with it the
number of stability-limited steps (SP4 200 x 50 with Bosh3: 2012 steps instead of 3974).

Batching: both functions are pure and jit-compiled; `jax.vmap` over `m0` (or over float leaves
of the system) runs a batch of small samples in one compiled loop.
"""

import diffrax as dfx
import jax.tree_util as jtu
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._checks import is_concrete
from ..solve import TIME_UNIT, Renormalised
from ._ops import dot
from .llg import Micromagnet


def project(m, weights):
    """Normalise m (3, nx, ny, nz) to unit length in magnetic cells, zero elsewhere."""
    n2 = dot(m, m)  # written out: jnp.sum over axis 0 compiles ~10x slower on CPU
    inside = weights > 0
    return m * (jax.lax.rsqrt(jnp.where(inside, n2, 1.0)) * inside.astype(m.dtype))[None]


_SOLVERS = {"dopri5": dfx.Dopri5, "tsit5": dfx.Tsit5, "bosh3": dfx.Bosh3}


def _solver(name, weights, forward_mode=False):
    if name not in _SOLVERS:
        raise ValueError(f"solver = {name!r} is not one of {sorted(_SOLVERS)}")
    inner = _SOLVERS[name](scan_kind="lax") if forward_mode else _SOLVERS[name]()
    return Renormalised(inner, jtu.Partial(project, weights=weights))


def _check_m0(system, m0):
    system.mesh.check_field_shape("m0", m0)


class MicromagTrajectory(eqx.Module):
    """Result of `run`.

    - `ts`: save times [s], shape (n_save,).
    - `m_mean`: average magnetization over the magnetic cells, shape (n_save, 3).
    - `m`: the full magnetization (n_save, 3, nx, ny, nz) when `save_fields=True`, else the
      final state (3, nx, ny, nz).
    - `n_steps`: number of accepted solver steps.
    """

    ts: Float[Array, " n_save"]
    m_mean: Float[Array, "n_save 3"]
    m: Float[Array, "..."]
    n_steps: Array


@eqx.filter_jit
def _run(system, m0, t1_ns, ts_ns, save_fields, solver, rtol, atol, max_steps, adjoint):
    w = system.mesh.weights(m0.dtype)
    m0 = project(m0, w)

    def f(tau, m, args):
        return system.drift(tau * TIME_UNIT, m) * TIME_UNIT

    if save_fields:
        save_fn = lambda t, y, args: y  # noqa: E731
    else:
        save_fn = lambda t, y, args: system.mean_m(y)  # noqa: E731
    # The final state is returned too, also when only the means are saved.
    saveat = dfx.SaveAt(subs=[dfx.SubSaveAt(ts=ts_ns, fn=save_fn), dfx.SubSaveAt(t1=True)])
    sol = dfx.diffeqsolve(
        dfx.ODETerm(f), _solver(solver, w, isinstance(adjoint, dfx.ForwardMode)), t0=0.0,
        t1=t1_ns, dt0=None, y0=m0,
        saveat=saveat, stepsize_controller=dfx.PIDController(rtol=rtol, atol=atol),
        max_steps=max_steps, adjoint=adjoint)
    saved, final = sol.ys
    final = final[0]
    if save_fields:
        mean = jax.vmap(system.mean_m)(saved)
        return mean, saved, sol.stats["num_accepted_steps"]
    return saved, final, sol.stats["num_accepted_steps"]


def run(system: Micromagnet, m0, t1: float, save_at=None, *, save_fields: bool = False,
        solver: str = "dopri5", rtol: float = 1e-6, atol: float = 1e-6,
        max_steps: int = 1_000_000,
        adjoint: dfx.AbstractAdjoint | None = None) -> MicromagTrajectory:
    """Integrate the deterministic LLG from `m0` over [0, `t1`] (SI seconds).

    **Arguments:**

    - `system`: a `Micromagnet`.
    - `m0`: initial magnetization (3, nx, ny, nz); normalised per magnetic cell here.
    - `t1`: end time [s], > 0.
    - `save_at`: save times [s] (1D, in [0, t1]); default 101 equally spaced points.
    - `save_fields`: also return the full m at every save time (memory: n_save x 3 x cells).
    - `solver`: "dopri5" (Dormand–Prince 5(4), default), "tsit5", or "bosh3"
      (Bogacki–Shampine 3(2): cheaper when the exchange stiffness of a fine grid, not rtol,
      limits the step; see the module notes).
    - `rtol`, `atol`: PID controller tolerances on m (dimensionless).
    - `max_steps`: step limit of the solver.
    - `adjoint`: how to differentiate the solve (a diffrax adjoint); default
      `diffrax.RecursiveCheckpointAdjoint()` (reverse mode, `jax.grad`).
      `diffrax.ForwardMode()` supports `jax.jvp`/`jax.jacfwd`, cheaper for few parameters
      and much faster to compile.

    **Returns:** a `MicromagTrajectory`.
    """
    _check_m0(system, m0)
    t1 = float(t1)
    if not t1 > 0.0:
        raise ValueError(f"t1 = {t1:g} s is outside the allowed range (0, inf) s")
    ts = jnp.linspace(0.0, t1, 101) if save_at is None else jnp.asarray(save_at, float)
    if ts.ndim != 1 or ts.size == 0:
        raise ValueError(f"save_at must be a non-empty 1D array of times in s, got shape "
                         f"{ts.shape}")
    if is_concrete(ts) and (float(ts.min()) < 0.0 or float(ts.max()) > t1 * (1 + 1e-12)):
        raise ValueError(f"save_at spans [{float(ts.min()):g}, {float(ts.max()):g}] s, outside "
                         f"the allowed range [0, t1 = {t1:g}] s")
    m0 = jnp.asarray(m0)
    f = lambda x: jnp.asarray(x, float)  # noqa: E731  (traced, so no recompilation)
    mean, m, n = _run(system, m0, f(t1 / TIME_UNIT), ts / TIME_UNIT, save_fields, solver,
                      f(rtol), f(atol), int(max_steps),
                      dfx.RecursiveCheckpointAdjoint() if adjoint is None else adjoint)
    return MicromagTrajectory(ts=ts, m_mean=mean, m=m, n_steps=n)


@eqx.filter_jit
def _relax(system, m0, tol, t_max_ns, rtol, atol, max_steps):
    w = system.mesh.weights(m0.dtype)
    m0 = project(m0, w)

    def f(tau, m, args):
        return system.relaxation_drift(tau * TIME_UNIT, m) * TIME_UNIT

    def converged(t, y, args, **kwargs):
        return system.max_torque(0.0, y) < tol

    sol = dfx.diffeqsolve(
        dfx.ODETerm(f), _solver("tsit5", w), t0=0.0, t1=t_max_ns, dt0=None, y0=m0,
        saveat=dfx.SaveAt(t1=True), stepsize_controller=dfx.PIDController(rtol=rtol, atol=atol),
        event=dfx.Event(converged), max_steps=max_steps, throw=False)
    m = sol.ys[0]
    return m, system.max_torque(0.0, m)


def relax(system: Micromagnet, m0, *, tol: float = 0.1, t_max: float = 20e-9,
          rtol: float = 1e-8, atol: float = 1e-8, max_steps: int = 200_000,
          return_torque: bool = False):
    """Relax `m0` to a nearby energy minimum of `system` at t = 0 (fields frozen at t = 0).

    Integrates the precession-free damping flow dm/dt = -gamma m x (m x H_eff), along which
    the energy decreases monotonically, until max over cells of |m x H_eff| < `tol` [A/m] or
    the flow time reaches `t_max` [s] (no error is raised then: check the returned torque).

    **Arguments:**

    - `system`, `m0`: as for `run`.
    - `tol`: torque tolerance [A/m], > 0 (0.1 A/m is ~1e-7 Ms for permalloy). The solver
      tolerances must be tight enough to reach it: the torque stalls near (rtol x H_eff);
      with the defaults SP4 at 50 x 12 cells relaxes to 0.1 A/m in ~5 ns of flow time.
    - `t_max`: longest flow time [s] (the flow runs with unit damping rate, so this is
      roughly alpha times a physical relaxation time).
    - `rtol`, `atol`, `max_steps`: as for `run`.
    - `return_torque`: also return the final max |m x H_eff| [A/m].

    **Returns:** the relaxed m (3, nx, ny, nz), and the final torque if asked.
    """
    _check_m0(system, m0)
    if not float(tol) > 0.0:
        raise ValueError(f"tol = {tol!r} A/m is outside the allowed range (0, inf) A/m")
    f = lambda x: jnp.asarray(x, float)  # noqa: E731  (traced, so no recompilation)
    m, torque = _relax(system, jnp.asarray(m0), f(tol), f(t_max / TIME_UNIT), f(rtol), f(atol),
                       int(max_steps))
    return (m, torque) if return_torque else m


@eqx.filter_jit
def _run_thermal(system, m0, dt, n_steps, save_every, key):
    w = system.mesh.weights(m0.dtype)
    m0 = project(m0, w)
    sqrt_dt = jnp.sqrt(dt)

    def step(m, k):
        t = k * dt
        dw = jax.random.normal(jax.random.fold_in(key, k), m.shape, m.dtype) * sqrt_dt
        dw = dw * w[None]
        k0 = system.increment(t, m, dt, dw)
        k1 = system.increment(t + dt, m + k0, dt, dw)
        return project(m + 0.5 * (k0 + k1), w), None

    def block(m, b):
        m, _ = jax.lax.scan(step, m, b * save_every + jnp.arange(save_every))
        return m, system.mean_m(m)

    m, means = jax.lax.scan(block, m0, jnp.arange(n_steps // save_every))
    return means, m


def run_thermal(system: Micromagnet, m0, t1: float, dt: float, key, *,
                save_every: int = 100):
    """Stochastic LLG with the per-cell thermal field, Stratonovich Heun at fixed step `dt`.

    Heun (explicit trapezoidal rule with the Wiener increment held over the step) converges to
    the Stratonovich solution, the physical one for this multiplicative noise; |m| is projected
    back to 1 per cell after every step. The noise of step k is a pure function of
    (`key`, k), so results do not depend on batching.

    **Arguments:**

    - `system`: a `Micromagnet` (its `temperature` [K] sets the noise).
    - `m0`: initial magnetization (3, nx, ny, nz).
    - `t1`: duration [s] > 0; `dt`: step [s] > 0 (t1/dt steps, rounded down to a multiple of
      `save_every`).
    - `key`: a `jax.random` key.
    - `save_every`: steps between saved means.

    **Returns:** `(ts, m_mean, m_final)`: save times [s] (n_save,), mean magnetization
    (n_save, 3), final state (3, nx, ny, nz).
    """
    _check_m0(system, m0)
    if not (float(t1) > 0.0 and float(dt) > 0.0):
        raise ValueError(f"t1 = {t1!r} s and dt = {dt!r} s must both be in (0, inf) s")
    if int(save_every) < 1:
        raise ValueError(f"save_every = {save_every!r} must be an integer >= 1")
    n_blocks = int(float(t1) / float(dt) * (1.0 + 1e-12)) // int(save_every)
    if n_blocks < 1:
        raise ValueError(f"t1 = {t1:g} s holds fewer than save_every = {save_every} steps of "
                         f"dt = {dt:g} s")
    means, m = _run_thermal(system, jnp.asarray(m0), jnp.asarray(dt, float),
                            n_blocks * int(save_every), int(save_every), key)
    ts = (jnp.arange(1, n_blocks + 1) * int(save_every)) * dt
    return ts, means, m
