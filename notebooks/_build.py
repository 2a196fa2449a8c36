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


SNN_STDP = [
    ("md", """
# Spiking networks with on-chip STDP on stochastic MTJ neurons

The source papers' central system (physics.md 7): a layer of stochastic SOT-MTJ spiking neurons
fed by a crossbar of 4-bit spintronic synapses learns digits **without labels** by
spike-timing-dependent plasticity, with lateral inhibition and homeostasis (Diehl & Cook 2015).
Everything is in `spinjax.networks` (`SpikingLayer`, `STDP`, `MultiLevelSynapses`,
`BinaryMTJSynapses`, `MTJSpikingNeuron`, ...): a `lax.scan` over time steps, `vmap` over images
and network replicas, device energies per operation.

Set `SPINJAX_SMALL=1` for a fast run (used in CI).
"""),
    ("code", """
import os
import jax, jax.numpy as jnp, numpy as np
import matplotlib.pyplot as plt
from spinjax import networks as nets

SMALL = os.environ.get("SPINJAX_SMALL") == "1"
N_TRAIN = 24 if SMALL else 100          # training images of 0 and 1 (the source network: 100)
N_TEST = 24 if SMALL else 200           # SMALL: same count as training, one compiled batch
split = nets.mnist5000(flatten=True, seed=0)
m, mt = split.y_train <= 1, split.y_test <= 1
x_tr, y_tr = split.x_train[m][:N_TRAIN], split.y_train[m][:N_TRAIN]
x_te, y_te = split.x_test[mt][:N_TEST], split.y_test[mt][:N_TEST]
"""),
    ("md", """
## 1. The plasticity rule and the synapses

Pair-based STDP with traces (Table II: eta = 0.03 / 0.01, tau = 4.5 / 5 steps), multiplicative
(soft bounds). `simulate_pairs` runs the engine's online rule on given spike trains; the curve
it produces is the configured exponential. Synapses are 4-bit (16 conductance levels between
1/3.7 MΩ and 20/3.7 MΩ), changes rounded stochastically to whole levels, or single-bit MTJs
that switch with the probability the curve asks for.
"""),
    ("code", """
stdp = nets.STDP()
dts = np.arange(-15, 16)
measured = []
for dt in dts:
    pre = np.zeros((40, 1), bool); post = np.zeros((40, 1), bool)
    pre[20, 0] = True; post[20 + dt, 0] = True
    measured.append(float(nets.simulate_pairs(stdp, pre, post, jnp.full((1, 1), 0.5))[0, 0]) - 0.5)
fig, ax = plt.subplots(1, 2, figsize=(10, 3))
ax[0].plot(dts, measured, "o", label="engine (simulate_pairs)")
ax[0].plot(dts, stdp.curve(dts, 0.5), "-", label="configured curve")
ax[0].set_xlabel("t_post - t_pre [steps]"); ax[0].set_ylabel("dw"); ax[0].legend()
syn = nets.MultiLevelSynapses()
w = syn.init(jax.random.key(0), (2000,), 1.0)
ax[1].hist(np.asarray(syn.conductance(w)) * 1e6, bins=60)
ax[1].set_xlabel("synapse conductance [µS] (4-bit levels)")
print("one-level programming energy of the 5c DW synapse:", float(nets.dw_level_energy()), "J")
"""),
    ("md", """
## 2. The source network: 9 neurons learn 0 and 1

Table II: input spike probability up to 0.064 per step, 340 steps of 0.5 ns per image,
post-synaptic pulses of 50 steps, inhibition for 50 steps; R_max 3.7 MΩ, ratio 20, neuron heavy
metal 400 Ω (its finite conductance loads the columns). Homeostasis: an adaptive threshold
(an opposing bias current, +0.05 µA per spike), input scaling (an image with < 5 spikes is shown
again with a 1.25x row voltage) and weight normalisation. STDP is programmed online, event by
event. The maximum switching probability of any neuron falls and the weights specialise.
"""),
    ("code", """
layer = nets.SpikingLayer(row_voltage=0.25, homeostasis=nets.Homeostasis(theta_plus=0.05e-6),
                          column_mean=0.1, min_spikes=5)
state = layer.init(jax.random.key(0), 784, 9)
state, hist = nets.train_stdp(layer, state, x_tr, jax.random.key(1), chunk=N_TRAIN)
labels = nets.assign_labels(nets.respond(layer, state, x_tr, jax.random.key(2)).counts, y_tr, 2)
fig, ax = plt.subplots(1, 10, figsize=(16, 2))
for j in range(9):
    ax[j].imshow(np.asarray(state.w[:, j]).reshape(28, 28), cmap="hot", vmin=0, vmax=1)
    ax[j].set_title(f"neuron {j}: '{labels[j]}'"); ax[j].axis("off")
ax[9].plot(hist.max_p, ".-"); ax[9].set_xlabel("image"); ax[9].set_title("max P_sw")
plt.show()
print("homeostatic offsets theta [µA]:", np.round(np.asarray(state.theta) * 1e6, 2))
"""),
    ("md", """
## 3. Test-time spiking

Plasticity off, thresholds fixed. For a shown digit, the neurons labelled with its class fire,
the others stay mostly silent (lateral inhibition); classification is the vote of the labelled
neurons.
"""),
    ("code", """
test = nets.respond(layer, state, x_te, jax.random.key(3))
pred = nets.classify(test.counts, labels, 2)
print(f"test accuracy on {len(y_te)} zeros and ones: {np.mean(pred == y_te):.3f}")
for c in (0, 1):
    print(f"mean spikes per neuron for a '{c}':", test.counts[y_te == c].mean(0).round(1))
present = jax.jit(lambda s, im, k: layer.present(s, im, k, record=True))
fig, ax = plt.subplots(1, 2, figsize=(12, 2.5))
for a, c in zip(ax, (0, 1)):
    i = int(np.flatnonzero(y_te == c)[0])
    _, rec = present(state, jnp.asarray(x_te[i]), jax.random.key(10 + c))
    t, n = np.nonzero(np.asarray(rec.spikes))
    a.plot(t, n, "|", ms=12); a.set_ylim(-0.5, 8.5); a.set_yticks(range(9))
    a.set_yticklabels([f"{j}:'{labels[j]}'" for j in range(9)])
    a.set_xlabel("time step"); a.set_title(f"a '{c}' is shown")
plt.show()
"""),
    ("md", """
## 4. Energy per image

Neuron: write I^2 R_HM t_PW every step, divider read, 150 µA reset after each spike (5a).
Synapses: Joule heat sum G (V_i - V_j)^2 t of the crossbar during the row pulses (finite
neuron conductance). Programming: whole-level moves of the DW synapse (5c) at 1 ns.
"""),
    ("code", """
for name, e in [("neuron (write/read/reset)", hist.energy_neuron), ("synapse read", hist.energy_read),
                ("STDP programming", hist.energy_program)]:
    print(f"training, {name:<28} {np.mean(e):.3e} J per image")
print(f"test, total                          {np.mean(test.energy):.3e} J per image")
print(f"simulated time per image: {float(layer.image_time()) * 1e9:.0f} ns")
"""),
    ("md", """
## 5. Probabilistic single-bit MTJ synapses versus 4-bit ones

The same network with `BinaryMTJSynapses`: a synapse is either 1/3.7 MΩ or 20/3.7 MΩ, and STDP
sets the probability that one programming pulse switches it. The pulse current is the one
whose switching probability is the requested one on the MTJ's sigmoid, so every attempt costs
I(P)^2 R_HM t_PW.
"""),
    ("code", """
results = {"4-bit": (np.mean(pred == y_te), float(np.mean(hist.energy_program)))}   # section 2
print(f"4-bit      accuracy {results['4-bit'][0]:.3f}   programming energy {results['4-bit'][1]:.3e} J per image")
for name, syn in [("1-bit MTJ", nets.BinaryMTJSynapses(p_scale=3.0))]:
    lay = nets.SpikingLayer(synapses=syn, row_voltage=0.25, column_mean=0.1, min_spikes=5,
                            homeostasis=nets.Homeostasis(theta_plus=0.05e-6))
    st, h = nets.train_stdp(lay, lay.init(jax.random.key(0), 784, 9), x_tr, jax.random.key(1),
                            chunk=N_TRAIN, progress=False)
    lab = nets.assign_labels(nets.respond(lay, st, x_tr, jax.random.key(2)).counts, y_tr, 2)
    acc = np.mean(nets.classify(nets.respond(lay, st, x_te, jax.random.key(3)).counts, lab, 2) == y_te)
    results[name] = (acc, float(np.mean(h.energy_program)))
    print(f"{name:<10} accuracy {acc:.3f}   programming energy {results[name][1]:.3e} J per image")
"""),
    ("md", """
## 6. MNIST-5000, 10 classes

The full experiment (100 / 225 / 400 neurons, seeds, stratified 80/20 split) is a script:

    python benchmarks/snn_mnist.py --neurons 100 225 400 --seeds 0 1 2
    python benchmarks/snn_speed.py

Here, at full size only, one short run: 100 neurons, 1000 training images, STDP programmed once
per image (`plasticity="image"`), input normalisation and a resting threshold offset.
"""),
    ("code", """
if not SMALL:
    lay = nets.SpikingLayer(row_voltage=0.25, column_mean=0.1, min_spikes=5, input_total=100.0,
                            homeostasis=nets.Homeostasis(theta_plus=0.1e-6, theta_rest=25e-6),
                            stdp=nets.STDP(eta_plus=0.2, eta_minus=0.067, offset=0.1),
                            plasticity="image")
    st, _ = nets.train_stdp(lay, lay.init(jax.random.key(0), 784, 100), split.x_train[:1000],
                            jax.random.key(1))
    lab = nets.assign_labels(nets.respond(lay, st, split.x_train[:1000], jax.random.key(2)).counts,
                             split.y_train[:1000], 10)
    r = nets.respond(lay, st, split.x_test, jax.random.key(3))
    print("10-class test accuracy:", np.mean(nets.classify(r.counts, lab, 10) == split.y_test))
"""),
]


CROSSBAR_COOPTIMIZATION = [
    ("md", """
# Device–weight co-optimisation of a crossbar network

Weights and device parameters trained together with Optax (`spinjax.networks.cooptimize`):
the SOT-MTJ neuron's free-layer thickness (barrier, switching threshold and steepness through
the calibrated `SOTNeuronFamily`), its write pulse width, the crossbar read voltage dV, and
the IRMEN magnet length, each a sigmoid-reparametrised leaf kept inside its calibrated range.
The loss is cross-entropy + lambda x (energy per inference / reference energy); sweeping
lambda gives the accuracy–energy trade-off for the default devices (1.2 nm, 0.5 ns, 50 mV:
only the weights train) and for co-optimised devices. Then: accuracy versus the number of
stochastic time steps T, and an IRMEN network versus weight bits and magnet length.

Everything is evaluated on the held-out test split. `SPINJAX_SMALL=1` (CI) runs a small,
fast version on scikit-learn's 8x8 digits; the full MNIST-5000 numbers come from
`benchmarks/crossbar_cooptimization.py` and `benchmarks/irmen_cenn.py` (plotted at the end
when their JSON files are present).
"""),
    ("code", """
import json, os, time
from pathlib import Path
import equinox as eqx
import jax, jax.numpy as jnp, numpy as np
import matplotlib.pyplot as plt
from spinjax.circuits import CrossbarArray
from spinjax.networks import (IRMENNeuron, StochasticMTJNeuron, digits, evaluate, mlp, train)
from spinjax.networks.cooptimize import (CoDesign, compare_fronts, cooptimize,
                                         evaluate_codesign, pareto_front)

SMALL = os.environ.get("SPINJAX_SMALL") == "1"
HIDDEN = 16 if SMALL else 32
PRE_EPOCHS = 4 if SMALL else 15
EPOCHS = 2 if SMALL else 8
LAMS = [0.3, 1.0] if SMALL else [0.0, 0.1, 0.3, 1.0, 3.0]
T = 8
split = digits(seed=0)
print(len(split.x_train), "training and", len(split.x_test), "held-out test digits")
t_start = time.perf_counter()
"""),
    ("md", """
## 1. The co-design: a crossbar MLP of stochastic SOT-MTJ neurons with trainable devices

`CoDesign.create` wraps the network built for the default devices; the neurons' input stages
(current-mirror gain, bias) stay as matched to the default devices. The energy per inference
is T times the expected energy of one step, by term.
"""),
    ("code", """
net = mlp((64, HIDDEN, 10), key=jax.random.key(0), neuron=StochasticMTJNeuron.from_family(),
          crossbar=CrossbarArray(bits=4), input_shape=(8, 8), init_scale=3.0)
model0 = CoDesign.create(net, n_steps=T)
print({k: float(v) for k, v in model0.devices.values().items()})
terms = {k: float(jnp.mean(v)) for k, v in model0.energy_terms(split.x_train[:256]).items()}
E_REF = sum(terms.values())
print("energy per inference (untrained, default devices) [fJ]:",
      {k: round(v * 1e15, 2) for k, v in terms.items()})
"""),
    ("md", """
## 2. Accuracy–energy Pareto fronts

Pre-train the weights at lambda = 0 on the default devices, then for each lambda fine-tune
(a) the weights only and (b) weights and devices, with the same seeds and epochs.
Accuracy: the stochastic network over T steps (every neuron sampled each step).
"""),
    ("code", """
pre, _ = cooptimize(model0, split.x_train, split.y_train, key=jax.random.key(1), lam=0.0,
                    energy_reference=E_REF, epochs=PRE_EPOCHS, train_devices=False)
KEY = jax.random.key(7)
points = {"default": [evaluate_codesign(pre, split.x_test, split.y_test, key=KEY)],
          "co-opt": []}
models = {}
for lam in LAMS:
    for kind, td in (("default", False), ("co-opt", True)):
        m, _ = cooptimize(pre, split.x_train, split.y_train, key=jax.random.key(2), lam=lam,
                          energy_reference=E_REF, epochs=EPOCHS, train_devices=td)
        r = evaluate_codesign(m, split.x_test, split.y_test, key=KEY)
        points[kind].append(r | {"lam": lam})
        models[kind, lam] = m
        print(f"{kind:8s} lam={lam:<4g} accuracy {r['accuracy']:.3f}  "
              f"energy {r['energy'] * 1e12:.3f} pJ  ",
              {k: f"{v:.3g}" for k, v in r["devices"].items()})
"""),
    ("code", """
fig, ax = plt.subplots(figsize=(6, 4))
for kind, marker in (("default", "o"), ("co-opt", "s")):
    e = np.array([p["energy"] for p in points[kind]]) * 1e12
    a = np.array([p["accuracy"] for p in points[kind]])
    ax.scatter(e, a, marker=marker, alpha=0.5)
    front = pareto_front(e, a)
    ax.plot(e[front], a[front], marker=marker, label=f"{kind} devices (front)")
ax.set_xscale("log"); ax.set_xlabel("energy per inference [pJ]")
ax.set_ylabel(f"test accuracy (stochastic, T = {T})"); ax.legend(); ax.grid(alpha=0.3)
plt.show()
ea = lambda ps: [(p["energy"], p["accuracy"]) for p in ps]
for c in compare_fronts(ea(points["default"]), ea(points["co-opt"])):
    print(f"default {c['energy'] * 1e12:.3f} pJ / {c['accuracy']:.3f}: co-opt energy ratio at "
          f">= accuracy {c['energy_ratio']}, accuracy gain at <= energy {c['accuracy_gain']}")
"""),
    ("md", """
## 3. Accuracy versus the number of time steps T

With the analog input held on the rows, the neurons' steps are independent (a neuron that
spiked is reset, one that did not relaxes back), so the T-step output is the mean of T
one-step outputs: one compiled batch of 32 single steps gives every T <= 32. Energy grows
linearly with T.
"""),
    ("code", """
lam_show = 1.0
T_MAX = 32

@eqx.filter_jit
def steps_and_relaxed(m, x, keys):
    # T_MAX independent one-step logits, the relaxed logits and the energy of one step
    one = jax.vmap(lambda k: m.sample_logits(x, k))(keys)
    return one, m.logits(x), jnp.mean(m.energy_per_inference(x))

curves = {}
keys = jax.random.split(jax.random.key(11), T_MAX)
for kind in ("default", "co-opt"):
    one, relaxed, e_step = steps_and_relaxed(models[kind, lam_show].with_steps(1),
                                             split.x_test, keys)
    running = jnp.cumsum(one, axis=0) / jnp.arange(1, T_MAX + 1)[:, None, None]
    acc = np.asarray(jnp.mean(jnp.argmax(running, -1) == split.y_test[None, :], axis=-1))
    curves[kind] = (acc, float(jnp.mean(jnp.argmax(relaxed, -1) == split.y_test)),
                    float(e_step))
ts = np.arange(1, T_MAX + 1)
fig, ax = plt.subplots(figsize=(6, 3.5))
for kind, (acc, relaxed, e_step) in curves.items():
    line, = ax.plot(ts, acc, label=f"{kind} devices ({e_step * 1e15:.0f} fJ / step)")
    ax.axhline(relaxed, color=line.get_color(), ls=":", lw=1)
ax.set_xscale("log", base=2); ax.set_xlabel("time steps T"); ax.set_ylabel("test accuracy")
ax.set_title(f"lambda = {lam_show} (dotted: relaxed, T -> inf)"); ax.legend(); plt.show()
"""),
    ("md", """
## 4. IRMEN cells: weight bits and magnet length, with thermal noise

An MLP with IRMEN magnetoelectric cells (physics.md 5d) as saturated-linear activations,
trained once with analog conductances and 35 nm magnets, then evaluated with its weights
quantised to 4/6/8 bits and with 17–60 nm magnets, each neuron read once with its thermal
noise (`IRMENNeuron.sample`). Shorter magnets have lower barriers and noisier reads.
(The 28x28 CNN version on MNIST-5000 is `benchmarks/irmen_cenn.py`, plotted below.)
"""),
    ("code", """
IRMENNeuron().mean(jnp.zeros(1))   # build the cell's moment table outside jit
inet = mlp((64, HIDDEN, 10), key=jax.random.key(3), neuron=IRMENNeuron(length=35e-9),
           crossbar=CrossbarArray(bits=None), input_shape=(8, 8), init_scale=3.0)
inet, _ = train(inet, split.x_train, split.y_train, key=jax.random.key(4),
                epochs=4 if SMALL else 15, learning_rate=1e-2, noise=False, progress=False)

def requantise(net, bits):
    xb = CrossbarArray(bits=bits)
    return eqx.tree_at(lambda n: [l.crossbar for l in n.layers], net, [xb] * len(net.layers))

def set_length(net, length):
    return eqx.tree_at(lambda n: n.layers[0].neuron.length, net, jnp.asarray(length))

LENGTHS = [17e-9, 25e-9, 35e-9, 60e-9]
BITS = [4, 6, 8, None]
table = {}
for bits in BITS:
    qnet = requantise(inet, bits)
    for length in LENGTHS:
        table[bits, length] = evaluate(set_length(qnet, length), split.x_test, split.y_test,
                                       key=jax.random.key(5), stochastic=True)["accuracy"]
print("accuracy (noisy reads)    " + "  ".join(f"{l * 1e9:5.0f} nm" for l in LENGTHS))
for bits in BITS:
    print(f"{'float' if bits is None else f'{bits}-bit':>6s} weights         "
          + "  ".join(f"{table[bits, l]:8.3f}" for l in LENGTHS))
fig, ax = plt.subplots(figsize=(6, 3.5))
for bits in BITS:
    ax.plot(np.array(LENGTHS) * 1e9, [table[bits, l] for l in LENGTHS], "o-",
            label="float" if bits is None else f"{bits} bits")
ax.set_xlabel("magnet length [nm]"); ax.set_ylabel("test accuracy (thermal noise)")
ax.legend(); plt.show()
"""),
    ("md", """
## 5. Full-size results (MNIST-5000), when the benchmark JSON files are present
"""),
    ("code", """
res = Path("..") / "benchmarks" / "results"
path = res / "crossbar_cooptimization_cpu.json"
if path.exists():
    d = json.loads(path.read_text())
    fig, ax = plt.subplots(1, 2, figsize=(11, 3.8))
    for kind, marker in (("default", "o"), ("co-opt", "s")):
        ps = [p for p in d["points"] if p["kind"] == kind or (kind == "default" and
                                                               p["kind"] == "pretrained")]
        e = np.array([p["energy_J"] for p in ps]) * 1e12
        a = np.array([p["accuracy"] for p in ps])
        f = pareto_front(e, a)
        ax[0].scatter(e, a, marker=marker, alpha=0.4)
        ax[0].plot(e[f], a[f], marker=marker, label=f"{kind} devices")
    ax[0].set_xscale("log"); ax[0].set_xlabel("energy per inference [pJ]")
    ax[0].set_ylabel(f"test accuracy ({d['dataset']}, T = 8)"); ax[0].legend()
    ax[0].set_title(d["network"][:40])
else:
    print("run benchmarks/crossbar_cooptimization.py for the MNIST-5000 fronts")
    fig, ax = plt.subplots(1, 2, figsize=(11, 3.8))
path = res / "irmen_cenn_cpu.json"
if path.exists():
    rows = json.loads(path.read_text())["results"]
    for bits in dict.fromkeys(r["bits"] for r in rows):
        rr = [r for r in rows if r["bits"] == bits]
        ax[1].errorbar([r["length_m"] * 1e9 for r in rr], [r["accuracy_noisy"] for r in rr],
                       [r["accuracy_noisy_sd"] for r in rr], marker="o", label=bits)
    ax[1].set_xlabel("magnet length [nm]"); ax[1].set_ylabel("test accuracy (noisy reads)")
    ax[1].set_title("IRMEN CNN, MNIST-5000"); ax[1].legend()
else:
    print("run benchmarks/irmen_cenn.py for the IRMEN CNN study")
plt.tight_layout(); plt.show()
print(f"notebook ran in {time.perf_counter() - t_start:.0f} s")
"""),
]


if __name__ == "__main__":
    import sys
    names = sys.argv[1:] or ["device_tuning.ipynb", "devices.ipynb", "snn_stdp.ipynb",
                             "crossbar_cooptimization.ipynb"]
    for name, cells in (("device_tuning.ipynb", DEVICE_TUNING), ("devices.ipynb", DEVICES),
                        ("snn_stdp.ipynb", SNN_STDP),
                        ("crossbar_cooptimization.ipynb", CROSSBAR_COOPTIMIZATION)):
        if name in names:
            build(name, cells)
