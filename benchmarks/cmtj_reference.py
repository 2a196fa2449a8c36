"""Peer-simulator reference: the SOT-MTJ neuron of physics.md 5a modelled in cmtj.

Used (1) to cross-validate spinjax (zero-temperature SOT threshold, Kittel frequency,
equipartition, switching probabilities) and (2) as the CPU baseline of the throughput
benchmark (`throughput`).

Device: in-plane CoFe free layer, elliptic disk 40 nm (x, current direction) x 100 nm (y, easy
axis), thickness t; Ms = 1.0e6 A/m; alpha = 0.0122; shape anisotropy only (demagnetizing tensor
diag(N_xx, N_yy, N_zz)); beta-W heavy metal, theta_SH = 0.3, t_HM = 2 nm, so the spin current is
I_s = 0.3 * (40 nm / 2 nm) * I = 6 I, polarized along sigma = j x z = -y for I > 0 along x.
Damping-like SOT only; Brown thermal field; stochastic Heun; dt = 0.1 ps.

How this maps onto cmtj 1.15 (read from cmtj's core/junction.hpp and checked numerically in
`validate()`):

* Units.  cmtj works with H in A/m but takes **Ms in tesla** (mu0*Ms); the demagnetizing field is
  H_d = -N m Ms_T / mu0_cmtj.  cmtj's built-in constants differ slightly from CODATA
  (GYRO = 220880 m/(A s), mu0 = 12.566e-7), so `_set_cmtj_constants()` overwrites them (process-
  global, via `cmtj.constants.PhysicalConstants.set_*`) with spinjax's values:
  gamma = 2 mu_B mu0 / hbar = 2.2128e5 m/(A s), mu0 = 1.25663706212e-6.
* Equation (cmtj Layer::solveLLG, LL form):
      dm/dt = -gamma/(1+alpha^2) [ m x H + alpha m x (m x H)
                                  + (H_FL - alpha H_DL) m x p + (H_DL + alpha H_FL) m x (m x p) ]
  i.e. the Gilbert-form equation dm/dt = -gamma m x H + alpha m x dm/dt - gamma H_DL m x (m x p)
  (+ field-like -gamma H_FL m x p).  So cmtj's damping-like "torque" is a field H_DL in A/m with
  a*(-m x (m x sigma)) = -gamma H_DL m x (m x p), i.e. H_DL = a/gamma = hbar I_s / (2 q mu0 Ms V),
  and p = sigma = (0, -1, 0).
* SOT layer: `Layer.createSOTLayer(..., fieldLikeTorque=0, dampingLikeTorque=h)` makes a *static*
  SOT layer in which H_DL = h * I(t) with I(t) from `Junction.setLayerCurrentDriver` (amperes);
  we pass h = H_DL per ampere [A/m per A] and the physical charge current as the driver.
  (The docstring calls the two numbers "effective spin Hall angles"; in the code they are plain
  multipliers of the current driver.)  The polarization is `setLayerReferenceLayer(id, p)`.
  The dynamic alternative, `setLayerDampingLikeTorqueDriver(id, ScalarDriver in A/m)`, raises
  RuntimeError on a static SOT layer.
* Thermal field (Layer::getLangevinStochasticStandardDeviation + Junction::heunSolverStep):
  dW = N(0,1)^3 * sqrt(2 alpha k_B T / (gamma Ms_T V)) * sqrt(dt), entering H_eff in *both* the
  precession and the damping term with the LL prefactor gamma/(1+alpha^2): exactly Brown's
  Gilbert-form field <H_i(t) H_j(t')> = 2 alpha k_B T/(gamma mu0 Ms V) delta_ij delta(t-t'),
  integrated with a Stratonovich (stochastic Heun, `SolverMode.Heun`) scheme and renormalized
  |m| = 1 after each step.  Set with `setLayerTemperatureDriver(id, ScalarDriver [K])`.
* Random numbers: each Layer owns a mt19937 seeded from std::random_device; `setLayerSeed` makes
  runs reproducible.  Layers are copied by value into the Junction (generator state included).

cmtj quirks worth knowing (all handled below):
* runSimulation does int(totalTime/timeStep) steps, which truncates (0.7e-9/1e-13 -> 6999,
  100e-9/1e-13 -> 999999), so we pass (n_steps + 0.5) * dt.
* writeEvery = int(writeFrequency/timeStep); writeFrequency == timeStep can truncate to 0 and
  divide by zero; we log with writeFrequency >= 2 dt or only at the end.  The log entry tagged
  time i*dt holds m *after* step i (i.e. m at (i+1) dt).  The log is kept in memory
  (C++ vectors), so use a coarse writeFrequency for long runs.
* Step driver (`ScalarDriver.getStepDriver(off, amp, t0, t1)`) is on for t0 <= t <= t1
  (both ends inclusive), and the Heun stage times are t_i and t_i + dt, t_i = i dt.  We place the
  edges at t0 - dt/2 and t0 + width - dt/2 so the trapezoid-weighted pulse is exactly `width`
  long for t0 on the grid with t0 > 0 (for t0 = 0 it is width - dt/2: the first Heun stage of
  the run has weight 1/2).
* A non-Heun solverMode with a temperature driver is silently (stdout warning) switched to
  EulerHeun; Heun without a temperature driver is plain deterministic Heun (RK2).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import pickle
import subprocess
import sys
import time

import numpy as np

import cmtj
from cmtj import CVector, Junction, Layer, ScalarDriver, SolverMode

# --- constants (identical to spinjax.constants) -------------------------------------------------
MU0 = 1.25663706212e-6
HBAR = 1.054571817e-34
Q_E = 1.602176634e-19
MU_B = 9.2740100783e-24
K_B = 1.380649e-23
GAMMA = 2.0 * MU_B * MU0 / HBAR  # 2.2128e5 m/(A s)

# --- device 5a ----------------------------------------------------------------------------------
LX = 40e-9  # along the current (x)
LY = 100e-9  # easy axis (y)
MS = 1.0e6  # A/m
ALPHA = 0.0122
THETA_SH = 0.3
T_HM = 2e-9
SOT_EFFICIENCY = THETA_SH * LX / T_HM  # I_s / I = 6
SIGMA = (0.0, -1.0, 0.0)  # spin polarization for I > 0 (sigma = j x z)
DEFAULT_THICKNESS = 1.2e-9
DEFAULT_DT = 1e-13
LAYER_ID = "free"

# Demagnetizing factors from spinjax.EllipticCylinder(40e-9, 100e-9, t).demag_factors(), cached
# for the three thicknesses of physics.md 5a so that worker processes do not need to import JAX.
_DEMAG_TABLE = {
    0.8e-9: (0.03711832, 0.01014501, 0.9527367),
    1.2e-9: (0.0511424, 0.0140829, 0.9347747),
    1.5e-9: (0.06080949, 0.01682323, 0.9223673),
}


def demag_factors_for(thickness_m: float = DEFAULT_THICKNESS) -> tuple[float, float, float]:
    """(N_xx, N_yy, N_zz) of the 40 x 100 nm elliptic disk; spinjax is imported only if needed."""
    for t, n in _DEMAG_TABLE.items():
        if abs(t - thickness_m) < 1e-15:
            return n
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
    import spinjax  # noqa: PLC0415  (JAX import is slow; only for non-tabulated thicknesses)

    return tuple(float(x) for x in spinjax.EllipticCylinder(LX, LY, thickness_m).demag_factors())


def device_params(thickness_m: float = DEFAULT_THICKNESS, demag_factors=None) -> dict:
    """Derived quantities of the device (SI): volume, anisotropy fields, SOT field per ampere,
    Sun's critical current, Kittel frequency, barrier, equipartition <m_x^2>, <m_z^2> at 300 K."""
    nxx, nyy, nzz = demag_factors if demag_factors is not None else demag_factors_for(thickness_m)
    area = math.pi / 4 * LX * LY
    vol = area * thickness_m
    h1 = (nxx - nyy) * MS  # in-plane hard axis stiffness [A/m]
    h2 = (nzz - nyy) * MS  # out-of-plane stiffness [A/m]
    # H_DL per ampere of charge current: hbar * 6 I / (2 q mu0 Ms V)
    hdl_per_amp = HBAR * SOT_EFFICIENCY / (2 * Q_E * MU0 * MS * vol)
    ic = (2 * Q_E / HBAR) * ALPHA * MU0 * MS * vol * (h1 + h2) / 2 / SOT_EFFICIENCY
    e_b = 0.5 * MU0 * MS * vol * h1
    kt = K_B * 300.0
    return dict(
        demag=(nxx, nyy, nzz), area=area, volume=vol, H1=h1, H2=h2,
        hdl_per_amp=hdl_per_amp, Ic=ic,
        f_kittel=GAMMA / (2 * math.pi) * math.sqrt(h1 * h2),
        E_B=e_b, Delta_300K=e_b / kt,
        mx2_300K=kt / (MU0 * MS * vol * h1), mz2_300K=kt / (MU0 * MS * vol * h2),
    )


def _set_cmtj_constants() -> None:
    """Make cmtj use spinjax's constants (process-global statics in the C++ extension)."""
    pc = cmtj.constants.PhysicalConstants
    pc.set_gyromagnetic_ratio(GAMMA)
    pc.set_magnetic_permeability(MU0)
    pc.set_hbar(HBAR)
    pc.set_elementary_charge(Q_E)
    pc.set_boltzmann_constant(K_B)


def build_junction(current_A: float, pulse_start_s: float, pulse_width_s: float,
                   temperature_K: float = 300.0, thickness_m: float = DEFAULT_THICKNESS,
                   demag_factors=None, *, m0=(0.0, 1.0, 0.0), seed: int | None = None,
                   dt: float = DEFAULT_DT, rise_time_s: float = 0.0) -> Junction:
    """cmtj Junction of device 5a, write current `current_A` [A] along x as a rectangular pulse
    starting at `pulse_start_s` lasting `pulse_width_s`, initial magnetization `m0` (+y = P).

    temperature_K <= 0 gives a deterministic run (no temperature driver).  `seed` (int) seeds the
    layer's RNG; None leaves cmtj's std::random_device seeding.  With rise_time_s = 0 the pulse
    is rectangular (step driver) and `dt` only places its edges half a step before the nominal
    times (see module docstring); rise_time_s > 0 gives the trapezoid of spinjax.Pulse
    (`pulse_width_s` = FWHM, linear 0-100 % edges of rise_time_s centred on the nominal edges)
    through cmtj's trapezoid driver."""
    _set_cmtj_constants()
    p = device_params(thickness_m, demag_factors)
    nxx, nyy, nzz = p["demag"]
    demag = [CVector(nxx, 0.0, 0.0), CVector(0.0, nyy, 0.0), CVector(0.0, 0.0, nzz)]
    layer = Layer.createSOTLayer(
        LAYER_ID, CVector(*m0), CVector(0.0, 1.0, 0.0),  # anis axis unused (K = 0)
        MU0 * MS, thickness_m, p["area"], demag, ALPHA,
        fieldLikeTorque=0.0, dampingLikeTorque=p["hdl_per_amp"])
    junction = Junction([layer])
    junction.setLayerReferenceLayer(LAYER_ID, CVector(*SIGMA))
    if rise_time_s > 0:
        if pulse_width_s < rise_time_s:
            raise ValueError("pulse_width_s must be >= rise_time_s")
        driver = ScalarDriver.getTrapezoidDriver(
            0.0, float(current_A), pulse_start_s - 0.5 * rise_time_s, rise_time_s,
            pulse_width_s - rise_time_s)
    else:
        t_on = pulse_start_s - 0.5 * dt
        t_off = pulse_start_s + pulse_width_s - 0.5 * dt
        driver = ScalarDriver.getStepDriver(0.0, float(current_A), t_on, t_off)
    junction.setLayerCurrentDriver(LAYER_ID, driver)
    if temperature_K > 0:
        junction.setLayerTemperatureDriver(
            LAYER_ID, ScalarDriver.getConstantDriver(float(temperature_K)))
    if seed is not None:
        junction.setLayerSeed(LAYER_ID, int(seed))
    return junction


def run_junction(junction: Junction, total_time_s: float, dt: float = DEFAULT_DT,
                 write_every_s: float | None = None) -> None:
    """Run exactly round(total_time_s/dt) stochastic-Heun steps (logging sparsely by default)."""
    n_steps = int(round(total_time_s / dt))
    if write_every_s is None:
        write_every_s = max(total_time_s, 2 * dt)
    write_every_s = max(write_every_s, 1.5 * dt)
    junction.runSimulation((n_steps + 0.5) * dt, dt, write_every_s,
                           solverMode=SolverMode.Heun)


def _device_seed(seed: int, index: int) -> int:
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1, np.uint32)[0]
               & 0x7FFFFFFF)


def _run_chunk(args) -> np.ndarray:
    (indices, current_A, pulse_start_s, pulse_width_s, total_time_s, temperature_K, dt, seed,
     thickness_m, demag_factors, rise_time_s) = args
    out = np.empty((len(indices), 3))
    for k, i in enumerate(indices):
        j = build_junction(current_A, pulse_start_s, pulse_width_s, temperature_K, thickness_m,
                           demag_factors, seed=_device_seed(seed, i), dt=dt,
                           rise_time_s=rise_time_s)
        run_junction(j, total_time_s, dt)
        m = j.getLayerMagnetisation(LAYER_ID)
        out[k] = (m.x, m.y, m.z)
    return out


def run_devices(n_devices: int, current_A: float, pulse_width_s: float, total_time_s: float,
                temperature_K: float = 300.0, dt: float = DEFAULT_DT, seed: int = 0,
                workers: int = 1, *, thickness_m: float = DEFAULT_THICKNESS,
                demag_factors=None, pulse_start_s: float = 0.0, rise_time_s: float = 0.0,
                mp_context: str | None = None) -> np.ndarray:
    """Final magnetizations (n_devices, 3) of independent devices, all starting in P (+y), with a
    `current_A` pulse of `pulse_width_s` from `pulse_start_s`, simulated for `total_time_s`.

    Devices run one after the other in a Python loop; `workers` > 1 splits them into contiguous
    chunks, one per worker process.  `mp_context`:
      None / "subprocess" (default): each worker is a fresh `python cmtj_reference.py --_worker`
        (imports only numpy + cmtj, ~0.1 s start-up; independent of what the parent has loaded);
      "fork" / "spawn" / "forkserver": a multiprocessing Pool with that start method.  Beware:
        "spawn"/"forkserver" re-import the parent's __main__ module in each worker (seconds if it
        imports JAX, and it must be guarded by `if __name__ == "__main__"`), and "fork" after JAX
        has started its threads can deadlock.
    Device i is seeded from (seed, i), so the result does not depend on `workers`."""
    if demag_factors is None:
        demag_factors = demag_factors_for(thickness_m)
    demag_factors = tuple(float(x) for x in demag_factors)
    chunks = [c for c in np.array_split(np.arange(n_devices), max(1, workers)) if len(c)]
    jobs = [(c.tolist(), current_A, pulse_start_s, pulse_width_s, total_time_s, temperature_K,
             dt, seed, thickness_m, demag_factors, rise_time_s) for c in chunks]
    if workers <= 1:
        return _run_chunk(jobs[0]) if jobs else np.empty((0, 3))
    if mp_context in (None, "subprocess"):
        parts = _run_in_subprocesses(jobs)
    else:
        with mp.get_context(mp_context).Pool(processes=len(jobs)) as pool:
            parts = pool.map(_run_chunk, jobs)
    return np.concatenate(parts, axis=0)


def _run_in_subprocesses(jobs) -> list[np.ndarray]:
    """Run each job in its own fresh interpreter (this file with --_worker), in parallel."""
    cmd = [sys.executable, os.path.abspath(__file__), "--_worker"]
    procs = [subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
             for _ in jobs]
    for proc, job in zip(procs, jobs):
        proc.stdin.write(pickle.dumps(job))
        proc.stdin.close()
    parts = []
    for proc in procs:
        data = proc.stdout.read()
        if proc.wait() != 0:
            raise RuntimeError(f"cmtj worker failed with exit code {proc.returncode}")
        parts.append(pickle.loads(data))
    return parts


def _worker_main() -> None:
    """Entry point of a subprocess worker: pickled job on stdin, pickled result on stdout.
    Anything printed to fd 1 (e.g. cmtj's C++ warnings) is redirected to stderr."""
    result_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    job = pickle.load(sys.stdin.buffer)
    pickle.dump(_run_chunk(job), result_out)
    result_out.close()


def throughput(n_devices: int, n_steps: int, workers: int = 2, *, temperature_K: float = 300.0,
               current_A: float = 60e-6, pulse_width_s: float = 0.5e-9, dt: float = DEFAULT_DT,
               mp_context: str | None = None, seed: int = 0) -> float:
    """Device-steps per second of `run_devices` (wall clock, process start-up included) for
    n_devices x n_steps stochastic-Heun steps at 300 K with a 60 uA, 0.5 ns write pulse."""
    demag = demag_factors_for(DEFAULT_THICKNESS)
    t0 = time.perf_counter()
    run_devices(n_devices, current_A, pulse_width_s, n_steps * dt, temperature_K, dt, seed,
                workers, demag_factors=demag, mp_context=mp_context)
    return n_devices * n_steps / (time.perf_counter() - t0)


# --- reference runs -----------------------------------------------------------------------------

def _trajectory(current_A, total_time_s, m0, temperature_K=0.0, write_every_s=1e-12,
                dt=DEFAULT_DT, seed=None, thickness_m=DEFAULT_THICKNESS, demag_factors=None):
    """(t, m[:, 3]) of one device, t corrected for cmtj's one-step log lag, m(0) prepended."""
    j = build_junction(current_A, 0.0, total_time_s + 10 * dt, temperature_K, thickness_m,
                       demag_factors, m0=m0, seed=seed, dt=dt)
    run_junction(j, total_time_s, dt, write_every_s)
    log = j.getLog()
    t = np.asarray(log["time"]) + dt
    m = np.stack([np.asarray(log[f"{LAYER_ID}_m{c}"]) for c in "xyz"], axis=1)
    m0n = np.asarray(m0, float) / np.linalg.norm(m0)
    return np.concatenate([[0.0], t]), np.concatenate([m0n[None], m], axis=0)


def _tilted(deg: float):
    a = math.radians(deg)
    return (math.sin(a), math.cos(a), 0.0)


def _boltzmann_moments(demag, vol, temperature_K):
    """Exact <m_x^2>, <m_z^2> over the +y hemisphere for E = mu0 Ms^2 V/2 sum N_i m_i^2."""
    th = np.linspace(0, math.pi / 2, 2001)
    ph = np.linspace(0, 2 * math.pi, 2001)
    TH, PH = np.meshgrid(th, ph, indexing="ij")
    mx, my, mz = np.sin(TH) * np.cos(PH), np.cos(TH), np.sin(TH) * np.sin(PH)
    e = 0.5 * MU0 * MS**2 * vol * (demag[0] * mx**2 + demag[1] * my**2 + demag[2] * mz**2)
    w = np.exp(-(e - e.min()) / (K_B * temperature_K)) * np.sin(TH)
    z = w.sum()
    return float((w * mx**2).sum() / z), float((w * mz**2).sum() / z)


def validate(verbose: bool = True) -> dict:
    """Unit-convention checks: Kittel frequency, SOT amplitude (linear decay rate vs current),
    equipartition at 300 K.  Returns the measured numbers."""
    p = device_params()
    res = {}
    # 1. Kittel: T = 0, I = 0, 2 deg tilt, 5 ns, zero crossings of m_x.
    t0 = time.perf_counter()
    t, m = _trajectory(0.0, 5e-9, _tilted(2.0), write_every_s=2e-13)
    mx = m[:, 0]
    s = np.signbit(mx)
    idx = np.nonzero(s[1:] != s[:-1])[0]
    tc = t[idx] - mx[idx] * (t[idx + 1] - t[idx]) / (mx[idx + 1] - mx[idx])
    f_meas = (len(tc) - 1) / (2 * (tc[-1] - tc[0]))
    f_damped = GAMMA / (1 + ALPHA**2) / (2 * math.pi) * math.sqrt(p["H1"] * p["H2"])
    res["f_kittel_measured"] = f_meas
    res["f_kittel_theory"] = p["f_kittel"]
    if verbose:
        print(f"[validate] Kittel: measured {f_meas / 1e9:.4f} GHz, gamma/2pi sqrt(H1 H2) = "
              f"{p['f_kittel'] / 1e9:.4f} GHz (LL prefactor 1/(1+alpha^2): "
              f"{f_damped / 1e9:.4f} GHz)  [{time.perf_counter() - t0:.1f} s]")
    # 2. SOT amplitude: decay rate of 1 - m_y is 2 gamma (alpha (H1+H2)/2 - H_DL)/(1+alpha^2)
    t0 = time.perf_counter()
    rates = {}
    for frac in (0.0, 0.5):
        t, m = _trajectory(frac * p["Ic"], 6e-9, _tilted(2.0), write_every_s=2e-13)
        sel = (t > 0.5e-9) & (t < 5.5e-9)
        rates[frac] = -np.polyfit(t[sel], np.log(1 - m[sel, 1]), 1)[0]
    pred0 = 2 * GAMMA * ALPHA * (p["H1"] + p["H2"]) / 2 / (1 + ALPHA**2)
    res["decay_rate_I0"] = rates[0.0]
    res["decay_rate_ratio_half_Ic"] = rates[0.5] / rates[0.0]
    if verbose:
        print(f"[validate] SOT units: decay rate of 1-m_y at I=0 {rates[0.0]:.4e}/s "
              f"(theory {pred0:.4e}/s), ratio rate(I=Ic/2)/rate(0) = "
              f"{rates[0.5] / rates[0.0]:.4f} (theory 0.5)  [{time.perf_counter() - t0:.1f} s]")
    # 3. Equipartition at 300 K, I = 0: one device, 1 us, sampled every 10 ps.
    t0 = time.perf_counter()
    t, m = _trajectory(0.0, 1e-6, (0.0, 1.0, 0.0), temperature_K=300.0, write_every_s=1e-11,
                       seed=12345)
    m = m[t > 5e-9]
    mx2, mz2 = float(np.mean(m[:, 0] ** 2)), float(np.mean(m[:, 2] ** 2))
    bx, bz = _boltzmann_moments(p["demag"], p["volume"], 300.0)
    res.update(mx2=mx2, mz2=mz2, mx2_quadratic=p["mx2_300K"], mz2_quadratic=p["mz2_300K"],
               mx2_boltzmann=bx, mz2_boltzmann=bz, min_my=float(m[:, 1].min()))
    if verbose:
        print(f"[validate] 300 K, I=0, 1 us: <m_x^2> = {mx2:.5f} (kT/(mu0 Ms V H1) = "
              f"{p['mx2_300K']:.5f}, exact Boltzmann {bx:.5f}); <m_z^2> = {mz2:.6f} "
              f"(kT/(mu0 Ms V H2) = {p['mz2_300K']:.6f}, Boltzmann {bz:.6f}); "
              f"min m_y = {m[:, 1].min():.3f}  [{time.perf_counter() - t0:.1f} s]")
    return res


def zero_temperature_threshold(ratios=(0.9, 1.1, 1.2, 1.5), total_time_s=100e-9,
                               verbose=True) -> dict:
    """(a): I = ratio * Ic, T = 0, start 2 deg from +y in-plane, 100 ns.

    Reports final m, first time m_y < 0 (0.2 ps resolution) and the m_y, m_z ranges over
    the last 10 ns, which tell a static state from a steady precession orbit."""
    p = device_params()
    out = {}
    if verbose:
        print(f"(a) T = 0, Ic (Sun) = {p['Ic'] * 1e6:.3f} uA charge current "
              f"(H_DL/I = {p['hdl_per_amp']:.4e} A/m per A), 2 deg tilt, "
              f"{total_time_s * 1e9:.0f} ns")
    for r in ratios:
        t0 = time.perf_counter()
        t, m = _trajectory(r * p["Ic"], total_time_s, _tilted(2.0), write_every_s=2e-13)
        neg = np.nonzero(m[:, 1] < 0)[0]
        t_sw = float(t[neg[0]]) if len(neg) else float("nan")
        last = m[t > total_time_s - 10e-9]  # last 10 ns: static state or limit cycle?
        out[r] = dict(final_my=float(m[-1, 1]), t_first_my_neg=t_sw,
                      final_m=m[-1].tolist(),
                      my_range_last10ns=(float(last[:, 1].min()), float(last[:, 1].max())),
                      mz_range_last10ns=(float(last[:, 2].min()), float(last[:, 2].max())),
                      wall_s=time.perf_counter() - t0)
        if verbose:
            ts = f"{t_sw * 1e9:.3f} ns" if len(neg) else "never"
            print(f"    I/Ic = {r:.2f} ({r * p['Ic'] * 1e6:6.2f} uA): final m = "
                  f"({m[-1, 0]:+.4f}, {m[-1, 1]:+.4f}, {m[-1, 2]:+.4f}), first m_y<0 at {ts}; "
                  f"last 10 ns m_y in [{last[:, 1].min():+.4f}, {last[:, 1].max():+.4f}], "
                  f"m_z in [{last[:, 2].min():+.4f}, {last[:, 2].max():+.4f}]  "
                  f"[{out[r]['wall_s']:.1f} s]")
    return out


def switching_probability(currents_A=(40e-6, 50e-6, 60e-6, 70e-6, 80e-6, 90e-6, 100e-6, 120e-6),
                          n_devices=200,
                          pulse_width_s=0.5e-9, relax_s=1.0e-9, workers=2, seed=2024,
                          verbose=True) -> dict:
    """(b): P(m_y < 0) after a pulse + relaxation at 300 K, n_devices per current."""
    out = {}
    if verbose:
        print(f"(b) 300 K, {pulse_width_s * 1e9:.1f} ns pulse + {relax_s * 1e9:.1f} ns relaxation, "
              f"{n_devices} devices per current, {workers} workers")
    for k, i in enumerate(currents_A):
        t0 = time.perf_counter()
        m = run_devices(n_devices, i, pulse_width_s, pulse_width_s + relax_s, 300.0,
                        seed=seed + 1000 * k, workers=workers)
        n_sw = int(np.sum(m[:, 1] < 0))
        psw = n_sw / n_devices
        err = math.sqrt(max(psw * (1 - psw), 1e-12) / n_devices)
        out[i] = dict(p_switch=psw, n_switched=n_sw, stderr=err, wall_s=time.perf_counter() - t0)
        if verbose:
            print(f"    I = {i * 1e6:6.1f} uA: P_sw = {psw:.3f} +- {err:.3f} ({n_sw}/{n_devices})"
                  f"  [{out[i]['wall_s']:.1f} s]")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip", default="", help="comma list of sections to skip: v,a,b,c")
    ap.add_argument("--devices", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=10000)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    skip = set(args.skip.split(","))
    p = device_params()
    print(f"cmtj {cmtj.__version__}; device 5a t = 1.2 nm: N = {p['demag']}, V = "
          f"{p['volume']:.4e} m^3, H1 = {p['H1']:.1f} A/m, H2 = {p['H2']:.1f} A/m, "
          f"Delta(300 K) = {p['Delta_300K']:.2f}, Ic = {p['Ic'] * 1e6:.3f} uA, "
          f"f_Kittel = {p['f_kittel'] / 1e9:.4f} GHz")
    if "v" not in skip:
        validate()
    if "a" not in skip:
        zero_temperature_threshold()
    if "b" not in skip:
        switching_probability(workers=args.workers)
    if "c" not in skip:
        t0 = time.perf_counter()
        thr = throughput(args.devices, args.steps, workers=args.workers)
        print(f"(c) throughput: {args.devices} devices x {args.steps} steps, {args.workers} "
              f"workers: {thr:.4e} device-steps/s  [{time.perf_counter() - t0:.1f} s, "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}: other CPU load "
              f"on the machine lowers this]")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--_worker"]:
        _worker_main()
    else:
        main()
