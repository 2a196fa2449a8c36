"""muMAG standard problem 4 (field 1) with spinjax.micromag: time to solution, float64.

Runs SP4 (permalloy 500 x 125 x 3 nm, Ms = 8e5 A/m, A = 1.3e-11 J/m, alpha = 0.02; s-state
relaxed from (1, 0.25, 0.1); field 1 mu0 H = (-24.6, 4.3, 0) mT for 1 ns) at NX x NY x 1 cells
(default 200 x 50) and prints: relaxation time, compile time, time of the 1 ns run (best of
--repeat after a warm-up), the first <mx> zero crossing and <m>(1 ns), next to mumax3's
regression values (mumax/3 test/standardproblem4.mx3, 128 x 32 cells: relaxed
<m> = (0.96697, 0.12527, 0), <m>(1 ns) = (-0.98461, 0.12604, 0.04327)).
Peers (magnum.np, NeuralMag) are not run here; solver-notes.md lists their times on this
machine (NeuralMag-JAX 35 s at 200 x 50).

Usage: python benchmarks/micromag_sp4.py [--nx 200 --ny 50 --repeat 1 --rtol 1e-6]
Writes benchmarks/results/micromag_sp4_<backend>.json.
"""

import argparse
import json
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from _common import RESULTS, host_info  # noqa: E402
from spinjax.constants import MU0  # noqa: E402
from spinjax.micromag import Demag, Exchange, Mesh, Micromagnet, Zeeman, relax, run  # noqa: E402

MUMAX3_RELAXED = (0.96697, 0.12527, 0.0)
MUMAX3_FINAL = (-0.98461, 0.12604, 0.04327)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nx", type=int, default=200)
    parser.add_argument("--ny", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--rtol", type=float, default=1e-6)
    parser.add_argument("--relax-tol", type=float, default=1.0,
                        help="relaxation torque tolerance [A/m]")
    args = parser.parse_args()

    mesh = Mesh((args.nx, args.ny, 1), (500e-9 / args.nx, 125e-9 / args.ny, 3e-9))
    base = Micromagnet(mesh, 8e5, 1.3e-11, 0.02, fields=(Exchange(), Demag()))
    start = time.perf_counter()
    # Coarse-to-fine: relax on a grid with half the cells per axis (4x cheaper per step and
    # 4x larger stable steps), repeat each cell 2 x 2, then finish on the full grid.
    m_init = mesh.uniform((1.0, 0.25, 0.1))
    if args.nx % 2 == 0 and args.ny % 2 == 0:
        coarse = Mesh((args.nx // 2, args.ny // 2, 1), (1000e-9 / args.nx, 250e-9 / args.ny, 3e-9))
        m_c = relax(Micromagnet(coarse, 8e5, 1.3e-11, 0.02, fields=(Exchange(), Demag())),
                    coarse.uniform((1.0, 0.25, 0.1)), tol=args.relax_tol)
        m_init = jnp.repeat(jnp.repeat(m_c, 2, axis=1), 2, axis=2)
    s_state, torque = relax(base, m_init, tol=args.relax_tol, return_torque=True)
    s_state.block_until_ready()
    t_relax = time.perf_counter() - start

    field_1 = jnp.array([-24.6e-3, 4.3e-3, 0.0]) / MU0
    system = Micromagnet(mesh, 8e5, 1.3e-11, 0.02, fields=(Exchange(), Demag(), Zeeman(field_1)))
    ts = jnp.linspace(0.0, 1e-9, 1001)

    def solve():
        traj = run(system, s_state, 1e-9, ts, rtol=args.rtol, atol=args.rtol)
        traj.m_mean.block_until_ready()
        return traj

    start = time.perf_counter()
    traj = solve()
    t_first = time.perf_counter() - start
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        traj = solve()
        times.append(time.perf_counter() - start)
    t_run = min(times)

    mx = np.asarray(traj.m_mean[:, 0])
    i = int(np.argmax(mx < 0))
    t_cross = float(ts[i - 1] + (ts[i] - ts[i - 1]) * mx[i - 1] / (mx[i - 1] - mx[i]))
    relaxed = np.asarray(base.mean_m(s_state))
    final = np.asarray(traj.m_mean[-1])
    result = {
        "grid": [args.nx, args.ny, 1], "dtype": "float64", "rtol": args.rtol,
        "relax_s": t_relax, "relax_final_torque_A_per_m": float(torque),
        "first_run_s (incl. compile)": t_first, "run_1ns_s": t_run,
        "n_steps": int(traj.n_steps), "first_mx_zero_crossing_ns": t_cross * 1e9,
        "relaxed_mean_m": relaxed.tolist(), "final_mean_m": final.tolist(),
        "mumax3_relaxed_mean_m": MUMAX3_RELAXED, "mumax3_final_mean_m": MUMAX3_FINAL,
        "host": host_info(),
    }
    print(f"SP4 field 1, {args.nx} x {args.ny} x 1 cells, float64, rtol {args.rtol:g}")
    print(f"  relax              {t_relax:8.2f} s  (final torque {float(torque):.3g} A/m)")
    print(f"  1 ns run           {t_run:8.2f} s  ({int(traj.n_steps)} steps; first call "
          f"{t_first:.2f} s with compile)")
    print(f"  first <mx> = 0     {t_cross * 1e9:8.4f} ns")
    print(f"  relaxed <m>        {np.array2string(relaxed, precision=5)}   mumax3 {MUMAX3_RELAXED}")
    print(f"  <m>(1 ns)          {np.array2string(final, precision=5)}   mumax3 {MUMAX3_FINAL}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"micromag_sp4_{jax.default_backend()}.json"
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
