"""SOT-MTJ neuron device family (physics.md 5a): calibrate, fit, validate at held-out designs.

Runs `spinjax.devices.calibrate_neuron_family` on a grid of free-layer thicknesses x write
pulse widths (sLLG Monte Carlo from Boltzmann rest states at 300 K; per point a pilot scan
then 12 currents across the transition), fits the smooth `SOTNeuronFamily` (ln i50 and
ln log_width as the lowest-order polynomials in t_FL / 1 nm and ln(t_PW / 1 ns) that fit the
grid within its Monte Carlo errors), writes the package JSON
(spinjax/devices/data/sot_neuron_family.json) and validates the family at held-out designs
against fresh Monte Carlo with new keys: 12 currents at the family's predicted quantiles
P = 0.03 .. 0.97, checked with `spinjax.devices.agreement` (3-sigma Wilson interval widened by
the family's stated error), and the Monte Carlo i50 / log_width refitted there compared with
the family's prediction.

Usage: python benchmarks/sot_neuron_family.py [--trials 800] [--pilot 32] [--no-package]
       python benchmarks/sot_neuron_family.py --refit   (refit + revalidate the stored grid)
Writes benchmarks/results/sot_neuron_family_<backend>.json.
"""

import argparse
import json
import math
import time

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402

from _common import RESULTS, host_info, save  # noqa: E402
from spinjax.devices import SOTMTJNeuron, agreement  # noqa: E402
from spinjax.devices.sot_family import (DEFAULT_PATH, FamilyCalibration,  # noqa: E402
                                        calibrate_neuron_family, fit_family)
from spinjax.statistics import fit_logistic  # noqa: E402

THICKNESS_NM = [0.8, 1.0, 1.2, 1.5]
PULSE_NS = [0.2, 0.35, 0.5, 1.0]
HELD_OUT = [(1.1, 0.7), (0.9, 0.3), (1.35, 0.25)]  # (nm, ns), not on the grid
N_VALIDATION_CURRENTS = 12


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=800, help="trials per current")
    parser.add_argument("--pilot", type=int, default=32, help="pilot-scan trials per current")
    parser.add_argument("--thickness-nm", type=float, nargs="+", default=THICKNESS_NM)
    parser.add_argument("--pulse-ns", type=float, nargs="+", default=PULSE_NS)
    parser.add_argument("--no-package", action="store_true",
                        help="do not overwrite the package JSON (smoke runs)")
    parser.add_argument("--refit", action="store_true",
                        help="reuse the grid Monte Carlo stored in the package JSON: refit the "
                             "family and rerun the held-out validation only")
    args = parser.parse_args()
    key = jax.random.key(5_2026)
    t_start = time.perf_counter()

    print(f"calibration grid: t_FL = {args.thickness_nm} nm x t_PW = {args.pulse_ns} ns, "
          f"{args.trials} trials x 12 currents per point (+ pilot {args.pilot} x 24)")
    print(f"{'t_FL nm':>7} {'t_PW ns':>7} {'Delta':>6} {'i50 uA':>8} {'+-%':>5} "
          f"{'log_w':>6} {'+-%':>5} {'dev/dof':>8} {'rms':>6} {'s':>5}")
    timings = []

    def progress(t, pw, cal, seconds):
        f = fit_logistic(np.log(cal.inputs), cal.k, cal.n)
        sig = cal.surrogate
        timings.append(seconds)
        print(f"{t * 1e9:7.2f} {pw * 1e9:7.2f} {float(sig.barrier_kT):6.2f} "
              f"{float(sig.i50) * 1e6:8.2f} {100 * f['x50_err']:5.2f} "
              f"{float(sig.log_width):6.3f} {100 * f['width_err'] / f['width']:5.1f} "
              f"{cal.deviance:4.1f}/{cal.dof:<3d} {cal.rms_error:6.3f} {seconds:5.1f}",
              flush=True)

    if args.refit:
        old = FamilyCalibration.from_json(DEFAULT_PATH)
        previous = json.loads((RESULTS / f"sot_neuron_family_{jax.default_backend()}.json")
                              .read_text())
        seconds = previous["timing_s"]["per_grid_point"]
        for t, pw, cal, sec in zip(old.thickness, old.pulse_width, old.calibrations, seconds):
            progress(t, pw, cal, sec)
        fc = fit_family(old.thickness, old.pulse_width, old.calibrations)
        t_cal = previous["timing_s"]["calibration"]
        print(f"(refit of the stored grid Monte Carlo; its calibration took {t_cal:.0f} s)")
    else:
        fc = calibrate_neuron_family(key, np.asarray(args.thickness_nm) * 1e-9,
                                     np.asarray(args.pulse_ns) * 1e-9, n_trials=args.trials,
                                     pilot_trials=args.pilot, callback=progress)
        t_cal = time.perf_counter() - t_start
    fam = fc.family
    if not args.no_package:
        fc.to_json(DEFAULT_PATH)
        print(f"wrote {DEFAULT_PATH}")

    print("\nfit (weighted least squares, lowest order within the Monte Carlo errors):")
    for name in ("ln_i50", "ln_log_width"):
        r = fc.fit[name]
        print(f"  {name}: terms x^i y^j {r['terms']}  chi2/dof = {r['chi2']:.1f}/{r['dof']}"
              f" ({'accepted' if r['accepted'] else 'NOT within errors'})")
        for c in r["candidates"]:
            print(f"      tried {len(c['terms']):2d} terms: chi2/dof = {c['chi2']:8.1f}/{c['dof']}")
        print(f"      residuals: rms {r['rms_residual']:.4f}, max {r['max_abs_residual']:.4f}"
              f" (in ln units = relative); pulls {np.round(r['pulls'], 2).tolist()}")
    pr = fc.fit["probability"]
    print(f"  probability: rms error {pr['rms_error']:.4f}, max error {pr['max_error']:.4f} "
          f"over {pr['n_observations']} calibration currents; binomial deviance "
          f"family {pr['deviance_family']:.1f} (dof {pr['dof_family']}) vs per-point fits "
          f"{pr['deviance_per_point_fits']:.1f}")

    # --- held-out validation: fresh keys, designs not on the grid ---------------------------
    print("\nheld-out validation (fresh sLLG Monte Carlo, new keys):")
    print(f"{'t_FL nm':>7} {'t_PW ns':>7} {'i50 fam':>8} {'i50 MC':>8} {'+-':>5} {'pull':>5} "
          f"{'w fam':>6} {'w MC':>6} {'+-':>5} {'pull':>5} {'agree(max)':>10} "
          f"{'agree(rms)':>10} {'max|dP|':>7}")
    held = []
    z = np.log(np.array([0.03, 0.97]) / (1 - np.array([0.03, 0.97])))
    for h, (t_nm, pw_ns) in enumerate(HELD_OUT):
        t, pw = t_nm * 1e-9, pw_ns * 1e-9
        i50, w = float(fam.i50(t, pw)), float(fam.log_width(t, pw))
        currents = np.exp(np.log(i50) + w * np.linspace(z[0], z[1], N_VALIDATION_CURRENTS))
        neuron = SOTMTJNeuron(thickness=t, pulse_width=pw)
        start = time.perf_counter()
        p, k, n = neuron.firing_probability(currents, jax.random.key(10_000 + h), args.trials)
        seconds = time.perf_counter() - start
        p_fam = np.asarray(fam.probability(currents, t, pw))
        ok_max = agreement(p_fam, k, n, fam.max_error)
        ok_rms = agreement(p_fam, k, n, fam.rms_error)
        f = fit_logistic(np.log(currents), k, n)
        i50_mc, w_mc = math.exp(f["x50"]), f["width"]
        row = {
            "thickness_nm": t_nm, "pulse_ns": pw_ns, "barrier_kT": float(fam.barrier(t)),
            "currents_A": currents.tolist(), "k": k.tolist(), "n": n.tolist(),
            "p_family": p_fam.tolist(),
            "i50_family_uA": i50 * 1e6, "i50_mc_uA": i50_mc * 1e6,
            "ln_i50_err": f["x50_err"], "i50_pull": (math.log(i50) - f["x50"]) / f["x50_err"],
            "log_width_family": w, "log_width_mc": w_mc, "log_width_err": f["width_err"],
            "log_width_pull": (w - w_mc) / f["width_err"],
            "agreement_max_error": ok_max.tolist(), "agreement_rms_error": ok_rms.tolist(),
            "max_abs_dp": float(np.max(np.abs(p_fam - p))),
            "rms_dp": float(np.sqrt(np.mean((p_fam - p) ** 2))),
            "mc_deviance": f["deviance"], "seconds": seconds,
        }
        held.append(row)
        print(f"{t_nm:7.2f} {pw_ns:7.2f} {i50 * 1e6:8.2f} {i50_mc * 1e6:8.2f} "
              f"{100 * f['x50_err']:4.1f}% {row['i50_pull']:5.1f} {w:6.3f} {w_mc:6.3f} "
              f"{f['width_err']:5.3f} {row['log_width_pull']:5.1f} "
              f"{int(ok_max.sum()):>7d}/{len(ok_max):<2d} {int(ok_rms.sum()):>7d}/{len(ok_rms):<2d}"
              f" {row['max_abs_dp']:7.3f}", flush=True)

    total = time.perf_counter() - t_start + (t_cal if args.refit else 0.0)
    grid = [{"thickness_nm": float(t * 1e9), "pulse_ns": float(pw * 1e9), "seconds": s,
             **{k_: v for k_, v in pt.items() if k_ not in ("thickness_m", "pulse_width_s")},
             "i50_family_uA": float(fam.i50(t, pw)) * 1e6,
             "log_width_family": float(fam.log_width(t, pw))}
            for t, pw, s, pt in zip(fc.thickness, fc.pulse_width, timings,
                                    fc.to_dict()["points"])]
    out = {
        "host": host_info(),
        "grid": {"thickness_nm": args.thickness_nm, "pulse_ns": args.pulse_ns,
                 "trials_per_current": args.trials, "pilot_trials": args.pilot},
        "family": fam.to_dict(),
        "fit": fc.fit,
        "calibration_points": grid,
        "held_out": held,
        "refit_of_stored_grid": args.refit,
        "timing_s": {"calibration": t_cal, "total": total,
                     "per_grid_point": timings},
    }
    save(f"sot_neuron_family_{jax.default_backend()}.json", out)
    print(f"total {total:.0f} s (calibration {t_cal:.0f} s)")


if __name__ == "__main__":
    main()
