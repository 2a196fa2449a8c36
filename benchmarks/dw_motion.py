"""Domain-wall velocity vs current density: micromagnetics (spinjax.micromag) vs the 1D model.

A Pt/Co-like PMA strip (Ms = 1.1 MA/m, A = 16 pJ/m, K_eff = 0.45 MJ/m^3, D = 1.2 mJ/m^2,
alpha = 0.3, t_FM = 0.8 nm, w = 20 nm) with one up/down Néel wall relaxed by
`spinjax.micromag.relax` (from a Bloch profile: the DMI picks the chirality) is driven for
T1 = 0.5 ns by

- SOT alone (theta_SH = 0.1, `SpinOrbitTorque`),
- Zhang–Li STT alone (P = 0.5, beta = 0.1, `ZhangLiTorque`),
- both (the same j in the heavy metal and the magnet),

at 8 current densities up to 4 j_D (j_D = 1.47e12 A/m^2, where the SOT velocity is v_D/sqrt 2).
The micromagnetic wall position is the interpolated zero of m_z(x); velocities are the slope
over [T1/2, T1] in both models (the phi transient lasts ~70 ps). The 1D model
(`spinjax.DomainWallStrip`) is solved from the relaxed wall's position and angle with the same
parameters, K_D = 0 (see below), and its closed-form steady SOT velocity is listed too.

Both models use the thin-film effective anisotropy K_eff and no Demag: the mesh is
n x 1 x 1 cells (the wall is straight across the width, as the 1D model assumes), and for
t = 0.8 nm << Delta = 6 nm the film's demag field is local, -mu0 Ms^2/2 m_z^2, to O(t/Delta).
Without demag the wall has no Bloch–Néel anisotropy, so the 1D model gets shape_anisotropy=0.

A second table checks the wall's Bloch–Néel anisotropy K_D of the 1D model (exact Fourier
magnetostatics of the profile, `DomainWallStrip.wall_anisotropy`) and the prism approximation
(`prism_wall_anisotropy`) against the Newell demag energy difference of Néel and Bloch profiles
on an n x 1 x 1 mesh of the strip's width and thickness.

Usage: python benchmarks/dw_motion.py [--cell 1.5e-9]
Writes benchmarks/results/dw_motion_<backend>.json.
"""

import argparse
import json
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from _common import RESULTS, host_info  # noqa: E402
from spinjax import DomainWallStrip, solve_wall  # noqa: E402
from spinjax.micromag import (Exchange, InterfacialDMI, Mesh, Micromagnet,  # noqa: E402
                              SpinOrbitTorque, UniaxialAnisotropy, ZhangLiTorque, relax, run)
from spinjax.waveforms import Constant  # noqa: E402

MS, A_EX, K_EFF, D_DMI, ALPHA = 1.1e6, 1.6e-11, 4.5e5, 1.2e-3, 0.3
THETA, P, BETA, T_FM, WIDTH = 0.1, 0.5, 0.1, 0.8e-9, 20e-9
T1 = 0.5e-9
CURRENTS = np.array([0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.5, 6.0]) * 1e12
DRIVES = {"SOT": (THETA, 0.0), "ZL": (0.0, P), "SOT+ZL": (THETA, P)}


def wall_position(m, x, dx):
    """Interpolated zero of m_z(x) of the up/down wall and the in-plane angle there."""
    mz = m[2, :, 0, 0]
    i = int(np.where((mz[:-1] > 0) & (mz[1:] <= 0))[0][0])
    f = mz[i] / (mz[i] - mz[i + 1])
    mxy = (1 - f) * m[:2, i, 0, 0] + f * m[:2, i + 1, 0, 0]
    return x[i] + f * dx, float(np.arctan2(mxy[1], mxy[0]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell", type=float, default=1.5e-9, help="cell size along x [m]")
    parser.add_argument("--length", type=float, default=360e-9, help="strip length [m]")
    args = parser.parse_args()

    n = int(round(args.length / args.cell))
    length = n * args.cell
    mesh = Mesh((n, 1, 1), (args.cell, WIDTH, T_FM))
    x = (np.arange(n) + 0.5) * args.cell
    delta = np.sqrt(A_EX / K_EFF)
    theta = 2 * np.arctan(np.exp((x - (length - 80e-9)) / delta))
    m0 = jnp.asarray(np.stack([0 * x, np.sin(theta), np.cos(theta)])[:, :, None, None])
    fields = (Exchange(), UniaxialAnisotropy(K_EFF), InterfacialDMI(D_DMI, edge_axes=(0,)))

    start = time.perf_counter()
    m_rel, torque = relax(Micromagnet(mesh, MS, A_EX, ALPHA, fields=fields), m0, tol=1.0,
                          t_max=1e-9, return_torque=True)
    q0, phi0 = wall_position(np.asarray(m_rel), x, args.cell)
    t_relax = time.perf_counter() - start

    cases = np.array([[th, p, j] for th, p in DRIVES.values() for j in CURRENTS])
    ts = jnp.linspace(0.0, T1, 11)

    def one(c):
        j = jnp.stack([c[2], 0.0, 0.0])
        torques = (SpinOrbitTorque(c[0], j, thickness=T_FM), ZhangLiTorque(c[1], j, beta=BETA))
        system = Micromagnet(mesh, MS, A_EX, ALPHA, fields=fields, torques=torques)
        return run(system, m_rel, T1, ts, save_fields=True, rtol=1e-6, atol=1e-6).m

    start = time.perf_counter()
    ms = np.asarray(jax.vmap(one)(jnp.asarray(cases)))
    t_mm = time.perf_counter() - start

    def model(c):
        return DomainWallStrip(Ms=MS, A=A_EX, alpha=ALPHA, D=D_DMI, length=length, width=WIDTH,
                               thickness=T_FM, K_eff=K_EFF, shape_anisotropy=0.0,
                               current=Constant(c[2]), spin_hall_angle=c[0], polarization=c[1],
                               beta=BETA)

    start = time.perf_counter()
    traj = jax.vmap(lambda c: solve_wall(model(c), T1, q0, phi0, save_at=ts))(jnp.asarray(cases))
    q1d, phi1d = np.asarray(traj.q), np.asarray(traj.phi)
    t_1d = time.perf_counter() - start

    half = len(ts) // 2
    tsn = np.asarray(ts)
    rows = []
    for k, c in enumerate(cases):
        pos = [wall_position(m, x, args.cell) for m in ms[k]]
        q_mm = np.array([p[0] for p in pos])
        v_mm = (q_mm[-1] - q_mm[half]) / (tsn[-1] - tsn[half])
        v_1d = (q1d[k, -1] - q1d[k, half]) / (tsn[-1] - tsn[half])
        m1 = model(jnp.asarray(c))
        v_ss = float(m1.steady_state()[0])
        rows.append({
            "drive": [d for d, v in DRIVES.items() if v == (c[0], c[1])][0],
            "j_A_per_m2": float(c[2]), "v_micromag_m_per_s": float(v_mm),
            "v_1d_m_per_s": float(v_1d), "v_1d_steady_m_per_s": v_ss,
            "rel_diff": float(v_mm / v_1d - 1.0),
            "phi_micromag_end": pos[-1][1], "phi_1d_end": float(phi1d[k, -1]),
        })
    ref = model(jnp.asarray(cases[0]))
    v_d = float(ref.dmi_saturation_velocity())
    j_d = float(ref.sot_saturation_current_density())

    print(f"DW velocity, micromag ({n} x 1 x 1 cells of {args.cell * 1e9:g} nm, no demag, "
          f"K_eff) vs 1D model; v_D = {v_d:.1f} m/s, j_D = {j_d:.3g} A/m^2, "
          f"Delta = {float(ref.wall_width()) * 1e9:.2f} nm")
    print(f"relaxed wall: q0 = {q0 * 1e9:.2f} nm, phi0 = {phi0:.2e} rad (1D rest angle "
          f"{float(ref.rest_angle()):.1e}), torque {float(torque):.2g} A/m")
    print(f"{'drive':>7} {'j [A/m^2]':>10} {'j/j_D':>6} {'v_mm [m/s]':>11} {'v_1D [m/s]':>11} "
          f"{'v_1D,ss':>9} {'diff':>7} {'phi_mm':>7} {'phi_1D':>7}")
    for r in rows:
        print(f"{r['drive']:>7} {r['j_A_per_m2']:10.3g} {r['j_A_per_m2'] / j_d:6.2f} "
              f"{r['v_micromag_m_per_s']:11.2f} {r['v_1d_m_per_s']:11.2f} "
              f"{r['v_1d_steady_m_per_s']:9.2f} {100 * r['rel_diff']:6.2f}% "
              f"{r['phi_micromag_end']:7.3f} {r['phi_1d_end']:7.3f}")
    print("SOT assist: v(SOT+ZL) / v(ZL alone) at equal j, micromag | 1D:")
    n_j = len(CURRENTS)
    for i, j in enumerate(CURRENTS):
        zl, both = rows[n_j + i], rows[2 * n_j + i]
        print(f"  j = {j:8.3g}: {both['v_micromag_m_per_s'] / zl['v_micromag_m_per_s']:6.1f} | "
              f"{both['v_1d_m_per_s'] / zl['v_1d_m_per_s']:6.1f}")
    print(f"times: relax {t_relax:.1f} s, micromag batch of {len(cases)} (incl. compile) "
          f"{t_mm:.1f} s, 1D batch (incl. compile) {t_1d:.2f} s")

    # Wall anisotropy: Newell demag (dx = Delta/24) vs the 1D model's K_D and the prism.
    from spinjax.micromag import Demag
    dxk, nk = 0.25e-9, 3200
    xk = (np.arange(nk) + 0.5) * dxk
    thk = 2 * np.arctan(np.exp((xk - nk * dxk / 2) / delta))
    kd_rows = []
    print("wall anisotropy K_D [J/m^3]: Newell demag (dx = Delta/24) | 1D model | prism")
    for width in (10e-9, 20e-9, 50e-9, 100e-9, 1e-6):
        system = Micromagnet(Mesh((nk, 1, 1), (dxk, width, T_FM)), MS, A_EX, ALPHA,
                             fields=(Demag(),))
        e = []
        for phi in (0.0, np.pi / 2):
            m = np.stack([np.sin(thk) * np.cos(phi), np.sin(thk) * np.sin(phi), np.cos(thk)])
            e.append(float(system.energy(0.0, jnp.asarray(m)[:, :, None, None])))
        k_mm = (e[0] - e[1]) / (2 * delta * width * T_FM)
        s = DomainWallStrip(Ms=MS, A=A_EX, alpha=ALPHA, D=D_DMI, length=length, width=width,
                            thickness=T_FM, K_eff=K_EFF)
        k_1d, k_pr = float(s.wall_anisotropy()), float(s.prism_wall_anisotropy())
        kd_rows.append({"width_m": width, "K_D_newell": k_mm, "K_D_model": k_1d,
                        "K_D_prism": k_pr})
        print(f"  w = {width * 1e9:6.0f} nm: {k_mm:9.0f} | {k_1d:9.0f} | {k_pr:9.0f}")

    result = {
        "wall_anisotropy": kd_rows,
        "setup": {"Ms": MS, "A": A_EX, "K_eff": K_EFF, "D": D_DMI, "alpha": ALPHA,
                  "theta_SH": THETA, "P": P, "beta": BETA, "t_FM": T_FM, "width": WIDTH,
                  "cell_x": args.cell, "n_cells": n, "T1_s": T1, "demag": False,
                  "v_D": v_d, "j_D": j_d},
        "relaxed": {"q0_m": q0, "phi0_rad": phi0, "torque_A_per_m": float(torque)},
        "rows": rows,
        "times_s": {"relax": t_relax, "micromag_batch": t_mm, "one_d_batch": t_1d},
        "host": host_info(),
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"dw_motion_{jax.default_backend()}.json"
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
