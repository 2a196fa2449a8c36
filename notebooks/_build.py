"""Build the example notebooks from their cell sources (keeps them reviewable as text).

    python notebooks/_build.py
"""

from pathlib import Path

import nbformat

HERE = Path(__file__).parent


def build(name, cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for kind, text in cells:
        text = text.strip("\n")
        nb.cells.append(nbformat.v4.new_markdown_cell(text) if kind == "md"
                        else nbformat.v4.new_code_cell(text))
    nbformat.write(nb, HERE / name)


DEVICE_TUNING = [
    ("md", """
# Differentiable device tuning of the SOT-MTJ neuron

Gradients through stochastic LLG trajectories, a differentiable behavioural model of the
switching curve, and Optax loops that calibrate and design the neuron of physics.md 5a. Every
tuned result is checked against a **fresh Monte Carlo** run with new random keys.

Set `SPINJAX_SMALL=1` for a fast, small-statistics run (used in CI).
"""),
    ("code", """
import os
import equinox as eqx
import jax, jax.numpy as jnp, numpy as np
jax.config.update("jax_enable_x64", True)   # gradients in float64; Monte Carlo checks in float32
import matplotlib.pyplot as plt
import spinjax as sj
from spinjax import tuning
from spinjax.statistics import wilson_interval
from spinjax.sweeps import PULSE_START, SweepConfig, run_trials
from spinjax.waveforms import DEFAULT_RISE_TIME

SMALL = os.environ.get("SPINJAX_SMALL") == "1"
N_MC = 400 if SMALL else 4000          # trials per Monte Carlo point
N_GRAD = 96 if SMALL else 1024         # fixed-noise trials inside gradient objectives
PULSE = 0.5e-9
RELAX = 0.5e-9                         # settling time before read-out
MC = SweepConfig(relax_ns=RELAX * 1e9, noise="three_point")   # fresh Monte Carlo checks
T_READ = PULSE_START + PULSE + DEFAULT_RISE_TIME + RELAX       # same read-out time
"""),
    ("md", """
## 1. Pathwise gradients

With the key fixed, the state of every trial is a smooth function of all device parameters.
Here: the mean easy-axis component at the end of the write pulse over fixed-noise thermal
trials, its gradient with respect to the write current, the free-layer thickness and the pulse
width, and a central-difference check of each.
"""),
    ("code", """
def neuron(thickness=1.2e-9, current=80e-6, width=PULSE):
    return sj.sot_mtj_neuron(thickness=thickness, current=sj.Pulse(current, width, start=PULSE_START))

def mean_my_at_pulse_end(system):
    m = tuning.final_states(system, n_trials=N_GRAD, key=jax.random.key(0),
                            t_read=PULSE_START + PULSE, noise="three_point")
    return tuning.mean_easy_axis(m)

system = neuron(width=PULSE + 0.05e-12)  # off the 0.1 ps grid of the edge's kinks
for name, where, h in (("current [per µA]", lambda s: s.torques[0].current.amplitude, 1e-6 * 1e-3),
                       ("thickness [per nm]", lambda s: s.magnet.geometry.thickness, 1e-9 * 1e-5),
                       ("pulse width [per ns]", lambda s: s.torques[0].current.width, 1e-9 * 1e-5)):
    value, grad = tuning.grad_wrt(mean_my_at_pulse_end, system, where)
    x = where(system)
    fd = (mean_my_at_pulse_end(eqx.tree_at(where, system, x + h))
          - mean_my_at_pulse_end(eqx.tree_at(where, system, x - h))) / (2 * h)
    unit = 1e-6 if "µA" in name else 1e-9
    print(f"d<m_y>/d{name}: grad {grad * unit:+.5f}   central difference {fd * unit:+.5f}")
"""),
    ("md", """
Pathwise gradients of the *switching probability* itself need care: a trial's derivative
after it has settled into a well is noise of either sign, so `soft_switching_probability`
(a sigmoid of the final state, bias → 0 as its temperature → 0) is smooth but its pathwise
gradient is only informative before the trials settle. The calibration below therefore uses
Monte Carlo values with a model slope (straight-through).
"""),
    ("md", """
## 2. Calibrate: the current of P_sw = 0.5

SGD on ln I (Robbins–Monro): the value is the fixed-noise Monte Carlo fraction after settling,
the gradient that of a logistic model (straight-through); see `tuning.calibrate_current` for why
the pathwise derivative is not used here. Then a fresh Monte Carlo run at the calibrated current.
"""),
    ("code", """
cal = tuning.calibrate_current(lambda i: neuron(current=i), t_read=T_READ, current0=60e-6,
                               n_trials=N_GRAD, steps=30 if SMALL else 60, noise="three_point")
fresh = run_trials(MC, 1.2e-9, PULSE, np.full(N_MC, cal.value), 10**9 + np.arange(N_MC),
                   jax.random.key(99))
lo, hi = wilson_interval(fresh.sum(), N_MC)
print(f"calibrated I50 = {cal.value * 1e6:.2f} µA; fresh Monte Carlo P_sw = "
      f"{fresh.mean():.3f} (95 % CI {lo:.3f}..{hi:.3f})")
plt.plot([h["value"] * 1e6 for h in cal.history], "o-")
plt.xlabel("Adam step"); plt.ylabel("current (µA)"); plt.title("calibration"); plt.show()
"""),
    ("md", """
## 3. A differentiable behavioural model from Monte Carlo

Switching curves for three thicknesses and three pulse widths (log-logistic fits), then the
physics-feature model `I50 = I_c0 (a0 + a1 x)`, `log_width = b0 + b1/sqrt(Delta) + b2 ln x`.
"""),
    ("code", """
from spinjax.statistics import fit_logistic

config = MC
n_pt = 64 if SMALL else 600
curves = []
offset = 0
for thickness in (0.8e-9, 1.2e-9, 1.5e-9):
    for pulse in (0.3e-9, 0.6e-9, 1.0e-9):
        sysm = neuron(thickness=thickness, width=pulse)
        i_c0, x, delta = (float(v) for v in tuning.switching_features(sysm, pulse))
        guess = i_c0 * (-0.45 + 1.73 * x)          # rough I50, to centre the grid
        grid = np.geomspace(0.4 * guess, 2.5 * guess, 8)
        currents = np.repeat(grid, n_pt)
        k = run_trials(config, thickness, pulse, currents, offset + np.arange(len(currents)),
                       jax.random.key(1)).reshape(len(grid), n_pt).sum(1)
        offset += len(currents)
        fit = fit_logistic(np.log(grid * 1e6), k, np.full(len(grid), n_pt))
        curves.append(dict(thickness_nm=thickness * 1e9, pulse_ns=pulse * 1e9, delta=delta,
                           i50_uA=float(np.exp(fit["x50"])), log_width=fit["width"]))
model = tuning.fit_switching_model(curves)
for c in curves:
    s = neuron(thickness=c["thickness_nm"] * 1e-9)
    pred = float(model.i50(s, c["pulse_ns"] * 1e-9)) * 1e6
    print(f"t={c['thickness_nm']:.1f} nm  pulse={c['pulse_ns']:.1f} ns  I50 MC {c['i50_uA']:6.1f} µA"
          f"  model {pred:6.1f} µA")
"""),
    ("md", """
## 4. Design: I50 at 60 µA, a steep curve, Delta ≥ 20, least write energy

Thickness and pulse width are free; constraints are explicit (bounded maps, retention floor as
a thickness bound).
"""),
    ("code", """
design = tuning.design_neuron(model, target_i50=60e-6, max_log_width=0.16, delta_floor=20.0,
                              thickness_bounds=(0.8e-9, 1.6e-9), pulse_bounds=(0.2e-9, 1.5e-9),
                              energy_weight=0.5, steps=300)
print(f"designed: thickness {design.thickness * 1e9:.3f} nm, pulse {design.pulse_width * 1e9:.3f} ns, "
      f"Delta {design.delta:.1f}, model I50 {design.i50 * 1e6:.1f} µA, "
      f"write energy {design.write_energy * 1e15:.2f} fJ")
plt.semilogy([h["loss"] for h in design.history]); plt.xlabel("Adam step"); plt.ylabel("loss")
plt.title("design loss"); plt.show()
"""),
    ("md", """
The behavioural model is accurate to a few per cent. A last Monte Carlo step removes that
error: at the designed thickness, calibrate the pulse width so that 60 µA switches with P = 0.5.
"""),
    ("code", """
refined = tuning.calibrate(
    lambda w: sj.sot_mtj_neuron(thickness=design.thickness,
                                current=sj.Pulse(60e-6, w, start=PULSE_START)),
    t_read=PULSE_START + 2e-9 + DEFAULT_RISE_TIME + RELAX, x0=design.pulse_width,
    n_trials=N_GRAD, steps=30 if SMALL else 60, noise="three_point", log_width=0.2)
print(f"pulse width: model design {design.pulse_width * 1e9:.3f} ns -> Monte Carlo refined "
      f"{refined.value * 1e9:.3f} ns")
design.pulse_width = refined.value
"""),
    ("md", """
## 5. Check with fresh Monte Carlo: before and after

The default device (1.2 nm, 0.5 ns) and the designed one, each simulated with new keys.
"""),
    ("code", """
grid = np.linspace(20e-6, 140e-6, 9)
fig, ax = plt.subplots()
results = {}
for label, thickness, pulse, key in (("default 1.2 nm, 0.5 ns", 1.2e-9, 0.5e-9, 7),
                                     ("designed", design.thickness, design.pulse_width, 8)):
    currents = np.repeat(grid, N_MC // 4)
    k = run_trials(config, thickness, pulse, currents, np.arange(len(currents)),
                   jax.random.key(key)).reshape(len(grid), -1).sum(1)
    n = np.full(len(grid), N_MC // 4)
    lo, hi = wilson_interval(k, n)
    ax.fill_between(grid * 1e6, lo, hi, alpha=0.3)
    ax.plot(grid * 1e6, k / n, "o-", label=label)
    results[label] = (k, n)
ax.axvline(60, color="k", ls=":", lw=1); ax.axhline(0.5, color="k", ls=":", lw=1)
ax.set_xlabel("write current (µA)"); ax.set_ylabel("P_sw (fresh Monte Carlo)"); ax.legend()
plt.show()
at60 = run_trials(config, design.thickness, design.pulse_width, np.full(N_MC, 60e-6),
                  5 * 10**9 + np.arange(N_MC), jax.random.key(11))
lo, hi = wilson_interval(at60.sum(), N_MC)
print(f"designed device at 60 µA: P_sw = {at60.mean():.3f} (95 % CI {lo:.3f}..{hi:.3f})")
# Write energy per pulse at each device's own I50 (the 50 % point of its fresh-MC curve).
for label, (k, n) in results.items():
    thickness, pulse = (1.2e-9, 0.5e-9) if label.startswith("default") else (design.thickness, design.pulse_width)
    i50 = np.interp(0.5, k / n, grid)
    e = float(tuning.write_energy(neuron(thickness), i50, pulse)) * 1e15
    print(f"{label}: I50 ≈ {i50 * 1e6:.1f} µA, write energy at I50 = {e:.2f} fJ")
"""),
]


if __name__ == "__main__":
    build("device_tuning.ipynb", DEVICE_TUNING)
