"""spinjax versus cmtj on the same stochastic switching problem, in one run on one machine.

Physics (both codes): the SOT-MTJ neuron of physics.md 5a (1.2 nm layer, Delta ≈ 21), 300 K
Brown thermal field, damping-like SOT from a 60 µA, 0.5 ns write pulse, stochastic Heun with
dt = 0.1 ps, |m| renormalised each step, 1e4 steps (1 ns) per device, final state only.

- cmtj 1.15 (C++; its own loop over devices) in 2 worker processes (one per core), wall clock
  including process start (`benchmarks/cmtj_reference.py`);
- spinjax float32, trials sharded over one XLA host device per core, Gaussian and three-point
  noise, compile time excluded (reported separately).

Also the full `spinjax sweep` pipeline (chunking, per-chunk JSON writes, statistics, fits, plot)
on one barrier and pulse with 16 currents x `--trials` trials: trials/s.

    python benchmarks/sweep_vs_cmtj.py [--quick]

Writes benchmarks/results/sweep_vs_cmtj_<backend>.json.
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _common import best_time, host_info, save, use_all_cores

N_CORES = use_all_cores()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import spinjax as sj  # noqa: E402
from spinjax.sweeps import Sweep, SweepConfig  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
import cmtj_reference  # noqa: E402

N_STEPS = 10_000
DT = 1e-13


def spinjax_rate(n, noise):
    system = sj.sot_mtj_neuron(current=sj.Pulse(60e-6, width=0.5e-9, start=0.1e-9))
    m0 = jnp.tile(jnp.array(sj.presets.P_STATE), (n, 1))

    def run():
        sj.simulate(system, m0, t1=N_STEPS * DT, dt=DT, key=jax.random.key(0), noise=noise,
                    dtype=jnp.float32).m.block_until_ready()

    start = time.perf_counter()
    run()
    first = time.perf_counter() - start
    best = best_time(run, repeat=2)
    return n * N_STEPS / best, first - best


def sweep_pipeline_rate(n_trials, noise):
    out = Path(tempfile.mkdtemp(prefix="spinjax-bench-"))
    config = SweepConfig(barriers_kT=(20.0,), pulses_ns=(0.5,), n_trials=n_trials, noise=noise,
                         currents_uA=tuple(float(i) for i in range(40, 200, 10)))
    try:
        Sweep(config, out / "warm", progress=False).run()  # compile
        start = time.perf_counter()
        result = Sweep(config, out / "timed", progress=False).run()
        elapsed = time.perf_counter() - start
    finally:
        shutil.rmtree(out, ignore_errors=True)
    n = sum(r["n_trials"] for r in result["rows"])
    steps = round((config.relax_ns + 0.5 + 0.02) * 1e-9 / DT)
    return n / elapsed, n * steps / elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 1e3 only, fewer trials")
    args = parser.parse_args()
    sizes = [1_000] if args.quick else [1_000, 10_000]
    rows = []
    for n in sizes:
        cmtj = cmtj_reference.throughput(n, N_STEPS, workers=N_CORES)
        row = dict(n_devices=n, cmtj_device_steps_per_s=cmtj)
        print(f"N={n:>7d}  cmtj ({N_CORES} processes): {cmtj:.3e} device-steps/s")
        for noise in ("gaussian", "three_point"):
            rate, compile_s = spinjax_rate(n, noise)
            row[f"spinjax_{noise}_device_steps_per_s"] = rate
            row[f"spinjax_{noise}_compile_s"] = compile_s
            row[f"ratio_{noise}"] = rate / cmtj
            print(f"N={n:>7d}  spinjax {noise:12s}: {rate:.3e} device-steps/s "
                  f"({rate / cmtj:.1f}x cmtj; compile {compile_s:.1f} s)")
        rows.append(row)
    if not args.quick:
        for noise in ("gaussian", "three_point"):
            rate, compile_s = spinjax_rate(100_000, noise)
            rows.append({"n_devices": 100_000, f"spinjax_{noise}_device_steps_per_s": rate,
                         f"spinjax_{noise}_compile_s": compile_s})
            print(f"N= 100000  spinjax {noise:12s}: {rate:.3e} device-steps/s")
    pipeline = {}
    trials = 500 if args.quick else 2000
    for noise in ("gaussian", "three_point"):
        trials_per_s, steps_per_s = sweep_pipeline_rate(trials, noise)
        pipeline[noise] = dict(trials_per_s=trials_per_s, device_steps_per_s=steps_per_s,
                               n_trials_per_point=trials, n_points=16)
        print(f"sweep pipeline ({noise}): {trials_per_s:.0f} trials/s "
              f"({steps_per_s:.3e} device-steps/s incl. I/O and fits)")
    save(f"sweep_vs_cmtj_{jax.default_backend()}.json",
         dict(host=host_info(), xla_devices=N_CORES, n_steps=N_STEPS, dt_s=DT,
              cmtj_version=cmtj_reference.cmtj.__version__ if hasattr(cmtj_reference.cmtj, "__version__") else "1.15",
              results=rows, sweep_pipeline=pipeline))


if __name__ == "__main__":
    main()
