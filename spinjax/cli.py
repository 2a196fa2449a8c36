"""The `spinjax` command line. `spinjax sweep --help` lists the sweep's options."""

import argparse
import dataclasses
import os
import sys
import time
import tomllib
from pathlib import Path


def _floats(text):
    try:
        return tuple(float(v) for v in text.replace(",", " ").split())
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas: {text!r}") from err


SWEEP_OPTIONS = [
    # (flag, config field, type, help)
    ("--barriers", "barriers_kT", _floats,
     "nominal energy barriers [k_B T]; 10/20/30 use the 0.8/1.2/1.5 nm layers of physics.md 5a, "
     "other values are solved for (default 10,20,30)"),
    ("--thicknesses", "thicknesses_nm", _floats,
     "free-layer thicknesses [nm], instead of --barriers"),
    ("--pulses", "pulses_ns", _floats, "write-pulse widths [ns] (default 0.2,0.5,1)"),
    ("--currents", "currents_uA", _floats,
     "write currents [µA] used for every curve (default: a grid per curve from a pilot scan)"),
    ("--n-currents", "n_currents", int, "points per automatic current grid (default 16)"),
    ("--trials", "n_trials", int, "Monte Carlo trials per point (default 1000)"),
    ("--temperature", "temperature_K", float, "temperature [K] (default 300)"),
    ("--dt", "dt_ps", float, "time step [ps] (default 0.1)"),
    ("--relax", "relax_ns", float, "relaxation after the pulse before read-out [ns] (default 1)"),
    ("--dtype", "dtype", str, "float32 (default) or float64"),
    ("--noise", "noise", str,
     "thermal increments: gaussian (default) or three_point (weak order 2, ~3x faster)"),
    ("--initial", "initial", str,
     "start of each trial: P (exactly on the easy axis, default) or thermal (Boltzmann rest "
     "state around P, as for a device that has sat at the temperature)"),
    ("--seed", "seed", int, "PRNG seed (default 0)"),
]


def _sweep_parser(sub):
    p = sub.add_parser(
        "sweep", help="Monte Carlo switching-probability sweep of the SOT-MTJ neuron",
        description="Switching probability P→AP of the SOT-MTJ neuron (physics.md 5a) versus "
        "write current, for each barrier and pulse width. Resumable: rerun the same command "
        "to finish an interrupted run. Writes switching.csv, switching.png and models.json.")
    for flag, field, typ, help_ in SWEEP_OPTIONS:
        p.add_argument(flag, dest=field, type=typ, default=None, help=help_)
    p.add_argument("--config", type=Path, default=None,
                   help="TOML file with any of the options above (keys as in SweepConfig, "
                        "e.g. n_trials = 500, pulses_ns = [0.5, 1.0]); flags override it")
    p.add_argument("--output", "-o", type=Path, default=None,
                   help="output directory (default ./spinjax-sweep)")
    p.add_argument("--chunk-size", type=int, default=None,
                   help="trials per chunk: bounds memory, does not change results "
                        "(default 8192)")
    p.add_argument("--devices", type=int, default=None,
                   help="CPU only: number of XLA host devices to shard trials over "
                        "(default: one per core)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar (default: on when stderr is a terminal)")
    p.add_argument("--distributed", action="store_true",
                   help="multi-host: call jax.distributed.initialize() and run this "
                        "process's share of the chunks (shared output directory)")
    return p


def _load_toml(path: Path) -> dict:
    from .sweeps import SweepConfig

    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise SystemExit(f"spinjax sweep: cannot read config {path}: {err}")
    allowed = {f.name for f in dataclasses.fields(SweepConfig)} | {"output", "chunk_size"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise SystemExit(f"spinjax sweep: unknown key(s) in {path}: {', '.join(unknown)}; "
                         f"allowed: {', '.join(sorted(allowed))}")
    return data


def run_sweep(args) -> int:
    if args.devices is not None and args.devices < 1:
        raise SystemExit(f"spinjax sweep: --devices {args.devices} must be >= 1")
    import jax

    if jax.config.jax_platforms in (None, "", "cpu"):
        # XLA runs a loop on one core per device: one host device per core uses them all.
        try:
            jax.config.update("jax_num_cpu_devices", args.devices or os.cpu_count() or 1)
        except RuntimeError:  # backends already initialised (e.g. called from Python)
            if args.devices is not None:
                print("spinjax sweep: --devices ignored: JAX is already initialised in this "
                      "process", file=sys.stderr)
    if args.distributed:
        jax.distributed.initialize()
    from .sweeps import Sweep, SweepConfig, summary_table

    settings = _load_toml(args.config) if args.config else {}
    for _, field, _, _ in SWEEP_OPTIONS:
        if getattr(args, field) is not None:
            settings[field] = getattr(args, field)
    output = Path(args.output or settings.pop("output", "spinjax-sweep"))
    chunk_size = args.chunk_size or settings.pop("chunk_size", 8192)
    settings.pop("output", None)
    settings.pop("chunk_size", None)
    if settings.get("dtype") == "float64":
        jax.config.update("jax_enable_x64", True)
    try:
        config = SweepConfig(**settings)
        sweep = Sweep(config, output, chunk_size=chunk_size, progress=args.progress)
        start = time.perf_counter()
        result = sweep.run(jax.process_index(), jax.process_count())
    except ValueError as err:
        print(f"spinjax sweep: error: {err}", file=sys.stderr)
        return 2
    if not result:
        return 0
    elapsed = time.perf_counter() - start
    n = sum(r["n_trials"] for r in result["rows"])
    print(summary_table(result["models"]))
    print(f"{n} trials ({result['trials_run']} run now, the rest resumed) on "
          f"{len(jax.devices())} {jax.default_backend()} device(s) in {elapsed:.1f} s; results "
          f"in {output}/ (switching.csv, switching.png, models.json)")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="spinjax", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _sweep_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "sweep":
        return run_sweep(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
