"""Resumable, sharded Monte Carlo sweeps of switching probability.

A sweep covers every (barrier, pulse width, current) point of a grid with `n_trials`
stochastic LLG trials of the SOT-MTJ neuron (physics.md 5a): the magnet starts in P (m = +y),
a write pulse of the given width and amplitude flows through the heavy metal, the magnet
relaxes for `relax_ns`, and a trial counts as switched if it ends in AP (m_y < 0).

Work is split into chunks of at most `chunk_size` trials. Each chunk is written to
`<output>/chunks/` the moment it finishes (atomically), so a killed run loses at most the chunk
in flight and the same command resumes where it stopped. Trial i of the whole sweep draws its
thermal noise from `fold_in(key(seed), i)` alone, which makes results bit-identical whatever the
chunk size, order or number of devices (the trial axis is sharded over all local JAX devices).

Outputs: `switching.csv` (tidy table), `switching.png` (curves with Wilson 95 % bands and fits),
`models.json` (log-logistic surrogate per barrier and pulse; `spinjax.surrogates.load_models`).
"""

import csv
import dataclasses
import json
import math
import os
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from . import presets
from .solve import simulate, vary
from .statistics import fit_logistic, wilson_interval
from .waveforms import DEFAULT_RISE_TIME, Pulse

FORMAT_VERSION = 1
PULSE_START = 10e-12  # s: half-maximum of the rising edge (the edge starts at 5 ps)


@dataclasses.dataclass(frozen=True)
class SweepConfig:
    """Everything that defines a sweep's results (units in the field names).

    `barriers_kT` are nominal barrier labels whose thicknesses come from physics.md 5a
    (10/20/30 -> 0.8/1.2/1.5 nm) or, for other values, from solving Delta(t) = barrier at
    `temperature_K`; `thicknesses_nm`, when given, replaces them. `currents_uA` = None picks a
    grid per (barrier, pulse) from a short pilot scan so that each curve spans P ≈ 0 to 1.
    """

    barriers_kT: tuple[float, ...] = (10.0, 20.0, 30.0)
    thicknesses_nm: tuple[float, ...] | None = None
    pulses_ns: tuple[float, ...] = (0.2, 0.5, 1.0)
    currents_uA: tuple[float, ...] | None = None
    n_currents: int = 16
    n_trials: int = 1000
    temperature_K: float = 300.0
    dt_ps: float = 0.1
    relax_ns: float = 1.0
    dtype: str = "float32"
    noise: str = "gaussian"
    initial: str = "P"
    seed: int = 0

    def __post_init__(self):
        def positive(name, values):
            if values is not None and (len(values) == 0 or any(
                    not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0)
                    for v in values)):
                raise ValueError(f"{name} = {values} must be a non-empty list of positive, "
                                 "finite numbers")
        for name in ("barriers_kT", "thicknesses_nm", "pulses_ns", "currents_uA"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, tuple(float(v) for v in value))
            positive(name, getattr(self, name))
        for name, low in (("n_trials", 1), ("n_currents", 3)):
            if int(getattr(self, name)) < low:
                raise ValueError(f"{name} = {getattr(self, name)} must be >= {low}")
        for name in ("temperature_K", "dt_ps", "relax_ns"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"{name} = {v} is outside the allowed range (0, inf)")
        if self.dt_ps > 1.0:
            raise ValueError(f"dt_ps = {self.dt_ps} is outside the allowed range (0, 1] ps")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype = {self.dtype!r} must be 'float32' or 'float64'")
        if self.noise not in ("gaussian", "three_point"):
            raise ValueError(f"noise = {self.noise!r} must be 'gaussian' or 'three_point'")
        if self.initial not in ("P", "thermal"):
            raise ValueError(f"initial = {self.initial!r} must be 'P' or 'thermal'")

    def thicknesses(self) -> list[float]:
        """Free-layer thickness of each barrier [m]."""
        if self.thicknesses_nm is not None:
            return [t * 1e-9 for t in self.thicknesses_nm]
        return [thickness_for_barrier(b, self.temperature_K) for b in self.barriers_kT]

    def barrier_labels(self) -> list[float]:
        if self.thicknesses_nm is None:
            return list(self.barriers_kT)
        return [round(float(presets.sot_mtj_neuron(thickness=t, temperature=self.temperature_K)
                            .thermal_stability()), 2) for t in self.thicknesses()]


def thickness_for_barrier(barrier_kT: float, temperature_K: float = 300.0) -> float:
    """Free-layer thickness [m] of the 5a neuron with thermal stability `barrier_kT`.

    The three values of physics.md 5a are taken from its table; others are solved for by
    bisection on Delta(thickness) at `temperature_K`.
    """
    table = presets.NEURON_THICKNESS_BY_BARRIER
    if temperature_K == 300.0 and barrier_kT in table:
        return table[barrier_kT]
    lo, hi = 0.1e-9, 10e-9

    def delta(t):
        return float(presets.sot_mtj_neuron(thickness=t, temperature=temperature_K)
                     .thermal_stability())

    if not delta(lo) < barrier_kT < delta(hi):
        raise ValueError(f"barrier = {barrier_kT} kT is outside the range reachable by "
                         f"thickness 0.1..10 nm ({delta(lo):.3g}..{delta(hi):.3g} kT)")
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if delta(mid) < barrier_kT else (lo, mid)
    return 0.5 * (lo + hi)


# --- running trials ---------------------------------------------------------------------------

def _neuron(thickness, pulse_s, temperature):
    return presets.sot_mtj_neuron(
        thickness=thickness, temperature=temperature,
        current=Pulse(0.0, width=pulse_s, start=PULSE_START))


def initial_states(config: SweepConfig, system, trial_index, key):
    """Start of each trial: exactly the P state (`initial = "P"`, shape (3,)), or a Boltzmann
    rest state around P drawn from (`key`, trial index) (`initial = "thermal"`, (N, 3)).

    A layer that has sat at temperature T is tilted by ~(2 Delta)^(-1/2) rad; from exactly P
    the spin-orbit torque (proportional to the tilt) first waits for thermal kicks, which
    shifts short-pulse switching curves to higher currents (tests/test_sweep_physics.py).
    """
    if config.initial == "P":
        return jnp.array(presets.P_STATE)
    init_key = jax.random.fold_in(key, 0x1B17)  # a stream apart from the thermal noise

    def draw(i):
        return system.equilibrium_states(jax.random.fold_in(init_key, i), 1,
                                         direction=presets.P_STATE)[0]

    return jax.vmap(draw)(jnp.asarray(trial_index))


def run_trials(config: SweepConfig, thickness: float, pulse_s: float, currents_A, trial_index,
               key) -> np.ndarray:
    """Final m_y < 0 (switched) for trials with the given currents [A] and global indices."""
    system = _neuron(thickness, pulse_s, config.temperature_K)
    batched, axes = vary(system, lambda s: s.torques[0].current.amplitude,
                         jnp.asarray(currents_A, config.dtype))
    t1 = PULSE_START + pulse_s + DEFAULT_RISE_TIME + config.relax_ns * 1e-9
    traj = simulate(batched, initial_states(config, system, trial_index, key), t1=t1,
                    dt=config.dt_ps * 1e-12,
                    key=key, trial_index=jnp.asarray(trial_index), system_axes=axes,
                    dtype=config.dtype, noise=config.noise)
    return np.asarray(traj.m[:, 1] < 0.0)


def _padded(values, size):
    values = np.asarray(values)
    if len(values) == size:
        return values
    return np.concatenate([values, np.repeat(values[-1:], size - len(values))])


PILOT_CURRENTS_UA = tuple(float(v) for v in np.geomspace(2.0, 2000.0, 31))
PILOT_TRIALS = 64


def pilot_grid(config: SweepConfig, thickness: float, pulse_s: float, key, chunk: int,
               index_offset: int) -> list[float]:
    """Current grid [µA] spanning P_sw ≈ 0 to ≈ 1, from a coarse scan of 64 trials per current.

    The grid runs linearly from the highest pilot current with no switch below the first
    switching one, to the lowest current above which every trial switched.
    """
    currents = np.repeat(np.asarray(PILOT_CURRENTS_UA) * 1e-6, PILOT_TRIALS)
    index = index_offset + np.arange(len(currents))
    switched = np.concatenate([
        run_trials(config, thickness, pulse_s, _padded(currents[s:s + chunk], chunk),
                   _padded(index[s:s + chunk], chunk), key)[:len(currents[s:s + chunk])]
        for s in range(0, len(currents), chunk)])
    p = switched.reshape(len(PILOT_CURRENTS_UA), PILOT_TRIALS).mean(axis=1)
    grid = np.asarray(PILOT_CURRENTS_UA)
    if not p[-1] >= 0.9:
        raise RuntimeError(f"even {grid[-1]:.0f} µA switches only {p[-1]:.0%} of trials for "
                           f"thickness {thickness * 1e9:.2g} nm, pulse {pulse_s * 1e9:.2g} ns")
    first_on = int(np.argmax(p > 0))
    lo = grid[max(first_on - 1, 0)]
    all_on = np.nonzero(p < 1.0)[0]
    hi = grid[min(all_on[-1] + 1, len(grid) - 1)] if len(all_on) else grid[first_on]
    return [float(round(v, 3)) for v in np.linspace(lo, hi, config.n_currents)]


# --- the sweep --------------------------------------------------------------------------------

@dataclasses.dataclass
class Combo:
    barrier_kT: float
    thickness: float
    pulse_s: float
    currents_uA: list[float]
    offset: int  # global index of this combo's first trial

    @property
    def name(self):
        return f"b{self.barrier_kT:g}_p{self.pulse_s * 1e9:g}"


class Sweep:
    """A sweep bound to an output directory: plan, run (resumably), and summarise.

    **Arguments:**

    - `config`: the `SweepConfig`.
    - `output`: directory for `run.json`, `chunks/` and the results.
    - `chunk_size`: trials per chunk (memory bound; rounded up to a multiple of the number of
      local devices). Does not change results.
    - `progress`: show a progress bar (default: only on a terminal).
    """

    def __init__(self, config: SweepConfig, output, chunk_size: int = 8192,
                 progress: bool | None = None):
        if chunk_size < 1:
            raise ValueError(f"chunk_size = {chunk_size} must be >= 1")
        self.config = config
        self.output = Path(output)
        n_dev = len(jax.local_devices())
        self.chunk_size = int(math.ceil(chunk_size / n_dev) * n_dev)
        self.progress = sys.stderr.isatty() if progress is None else progress
        self.key = jax.random.key(config.seed)
        self._prepare_output()

    # directory and manifest
    def _prepare_output(self):
        try:
            (self.output / "chunks").mkdir(parents=True, exist_ok=True)
            probe = self.output / ".write-test"
            probe.write_text("ok")
            probe.unlink()
        except OSError as err:
            raise ValueError(f"output directory {self.output} is not writable: {err}") from err

    @property
    def manifest_path(self):
        return self.output / "run.json"

    def _config_dict(self):
        return json.loads(json.dumps(dataclasses.asdict(self.config)))  # as stored in JSON

    def plan(self) -> list[Combo]:
        """Resolve the grid (running pilot scans if needed) and write or check `run.json`."""
        cfg = self._config_dict()
        if self.manifest_path.exists():
            saved = json.loads(self.manifest_path.read_text())
            if saved.get("config") != cfg:
                diff = {k: (saved.get("config", {}).get(k), v) for k, v in cfg.items()
                        if saved.get("config", {}).get(k) != v}
                detail = "; ".join(f"{k}: existing {a!r}, requested {b!r}"
                                   for k, (a, b) in diff.items())
                raise ValueError(
                    f"{self.output} holds a partial run with a different configuration "
                    f"({detail}). Use another output directory, or delete it to start over; "
                    "nothing was changed.")
            if saved["chunk_size"] != self.chunk_size:
                print(f"resuming with the run's chunk size {saved['chunk_size']} "
                      f"(not {self.chunk_size})", file=sys.stderr)
                self.chunk_size = saved["chunk_size"]
            return [Combo(**c) for c in saved["combos"]]
        combos = []
        offset = 0
        thicknesses = self.config.thicknesses()
        labels = self.config.barrier_labels()
        pilot_offset = 1 << 40  # pilot trials use indices far from the sweep's own
        for label, thickness in zip(labels, thicknesses):
            for pulse_ns in self.config.pulses_ns:
                if self.config.currents_uA is not None:
                    grid = list(self.config.currents_uA)
                else:
                    if self.progress:
                        print(f"pilot scan: barrier {label:g} kT, pulse {pulse_ns:g} ns",
                              file=sys.stderr)
                    grid = pilot_grid(self.config, thickness, pulse_ns * 1e-9, self.key,
                                      self.chunk_size, pilot_offset)
                    pilot_offset += len(PILOT_CURRENTS_UA) * PILOT_TRIALS
                combo = Combo(label, thickness, pulse_ns * 1e-9, grid, offset)
                offset += len(grid) * self.config.n_trials
                combos.append(combo)
        manifest = {"format": FORMAT_VERSION, "config": cfg, "chunk_size": self.chunk_size,
                    "combos": [dataclasses.asdict(c) for c in combos]}
        _atomic_write(self.manifest_path, json.dumps(manifest, indent=1))
        return combos

    def _chunks(self, combos):
        n = self.config.n_trials
        for combo in combos:
            total = len(combo.currents_uA) * n
            for start in range(0, total, self.chunk_size):
                yield combo, start, min(start + self.chunk_size, total)

    def _chunk_path(self, combo, start, stop):
        return self.output / "chunks" / f"{combo.name}_{start:09d}-{stop:09d}.json"

    def run(self, process_index: int = 0, process_count: int = 1) -> dict:
        """Run every unfinished chunk (this process's share of them) and write the results."""
        combos = self.plan()
        todo = [(c, a, b) for i, (c, a, b) in enumerate(self._chunks(combos))
                if i % process_count == process_index
                and not self._chunk_path(c, a, b).exists()]
        total_trials = sum(len(c.currents_uA) for c in combos) * self.config.n_trials
        bar = _progress_bar(total_trials, self.progress)
        if process_count == 1:
            bar.update(total_trials - sum(b - a for _, a, b in todo))
        n = self.config.n_trials
        for combo, start, stop in todo:
            local = np.arange(start, stop)
            currents = np.asarray(combo.currents_uA)[local // n] * 1e-6
            switched = run_trials(self.config, combo.thickness, combo.pulse_s,
                                  _padded(currents, self.chunk_size),
                                  _padded(combo.offset + local, self.chunk_size),
                                  self.key)[:stop - start]
            counts = np.bincount(local // n, weights=switched, minlength=len(combo.currents_uA))
            trials = np.bincount(local // n, minlength=len(combo.currents_uA))
            _atomic_write(self._chunk_path(combo, start, stop), json.dumps(
                {"combo": combo.name, "start": start, "stop": stop,
                 "n_switched": counts.astype(int).tolist(), "n_trials": trials.tolist()}))
            bar.update(stop - start)
        bar.close()
        if process_index != 0:
            return {}
        summary = self.summarise(combos)
        summary["trials_run"] = sum(b - a for _, a, b in todo)
        return summary

    def counts(self, combos):
        """Per combo: arrays (n_switched, n_trials) per current, from the finished chunks."""
        out = {}
        for combo in combos:
            k = np.zeros(len(combo.currents_uA), int)
            n = np.zeros(len(combo.currents_uA), int)
            for _, start, stop in self._chunks([combo]):
                path = self._chunk_path(combo, start, stop)
                if path.exists():
                    data = json.loads(path.read_text())
                    k += np.asarray(data["n_switched"])
                    n += np.asarray(data["n_trials"])
            out[combo.name] = (k, n)
        return out

    def summarise(self, combos) -> dict:
        """Write switching.csv, models.json and switching.png; return the fitted models."""
        counts = self.counts(combos)
        rows, models = [], []
        for combo in combos:
            k, n = counts[combo.name]
            if np.any(n < self.config.n_trials):
                raise RuntimeError(f"sweep incomplete for {combo.name}: rerun to finish it")
            lo, hi = wilson_interval(k, n)
            system = _neuron(combo.thickness, combo.pulse_s, self.config.temperature_K)
            delta = float(system.thermal_stability())
            r_hm = float(system.torques[0].hm_resistance(system.magnet))
            for i, current in enumerate(combo.currents_uA):
                pulse = Pulse(current * 1e-6, width=combo.pulse_s, start=PULSE_START)
                rows.append({
                    "barrier_kT": combo.barrier_kT, "thickness_nm": round(combo.thickness * 1e9, 4),
                    "delta": round(delta, 3), "pulse_ns": round(combo.pulse_s * 1e9, 6),
                    "current_uA": current, "n_trials": int(n[i]), "n_switched": int(k[i]),
                    "p_switch": k[i] / n[i], "ci_low": float(lo[i]), "ci_high": float(hi[i]),
                    "write_energy_fJ": float(pulse.integral_of_square()) * r_hm * 1e15,
                })
            try:
                fit = fit_logistic(np.log(np.asarray(combo.currents_uA)), k, n)
            except ValueError as err:
                fit = None
                print(f"warning: no fit for {combo.name}: {err}", file=sys.stderr)
            if fit is not None:
                i50 = math.exp(fit["x50"])
                models.append({
                    "barrier_kT": combo.barrier_kT, "thickness_nm": combo.thickness * 1e9,
                    "delta": delta, "pulse_ns": round(combo.pulse_s * 1e9, 6),
                    "i50_uA": i50, "i50_err_uA": i50 * fit["x50_err"],
                    "log_width": fit["width"], "log_width_err": fit["width_err"],
                    "width_uA": i50 * fit["width"],
                    "deviance": fit["deviance"], "dof": fit["dof"],
                    "write_energy_at_i50_fJ": float(Pulse(i50 * 1e-6, combo.pulse_s)
                                                    .integral_of_square()) * r_hm * 1e15,
                })
        with open(self.output / "switching.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        _atomic_write(self.output / "models.json", json.dumps(
            {"model": "P = 1 / (1 + exp(-(ln I - ln i50) / log_width)); width_uA = i50 log_width",
             "models": models}, indent=1))
        plot_sweep(rows, models, self.output / "switching.png")
        return {"rows": rows, "models": models}


def _atomic_write(path: Path, text: str):
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class _NoBar:
    def update(self, n=1):
        pass

    def close(self):
        pass


def _progress_bar(total, enabled):
    if not enabled:
        return _NoBar()
    from tqdm import tqdm
    return tqdm(total=total, unit="trial", unit_scale=True, desc="sweep", smoothing=0.1)


def plot_sweep(rows, models, path):
    """P_sw versus current, one panel per pulse width, one curve per barrier, Wilson bands."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pulses = sorted({r["pulse_ns"] for r in rows})
    barriers = sorted({r["barrier_kT"] for r in rows})
    fig, axes = plt.subplots(1, len(pulses), figsize=(4.2 * len(pulses), 3.6), squeeze=False,
                             sharey=True)
    colours = plt.cm.viridis(np.linspace(0.1, 0.85, len(barriers)))
    for ax, pulse in zip(axes[0], pulses):
        for colour, barrier in zip(colours, barriers):
            sel = [r for r in rows if r["pulse_ns"] == pulse and r["barrier_kT"] == barrier]
            if not sel:
                continue
            x = np.array([r["current_uA"] for r in sel])
            ax.fill_between(x, [r["ci_low"] for r in sel], [r["ci_high"] for r in sel],
                            color=colour, alpha=0.25, lw=0)
            ax.plot(x, [r["p_switch"] for r in sel], "o", ms=3, color=colour,
                    label=f"{barrier:g} kT")
            for m in models:
                if m["pulse_ns"] == pulse and m["barrier_kT"] == barrier:
                    xx = np.linspace(x.min(), x.max(), 200)
                    ax.plot(xx, 1 / (1 + (m["i50_uA"] / xx) ** (1 / m["log_width"])), "-",
                            color=colour, lw=1)
        ax.set_title(f"write pulse {pulse:g} ns")
        ax.set_xlabel("write current (µA)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("switching probability P→AP")
    axes[0][-1].legend(title="barrier", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def summary_table(models) -> str:
    """I50 [µA] ± standard error per barrier (rows) and pulse width (columns), as text."""
    pulses = sorted({m["pulse_ns"] for m in models})
    barriers = sorted({m["barrier_kT"] for m in models})
    lines = ["I50 (µA) by barrier and write pulse", "barrier  " + "".join(
        f"{p:>16g} ns" for p in pulses)]
    for b in barriers:
        cells = []
        for p in pulses:
            m = next((m for m in models if m["barrier_kT"] == b and m["pulse_ns"] == p), None)
            cells.append(f"{m['i50_uA']:>10.2f} ± {m['i50_err_uA']:<5.2f}" if m else f"{'-':>19}")
        lines.append(f"{b:>5g} kT " + "".join(cells))
    return "\n".join(lines)
