"""Build the example notebooks from their cell sources (keeps them reviewable as text).

    python notebooks/_build.py [NAME.ipynb ...]     (default: all; outputs are dropped)
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


DEVICES = [
    ("md", """
# The spintronic device library

Each device of `spinjax.devices` has its physics model in the loop (thermal sLLG macrospin or
the 1D domain-wall model), a fast surrogate calibrated automatically from that model (with the
calibration data and its error), and an energy per operation. This notebook shows each device's
defining behaviour next to its surrogate.

Set `SPINJAX_SMALL=1` for a fast, small-statistics run (used in CI).
"""),
    ("code", """
import os
import jax, jax.numpy as jnp, numpy as np
jax.config.update("jax_enable_x64", True)
import matplotlib.pyplot as plt
from spinjax import devices
from spinjax.statistics import wilson_interval

SMALL = os.environ.get("SPINJAX_SMALL") == "1"
N = 48 if SMALL else 1000        # Monte Carlo trials per point
ENERGIES = {}                    # energy per operation of every device [J]
"""),
    ("md", """
## 1. SOT-MTJ stochastic spiking neuron (physics.md 5a)

Write (input current through the heavy metal for t_PW) → read (divider with a reference MTJ in
AP + inverter) → reset to P if it fired. The firing probability rises sigmoidally with the
current; the log-logistic surrogate is fitted to the sLLG Monte Carlo.
"""),
    ("code", """
neuron = devices.SOTMTJNeuron(pulse_width=0.5e-9)
currents = np.array([25, 35, 45, 55, 65, 80, 100, 130]) * 1e-6
cal = devices.calibrate_neuron(neuron, jax.random.key(0), currents=currents, n_trials=N)
lo, hi = wilson_interval(cal.k, cal.n)
fine = np.geomspace(20e-6, 150e-6, 100)
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.fill_between(currents * 1e6, lo, hi, alpha=0.3, label="sLLG Monte Carlo (95 % CI)")
ax.plot(currents * 1e6, cal.k / cal.n, "o")
ax.plot(fine * 1e6, cal.surrogate.probability(fine), "-", label="surrogate")
ax.set_xscale("log"); ax.set_xlabel("write current (µA)"); ax.set_ylabel("P(fire)"); ax.legend()
plt.show()
print(f"I50 = {float(cal.surrogate.i50) * 1e6:.1f} µA, log-width {float(cal.surrogate.log_width):.3f}, "
      f"surrogate error: RMS {cal.rms_error:.3f}, max {cal.max_error:.3f}")
"""),
    ("md", """
**Leaky integration.** Three sub-threshold pulses (30 µA, 0.5 ns) fire the neuron when they
come close together; spread apart, the magnetization relaxes between them (relaxation time
~0.8 ns) and they act independently.
"""),
    ("code", """
intervals = (np.array([0.55, 1.0, 5.0]) if SMALL else np.array([0.55, 0.7, 1.0, 1.5, 2.5, 5.0])) * 1e-9
p_train = [neuron.train_firing_probability(30e-6, 3, dt, jax.random.key(10 + i), N)[0]
           for i, dt in enumerate(intervals)]
p_one = neuron.firing_probability(30e-6, jax.random.key(9), N)[0][0]
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(intervals * 1e9, p_train, "o-", label="3 pulses")
ax.axhline(1 - (1 - p_one) ** 3, ls=":", c="k", label="3 independent pulses")
ax.set_xlabel("pulse interval, start to start (ns)"); ax.set_ylabel("P(fire)"); ax.legend()
plt.show()
print(f"relaxation time {float(neuron.macrospin().relaxation_time()) * 1e9:.2f} ns")
"""),
    ("md", """
**Read-out and energy.** One network step of 8 neurons in the loop; the read current of the
divider is far below the spin-transfer threshold, so reads do not disturb the neuron.
"""),
    ("code", """
m0 = neuron.rest_states(jax.random.key(1), 8)
out = neuron.step(m0, jnp.linspace(0, 200e-6, 8), jax.random.key(2))
print("spikes:", np.asarray(out.spike).astype(int), " m_y after reset:", np.round(np.asarray(out.m[:, 1]), 2))
print(f"read current {float(neuron.read_current()) * 1e6:.2f} µA vs STT threshold "
      f"{float(neuron.critical_read_current()) * 1e6:.0f} µA")
i50 = float(cal.surrogate.i50)
ENERGIES["SOT-MTJ neuron: write at I50"] = float(neuron.write_energy(i50))
ENERGIES["SOT-MTJ neuron: read"] = float(neuron.read_energy())
ENERGIES["SOT-MTJ neuron: reset"] = float(neuron.reset_energy())
"""),
    ("md", """
## 2. Volatile MTJ synapse (STP → LTP)

1 ns programming pulses of 20 µA: one pulse rarely switches the junction (short-term
excitation that decays), a train of closely spaced pulses switches it (long-term).
"""),
    ("code", """
synapse = devices.VolatileMTJSynapse()
intervals = np.array([1.05, 1.5, 2.5, 5.0]) * 1e-9
fig, ax = plt.subplots(figsize=(5, 3.5))
for n_pulses in (2, 5):
    p = [synapse.switching_probability(n_pulses, dt, jax.random.key(100 * n_pulses + i), N)[0]
         for i, dt in enumerate(intervals)]
    ax.plot(intervals * 1e9, p, "o-", label=f"{n_pulses} pulses")
ax.set_xlabel("pulse interval (ns)"); ax.set_ylabel("P(LTP: switched)"); ax.legend()
plt.show()
ENERGIES["volatile synapse: one 1 ns pulse"] = float(synapse.programming_energy(1))
"""),
    ("md", """
## 3. Domain-wall magnet step neuron (physics.md 5b)

The net input current moves the wall across the free domain d2 one way or the other:
Y = sign(sum W I + b). At T = 0 the threshold for a 1 ns window is ~2 µA (the 5b design
point) and scales as 1/t for long windows; at 300 K the write is stochastic.
"""),
    ("code", """
step = devices.DWMStepNeuron()
times = np.array([0.5, 1.0, 2.0, 4.0, 8.0]) * 1e-9
print("T = 0 threshold [µA] at", times * 1e9, "ns:", np.round(step.threshold_current(times) * 1e6, 2))
ua = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0]) * 1e-6
scal = devices.calibrate_step_neuron(step, jax.random.key(3), ua, n_trials=N)
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(ua * 1e6, scal.k / scal.n, "o", label="1D wall model, 300 K")
fine = np.linspace(0, 6e-6, 100)
ax.plot(fine * 1e6, scal.surrogate.probability(fine), label="surrogate")
ax.set_xlabel("net input current (µA)"); ax.set_ylabel("P(write d2)"); ax.legend()
plt.show()
res = devices.resolution_monte_carlo([5, 10, 15, 20, 25, 30, 40], jax.random.key(4), variation=0.1,
                                     n_trials=200 if SMALL else 4000)
print("resolution dV_G (median, %):", np.round(100 * np.asarray(res["median"]), 1))
cmp = step.cmos_comparison(n_inputs=25, dv=0.05, min_current=4e-6)
print(f"energy/op {cmp['total'] * 1e15:.2f} fJ vs CMOS {cmp['cmos_energy'] * 1e12:.2f} pJ; "
      f"EDP {cmp['edp']:.2e} J·s (CMOS/DWM = {cmp['edp_ratio']:.0f}x)")
ENERGIES["DWM step neuron: 25 inputs, dV = 50 mV"] = float(cmp["total"])
"""),
    ("md", """
## 4. Domain-wall synapse and integrate-and-fire neuron (physics.md 5c)

Programming pulses move the wall by dx ∝ J t below saturation; the conductance
G_eq = G_P x/L + G_AP (1 − x/L) + G_DW follows. STDP: the programming current decays
exponentially with the spike-time difference, so dG ∝ exp(−|Δt|/τ).
"""),
    ("code", """
syn = devices.DWSynapse()
L = float(syn.length)
dts = np.array([-40, -20, -10, -5, 5, 10, 20, 40]) * 1e-9
q0 = np.full(len(dts), 0.5 * L)
q = syn.program(q0, syn.stdp_current(dts, 3e-6, 20e-9), 1e-9)
dg = np.asarray(syn.conductance(q) - syn.conductance(q0))
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(dts * 1e9, dg * 1e9, "o-")
ax.set_xlabel("t_post − t_pre (ns)"); ax.set_ylabel("ΔG (nS)"); ax.axhline(0, c="k", lw=0.5)
plt.show()
print(f"mobility dx/(j t) = {float(syn.mobility()):.3e} m^3/(A s)")
ENERGIES["DW synapse: 6 µA, 1 ns programming pulse"] = float(syn.programming_energy(6e-6, 1e-9))
ENERGIES["DW synapse: read (0.1 V, 1 ns)"] = float(syn.read_energy(0.5 * L))
"""),
    ("code", """
neu = devices.DWIFNeuron()
a = 70e-6
seqs = np.array([[a] * 4 + [0] * 4, [a, 0, 0, a, 0, 0, a, 0], [a] + [0] * 7, [0.0] * 8])
n_if = 16 if SMALL else 256
out = neu.run(np.repeat(seqs, n_if, axis=0), jax.random.key(5))
p_fire = np.asarray(out.fired).reshape(4, n_if, 8).any(axis=2).mean(axis=1)
for name, p in zip(["4 pulses in a row", "3 pulses spread out", "one pulse", "no input"], p_fire):
    print(f"{name:>20}: P(fire) = {p:.2f}")
e = np.asarray(out.energy).reshape(4, n_if, 8)
ENERGIES["DW IF neuron: step at rest (leak + read)"] = float(e[3, 0, 0])
"""),
    ("md", """
## 5. IRMEN magnetoelectric cell (physics.md 5d)

ME capacitor → field across the magnet → magnetization → inverse Rashba–Edelstein read-out.
The transfer function is the magnet's hard-axis M–H curve (saturated-linear); thermal noise
makes it noisy, more so for short (low-barrier) magnets.
"""),
    ("code", """
cell = devices.IRMENCell()
x = np.linspace(-1.5, 1.5, 13)
data = devices.transfer_monte_carlo(cell, jax.random.key(6), lengths=np.array([17e-9, 60e-9]),
                                    inputs=x, n_trials=32 if SMALL else 1000)
fig, ax = plt.subplots(figsize=(5, 3.5))
for i, length in enumerate(data.lengths):
    ax.errorbar(x, data.mean[i], yerr=data.std[i], fmt="o-", capsize=2,
                label=f"{length * 1e9:.0f} nm (Δ = {data.barrier[i]:.0f})")
ax.plot(x, np.clip(x, -1, 1), "k:", label="ideal")
ax.set_xlabel("input / V_sat"); ax.set_ylabel("normalised output"); ax.legend()
plt.show()
for length, err in zip(data.lengths, data.rms_error()):
    print(f"{length * 1e9:.0f} nm: RMS error of the transfer function {err:.3f}")
ENERGIES["IRMEN cell: write + read + output, 17 nm"] = float(
    cell.evaluation_energy(cell.saturation_voltage()))
"""),
    ("md", """
## Energies per operation
"""),
    ("code", """
for name, e in ENERGIES.items():
    print(f"{name:<45} {e * 1e15:10.4f} fJ")
"""),
]


if __name__ == "__main__":
    import sys
    names = sys.argv[1:] or ["device_tuning.ipynb", "devices.ipynb"]
    for name, cells in (("device_tuning.ipynb", DEVICE_TUNING), ("devices.ipynb", DEVICES)):
        if name in names:
            build(name, cells)
