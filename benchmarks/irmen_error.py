"""IRMEN magnetoelectric CeNN cell (physics.md 5d): transfer-function error vs magnet length.

Monte Carlo of single 200 ps reads (`spinjax.devices.IRMENCell.read`: Boltzmann start at the
input's ME field, thermal sLLG over the read pulse in float32, pulse-averaged m_y) at 25 inputs
uniform in [-1.5, 1.5] V_sat for magnet lengths 17-60 nm, 400 reads each (10^4 per length and
mode), for the crystalline-only magnet of 5d and with the prism's shape anisotropy. Error = RMS
deviation of the normalised reads from the ideal saturated-linear curve clip(V / V_sat),
split into the thermal-mean bias and the read-to-read noise. Then: the calibrated surrogate
(fitted at 17/34/60 nm, checked at 24/48 nm), retention over a 12.5 ns hold with 50 reads,
the magnet's step response and the energy per evaluation.

Usage: python benchmarks/irmen_error.py [--trials 400]
Writes benchmarks/results/irmen_error_<backend>.json.
"""

import argparse
import json
import math
import time

import jax

jax.config.update("jax_enable_x64", True)  # fits and bookkeeping; the sLLG runs in float32

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from _common import RESULTS, host_info  # noqa: E402
from spinjax.devices import (IRMENCell, calibrate_surrogate, response_times,  # noqa: E402
                             transfer_monte_carlo)
from spinjax.statistics import wilson_interval  # noqa: E402

LENGTHS_NM = np.array([17, 24, 34, 48, 60])
INPUTS = np.linspace(-1.5, 1.5, 25)
CAL_NM, HELD_NM = [17, 34, 60], [24, 48]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=400, help="reads per (length, input)")
    args = parser.parse_args()
    out = {"host": host_info(), "trials_per_point": args.trials, "inputs_in_vsat":
           INPUTS.tolist(), "modes": {}}
    key = jax.random.key(2024)
    for mode, shape in (("crystalline", False), ("shape", True)):
        cell = IRMENCell(shape_anisotropy=shape)
        start = time.perf_counter()
        data = transfer_monte_carlo(cell, jax.random.fold_in(key, int(shape)),
                                    lengths=LENGTHS_NM * 1e-9, inputs=INPUTS,
                                    n_trials=args.trials)
        wall = time.perf_counter() - start
        n_total = data.outputs.size
        cal_idx = [list(LENGTHS_NM).index(x) for x in CAL_NM]
        held_idx = [list(LENGTHS_NM).index(x) for x in HELD_NM]
        sub = lambda idx: type(data)(  # noqa: E731
            lengths=data.lengths[idx], voltages=data.voltages[idx], outputs=data.outputs[idx],
            v_sat=data.v_sat[idx], barrier=data.barrier[idx], ideal=data.ideal[idx])
        cal = calibrate_surrogate(sub(cal_idx), cell)
        sur = cal.surrogate
        rows = []
        for i, length in enumerate(data.lengths):
            lin = np.abs(INPUTS) <= 0.5
            slope = float(np.polyfit(INPUTS[lin], data.mean[i, lin], 1)[0])
            v = jnp.asarray(data.voltages[i])
            s_mean, s_std = np.asarray(sur.mean(v, length)), np.asarray(sur.std(v, length))
            c = cell.with_length(length)
            rows.append({
                "length_nm": float(length * 1e9),
                "volume_nm3": float(c.volume() * 1e27),
                "delta_kT": float(data.barrier[i]),
                "v_sat_mV": float(data.v_sat[i] * 1e3),
                "slope": slope,
                "out_at_-1.5": float(data.mean[i, 0]), "out_at_+1.5": float(data.mean[i, -1]),
                "rms_error": float(data.rms_error()[i]),
                "bias_rms": float(data.bias_rms()[i]),
                "noise_rms": float(data.noise_rms()[i]),
                "noise_at_0": float(data.std[i, len(INPUTS) // 2]),
                "surrogate_rms_error": float(sur.rms_error(length, INPUTS)),
                "surrogate_mean_max_dev": float(np.max(np.abs(s_mean - data.mean[i]))),
                "surrogate_std_rel_rms": float(np.sqrt(np.mean((s_std / data.std[i] - 1) ** 2))),
                "role": "calibration" if i in cal_idx else "held-out",
                "ring_down_ns": float(c.ring_down_time() * 1e9),
                "v_out_plus1_mV": float(c.output_voltage() * 1e3),
                "energy_write_at_vsat_J": float(c.write_energy(float(data.v_sat[i]))),
                "energy_read_J": float(c.read_energy()),
                "energy_output_J": float(c.output_energy()),
                "energy_total_at_vsat_J": float(c.evaluation_energy(float(data.v_sat[i]))),
            })
        resp = []
        for length in (17e-9, 60e-9):
            c = cell.with_length(length)
            v = 0.5 * float(c.saturation_voltage())
            ts, y = c.step_response(v, 45e-9 if not shape else 10e-9, n_save=900)
            rise, settle = response_times(ts, y, 0.5)
            resp.append({"length_nm": length * 1e9, "step_to": 0.5, "rise_90_ns": rise * 1e9,
                         "settle_10pct_ns": settle * 1e9,
                         "ring_down_ln10_ns": float(c.ring_down_time(v)) * math.log(10) * 1e9})
        out["modes"][mode] = {
            "rows": rows, "mc_trials": int(n_total), "mc_wall_s": wall,
            "reads_per_s": n_total / wall,
            "device_steps_per_s": n_total * float(cell.read_time / cell.dt) / wall,
            "mean_curves": {f"{x:.0f}nm": data.mean[i].tolist()
                            for i, x in enumerate(LENGTHS_NM)},
            "std_curves": {f"{x:.0f}nm": data.std[i].tolist() for i, x in enumerate(LENGTHS_NM)},
            "surrogate": {"kappa": float(sur.kappa), "noise_scale": float(sur.noise_scale),
                          "c_sat": float(sur.c_sat), "calibration_lengths_nm": CAL_NM,
                          "held_out_lengths_nm": HELD_NM,
                          "mean_rms_error": cal.mean_rms_error,
                          "mean_max_error": cal.mean_max_error,
                          "std_rel_error": cal.std_rel_error, "chi2": cal.chi2,
                          "dof": cal.dof},
            "step_response": resp,
        }
        print(f"\n== {mode} anisotropy: {n_total} reads in {wall:.1f} s "
              f"({n_total / wall:.0f} reads/s) ==")
        print(f"{'L nm':>5} {'Delta':>6} {'Vsat mV':>8} {'slope':>6} {'y(+1.5)':>8} "
              f"{'rms err':>8} {'bias':>7} {'noise':>7} {'sur err':>8} {'role':>11}")
        for r in rows:
            print(f"{r['length_nm']:5.0f} {r['delta_kT']:6.1f} {r['v_sat_mV']:8.2f} "
                  f"{r['slope']:6.3f} {r['out_at_+1.5']:8.4f} {r['rms_error']:8.4f} "
                  f"{r['bias_rms']:7.4f} {r['noise_rms']:7.4f} {r['surrogate_rms_error']:8.4f} "
                  f"{r['role']:>11}")
        s = out["modes"][mode]["surrogate"]
        print(f"surrogate: kappa={s['kappa']:.3f} noise_scale={s['noise_scale']:.3f} "
              f"c_sat={s['c_sat']:.3f}; calibration mean rms/max error "
              f"{s['mean_rms_error']:.4f}/{s['mean_max_error']:.4f}, std rel error "
              f"{s['std_rel_error']:.3f}, chi2 {s['chi2']:.1f} / {s['dof']} dof")
        for r in resp:
            print(f"step 0 -> 0.5 Vsat, L = {r['length_nm']:.0f} nm: rise(90 %) "
                  f"{r['rise_90_ns']:.3f} ns, settle(±10 %) {r['settle_10pct_ns']:.2f} ns "
                  f"(tau ln 10 = {r['ring_down_ln10_ns']:.2f} ns)")

    # Retention: 12.5 ns hold, 50 reads, 17 nm crystalline (the least stable magnet).
    cell = IRMENCell(length=17e-9)
    vs = float(cell.saturation_voltage())
    n = 500
    v = jnp.concatenate([jnp.full(n, 1.5 * vs), jnp.full(n, -1.5 * vs)])
    sign = np.sign(np.asarray(v))[:, None]
    retention = {}
    for label, frac in (("no read torque (physical)", 0.0), ("worst-case torque", 1.0),
                        ("40x worst case", 40.0)):
        reads = np.asarray(cell.hold_and_read(v, jax.random.fold_in(key, 7), n_reads=50,
                                              torque_fraction=frac))
        kept = int(np.sum(np.all(reads * sign > 0, axis=1)))
        lo, hi = wilson_interval(kept, 2 * n)
        retention[label] = {"torque_fraction": frac, "kept": kept, "trials": 2 * n,
                            "retention": kept / (2 * n), "wilson95": [float(lo), float(hi)],
                            "min_read_magnitude": float(np.min(reads * sign))}
        print(f"retention over 12.5 ns / 50 reads, {label}: {kept}/{2 * n} "
              f"(95 % CI {lo:.4f}-{hi:.4f}), smallest read {np.min(reads * sign):.3f}")
    out["retention_17nm"] = retention
    out["charge_retention_12p5ns"] = float(cell.charge_retention(12.5e-9))
    path = RESULTS / f"irmen_error_{jax.default_backend()}.json"
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2))
    print(f"saved {path}")


if __name__ == "__main__":
    main()
