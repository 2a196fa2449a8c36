"""Domain-wall-magnet (DWM) step neuron of physics.md 5b: Y = sign(sum_i W_i I_i + b).

Device: a free domain d2 (length L = 60 nm along the current, width 20 nm, thickness 2 nm)
between fixed domains d1 (up, x < 0) and d3 (down, x > L), on a spin-Hall heavy metal. d2 holds
one up/down Néel wall at q in [0, L]: q = 0 means d2 is down (written like d3), q = L up (like
d1). The net input current I flows d1 -> d3 through the write path for the evaluation window
`write_time`; its spin-orbit torque drives the wall along the current for I > 0 (d2 written up,
Y = +1) and against it for I < 0 (Y = -1). An MTJ on d2 (pinned layer down) is read at the end
of the window, the input current still on, through a divider with a reference MTJ in AP and a
CMOS inverter.

Physics model: the (q, phi) wall of `spinjax.domainwall`, current density j = I / (w t) in d2
(5b's convention: 2 µA ↔ 5 MA/cm^2), spin-Hall angle theta_SH acting with that j (the HM under
d2 carrying the same current density), thermal at 300 K (`solve_wall_thermal`) for the switching
statistics, deterministic (`solve_wall`) for the threshold.

Material (defaults, all leaves): 5b names none; we take a Co/Ni-type PMA multilayer on beta-W,
round values in the usual ranges: Ms = 0.6 MA/m, A = 10 pJ/m, K_eff = 0.2 MJ/m^3
(Delta = 7.1 nm), D = -0.5 mJ/m^2 (an HM/Co interface's ~1 mJ/m^2 diluted by the 2 nm
thickness; left-handed, so walls move along j), |theta_SH| = 0.3 (beta-W, as 5a), and damping
alpha = 0.1, chosen inside the 0.05–0.2 range of such films so that the 1 ns full-crossing
threshold lands on 5b's design point (~2 µA). Write path 60 Ohm: rho_eff L / (w t) with
rho_eff = 4 µOhm·cm, the value that reproduces 5b's figure (bulk-like metal; a 2 nm film is
3-5x more resistive, which would scale only the tiny write-path Joule term).

What the physics says (tests/test_devices_dw.py):

- T = 0: the current that carries the wall across all of d2 in t_w falls like 1/t_w (constant
  mobility, no pinning): ~2 µA at 1 ns, ~4 µA at 0.5 ns, ~1 µA at 2 ns.
- 300 K: the SOT does only a few k_B T of work on the wall over 60 nm at 2 µA (force
  pi hbar theta I / (2 e t)), so writing is stochastic: the wall diffuses ~40 nm in 1 ns.
  The read-out switching probability is a broad sigmoid in I (i50 and width from
  `calibrate_step_neuron`); a 99 % reliable write needs several times the T = 0 threshold.
- Resolution (`resolution_monte_carlo`): for the hardest decision (all inputs on, the
  positive side ahead by one synapse, on/off ratio 20) dV_G = (1 - r)/((1 + r) N), i.e.
  below 5 % beyond ~18 inputs, and 10 % conductance variation spreads it by ~0.1/sqrt(N).
"""

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

from .._checks import check_range, is_concrete
from ..domainwall import DomainWallStrip
from ..readout import MagneticTunnelJunction, divider_read
from ..statistics import fit_logistic
from ..waveforms import Constant, Pulse
from .dw_synapse import (PULSE_START, SOLVE_TIME, pulse_positions, thermal_positions,
                         up_fraction)
from .sot_neuron import SurrogateCalibration

CMOS_ENERGY_PER_OP = 0.7e-12
"""Reference CMOS analog neuron (op-amp + comparator, 25 inputs, 45 nm; physics.md 5b) [J]."""

CMOS_EDP = 3.5e-21
"""Its energy-delay product [J s] (physics.md 5b)."""


class StepEvaluation(eqx.Module):
    """Result of evaluating N step neurons: `q` wall positions [m] at the read, `y` outputs
    (+1 / -1), `energy` of the neuron itself per evaluation [J] (write path, read, inverter;
    the synapses' static current is in `DWMStepNeuron.input_energy`)."""

    q: Float[Array, " n"]
    y: Float[Array, " n"]
    energy: Float[Array, " n"]


class DWMStepNeuron(eqx.Module):
    """The DWM step neuron of physics.md 5b (see the module docstring for the physics).

    **Arguments** (SI; floats are differentiable leaves):

    - `length`, `width`, `thickness`: d2 [m], > 0 (60, 20, 2 nm).
    - `Ms` [A/m], `A` [J/m], `K_eff` [J/m^3] (> 0), `alpha`, `D` [J/m^2], `spin_hall_angle`:
      the wall model.
    - `write_resistivity` [Ohm m], > 0: effective resistivity of the d1-d2-d3 write path
      (4e-8 gives 5b's ~60 Ohm).
    - `write_time` [s] (static; 0.1–8 ns): the evaluation window, input current on.
    - `temperature` [K], >= 0.
    - `junction`: the MTJ on d2 (pinned down; 5 / 12.5 MOhm: RA ~ 6 kOhm um^2 over 1200 nm^2,
      so that the read current, ~60 nA at 1 V, is ~3 % of the write threshold).
    - `read_voltage` [V], in (0, 1] (= the inverter supply V_DD), `read_time` [s], > 0.
    - `inverter_capacitance` [F], >= 0 and `inverter_short_circuit_current` [A], >= 0: the
      inverter model, E_inv = C V_DD^2 + I_sc V_DD t_read (one output transition charging C,
      plus the crowbar current while the divider holds its input between the rails).
    - `dt` [s] (static): Heun step of the thermal solves.

    **Example:**

    ```python
    neuron = DWMStepNeuron()
    i_th = neuron.threshold_current([0.5e-9, 1e-9, 2e-9, 4e-9, 8e-9])   # [A], T = 0
    out = neuron.evaluate(jnp.array([-5e-6, 5e-6]), jax.random.key(0))  # y = [-1, +1]
    neuron.cmos_comparison(n_inputs=25, dv=0.05, min_current=4e-6)
    ```
    """

    length: Float[Array, ""] = 60e-9
    width: Float[Array, ""] = 20e-9
    thickness: Float[Array, ""] = 2e-9
    Ms: Float[Array, ""] = 6e5
    A: Float[Array, ""] = 1e-11
    K_eff: Float[Array, ""] = 2e5
    alpha: Float[Array, ""] = 0.1
    D: Float[Array, ""] = -0.5e-3
    spin_hall_angle: Float[Array, ""] = 0.3
    write_resistivity: Float[Array, ""] = 4e-8
    write_time: float = eqx.field(static=True, default=1e-9)
    temperature: Float[Array, ""] = 300.0
    junction: MagneticTunnelJunction = MagneticTunnelJunction(
        r_parallel=5e6, r_antiparallel=12.5e6, pinned=(0.0, 0.0, -1.0))
    read_voltage: Float[Array, ""] = 1.0
    read_time: Float[Array, ""] = 0.2e-9
    inverter_capacitance: Float[Array, ""] = 1e-15
    inverter_short_circuit_current: Float[Array, ""] = 1e-6
    dt: float = eqx.field(static=True, default=1e-12)

    def __check_init__(self):
        for name in ("length", "width", "thickness"):
            check_range(name, getattr(self, name), low=0.0, high=1e-5, unit="m")
        check_range("write_resistivity", self.write_resistivity, low=0.0, high=1e-4,
                    unit="Ohm m")
        check_range("write_time", self.write_time, low=0.1e-9, high=8e-9,
                    low_inclusive=True, high_inclusive=True, unit="s")
        check_range("read_voltage", self.read_voltage, low=0.0, high=1.0, high_inclusive=True,
                    unit="V")
        check_range("read_time", self.read_time, low=0.0, unit="s")
        check_range("inverter_capacitance", self.inverter_capacitance, low=0.0,
                    low_inclusive=True, unit="F")
        check_range("inverter_short_circuit_current", self.inverter_short_circuit_current,
                    low=0.0, low_inclusive=True, unit="A")
        check_range("dt", self.dt, low=0.0, high=self.write_time / 100, unit="s")
        if not isinstance(self.junction, MagneticTunnelJunction):
            raise TypeError("junction must be a spinjax.readout.MagneticTunnelJunction")
        self.strip()  # validates the magnetic parameters

    # --- physics ----------------------------------------------------------------------------
    def strip(self, current=Constant(0.0), length=None) -> DomainWallStrip:
        """The 1D wall model of d2; `current` a waveform of the current density [A/m^2]."""
        return DomainWallStrip(
            Ms=self.Ms, A=self.A, alpha=self.alpha, D=self.D,
            length=self.length if length is None else length, width=self.width,
            thickness=self.thickness, K_eff=self.K_eff, current=current,
            spin_hall_angle=self.spin_hall_angle, temperature=self.temperature, wall_type=1)

    def current_density(self, current) -> Float[Array, "..."]:
        """j = I / (w t) [A/m^2] in d2 for a net input current I [A]."""
        return jnp.asarray(current) / (self.width * self.thickness)

    def write_resistance(self) -> Float[Array, ""]:
        """Write-path resistance rho_eff L / (w t) [Ohm] (60 Ohm by default)."""
        return self.write_resistivity * self.length / (self.width * self.thickness)

    def threshold_current(self, write_times) -> np.ndarray:
        """T = 0 current [A] that drives the wall across the whole of d2 (distance L) within
        each of 5 `write_times` [s] (in (0, 9.5 ns]).

        One deterministic solve per current on a grid of 16 (0.1–100 µA, log) in a strip
        20 L long (no end effects); log-log interpolation of the crossing time.
        """
        write_times = np.asarray(write_times, float)
        if write_times.shape != (5,):
            raise ValueError(f"write_times must hold 5 times, got shape {write_times.shape}")
        check_range("write_times", write_times, low=0.0, high=SOLVE_TIME - PULSE_START,
                    high_inclusive=True, unit="s")
        grid = np.geomspace(0.1e-6, 100e-6, 16)
        long = 20.0 * float(self.length)
        q = np.asarray(pulse_positions(self.strip(length=long), self.current_density(grid),
                                       jnp.full(16, SOLVE_TIME), jnp.full(16, 0.05 * long),
                                       PULSE_START + write_times))
        dist = q - 0.05 * long                             # (currents, times)
        out = []
        for k in range(5):
            d = np.maximum(dist[:, k], 1e-30)
            out.append(float(np.exp(np.interp(np.log(float(self.length)), np.log(d),
                                              np.log(grid)))))
        return np.asarray(out)

    def _final_positions(self, currents, key, q0):
        t1 = PULSE_START + self.write_time
        n_steps = int(t1 / self.dt * (1 + 1e-12))
        q = thermal_positions(self.strip(), self.current_density(currents),
                              jnp.full(jnp.shape(currents), SOLVE_TIME), q0, key, t1,
                              self.dt, n_steps)
        return q[:, -1]

    def read(self, q):
        """Divider + inverter read of the MTJ on d2 at wall positions q [m] (n,).

        The MTJ conductance is the area average over d2 (`up_fraction`): with the pinned layer
        down, d2 up (q = L) is AP. **Returns:** `(v_node [V], y (+1 / -1), energy [J])`.
        """
        q = jnp.atleast_1d(jnp.asarray(q, float))
        f_up = up_fraction(q, self.length, self.strip().wall_width())
        m = jnp.stack([jnp.zeros_like(q), jnp.zeros_like(q), 2.0 * f_up - 1.0], axis=-1)
        v, fired, e = divider_read(self.junction, m, v_supply=self.read_voltage,
                                   read_time=self.read_time)
        return v, jnp.where(fired, 1.0, -1.0), e

    def evaluate(self, i_sum, key, y0=-1.0) -> StepEvaluation:
        """One evaluation of N neurons with the thermal wall model in the loop.

        **Arguments:** `i_sum`: net input currents [A] (n,), |I| < 1 mA; `key`: PRNG key (neuron
        i's noise depends only on (key, i)); `y0`: previous outputs (+1 / -1), scalar or (n,):
        the wall starts at q = L for +1, q = 0 for -1.

        **Returns:** a `StepEvaluation`.
        """
        i_sum = jnp.atleast_1d(jnp.asarray(i_sum, float))
        check_range("i_sum", i_sum, low=-1e-3, high=1e-3, unit="A")
        y0 = jnp.broadcast_to(jnp.asarray(y0, float), i_sum.shape)
        if is_concrete(y0) and not np.all(np.isin(np.asarray(y0), (-1.0, 1.0))):
            raise ValueError("y0 must be +1 or -1 (the previous output)")
        q0 = jnp.where(y0 > 0, self.length, 0.0)
        q = self._final_positions(i_sum, key, q0)
        _, y, _ = self.read(q)
        return StepEvaluation(q=q, y=y, energy=self.neuron_energy(i_sum))

    def write_probability(self, currents, key, n_trials: int):
        """Monte Carlo P(Y = +1) for a neuron at Y = -1 (wall at 0) and net currents [A].

        By the symmetry of the chiral wall, P(Y = -1 | +1, -I) is the same. **Returns:**
        `(p, k, n)` numpy arrays.
        """
        currents = np.atleast_1d(np.asarray(currents, float))
        amp = jnp.repeat(jnp.asarray(currents), n_trials)
        q = self._final_positions(amp, key, jnp.zeros_like(amp))
        _, y, _ = self.read(q)
        k = np.asarray(y > 0).reshape(len(currents), n_trials).sum(1)
        return k / n_trials, k, np.full(len(currents), n_trials)

    # --- inputs and resolution --------------------------------------------------------------
    @staticmethod
    def net_current(g_plus, g_minus, inputs, dv) -> Float[Array, "..."]:
        """I_sum = sum_i dV in_i (G+_i - G-_i) [A] (physics.md 5b); G [S] (..., N), inputs
        in [0, 1], dv [V] in [10, 100] mV. The write path (60 Ohm) is a virtual ground for
        synapses of >> 60 Ohm (see `loading`)."""
        _check_inputs(g_plus, g_minus, inputs, dv)
        return dv * jnp.sum(jnp.asarray(inputs) * (jnp.asarray(g_plus) - jnp.asarray(g_minus)),
                            axis=-1)

    def loading(self, g_plus, g_minus) -> Float[Array, "..."]:
        """gamma = R_write sum (G+ + G-) (physics.md §6): the relative current loss by the
        neuron's finite input conductance; << 1 for an ideal sum."""
        return self.write_resistance() * jnp.sum(jnp.asarray(g_plus) + jnp.asarray(g_minus),
                                                 axis=-1)

    @staticmethod
    def resolution(g_plus, g_minus, inputs, dv) -> Float[Array, "..."]:
        """dV_G = (|sum (G V)_+| - |sum (G V)_-|) / (|sum (G V)_+| + |sum (G V)_-|) (a
        fraction; x100 for %): the relative current difference the neuron must resolve."""
        _check_inputs(g_plus, g_minus, inputs, dv)
        i_p = jnp.abs(dv * jnp.sum(jnp.asarray(inputs) * jnp.asarray(g_plus), axis=-1))
        i_m = jnp.abs(dv * jnp.sum(jnp.asarray(inputs) * jnp.asarray(g_minus), axis=-1))
        return (i_p - i_m) / (i_p + i_m)

    # --- energies ---------------------------------------------------------------------------
    def inverter_energy(self) -> Float[Array, ""]:
        """E_inv = C V_DD^2 + I_sc V_DD t_read [J] (model stated in the class docstring)."""
        v = self.read_voltage
        return self.inverter_capacitance * v**2 \
            + self.inverter_short_circuit_current * v * self.read_time

    def neuron_energy(self, i_sum) -> Float[Array, "..."]:
        """Energy of the neuron per evaluation [J]: write path I^2 R t_w + read + inverter."""
        i_sum = jnp.asarray(i_sum, float)
        _, _, e_read = self.read(jnp.asarray([0.5 * self.length]))
        return i_sum**2 * self.write_resistance() * self.write_time + e_read[0] \
            + self.inverter_energy()

    def input_energy(self, g_plus, g_minus, inputs, dv) -> Float[Array, "..."]:
        """Static energy of the synapses during the window, dV sum |I_k| t_w [J] (every
        conductance sees dV across it, the neuron input being a virtual ground)."""
        _check_inputs(g_plus, g_minus, inputs, dv)
        g = jnp.asarray(inputs) * (jnp.asarray(g_plus) + jnp.asarray(g_minus))
        return dv**2 * jnp.sum(g, axis=-1) * self.write_time

    def energy_per_operation(self, g_plus, g_minus, inputs, dv) -> Float[Array, "..."]:
        """Total energy of one evaluation [J]: synapses' static current x dV x t_w + write
        path + read + inverter."""
        i_sum = self.net_current(g_plus, g_minus, inputs, dv)
        return self.input_energy(g_plus, g_minus, inputs, dv) + self.neuron_energy(i_sum)

    def cmos_comparison(self, n_inputs: int = 25, dv=0.05, min_current=2e-6,
                        on_off_ratio=20.0) -> dict:
        """Energy and energy-delay product against the CMOS analog neuron of physics.md 5b.

        The synapses are sized for the hardest decision (`hardest_case`): all `n_inputs`
        inputs on, the positive side ahead by one synapse, whose net current must reach
        `min_current` [A] (the write current the neuron needs at its `write_time`). Delay =
        write_time + read_time.

        **Returns:** dict of energies [J] (`synapses`, `write_path`, `read`, `inverter`,
        `total`), `delay` [s], `edp` [J s], the CMOS references and the ratios
        `energy_ratio` = CMOS / DWM, `edp_ratio`.
        """
        g_on = min_current / (dv * (1.0 - 1.0 / on_off_ratio))
        gp, gm = hardest_case(n_inputs, g_on, on_off_ratio)
        ones = np.ones(n_inputs)
        i_sum = float(self.net_current(gp, gm, ones, dv))
        e_syn = float(self.input_energy(gp, gm, ones, dv))
        e_write = i_sum**2 * float(self.write_resistance()) * self.write_time
        _, _, e_read = self.read(jnp.asarray([0.5 * self.length]))
        e_read, e_inv = float(e_read[0]), float(self.inverter_energy())
        total = e_syn + e_write + e_read + e_inv
        delay = self.write_time + float(self.read_time)
        return dict(n_inputs=n_inputs, dv=float(dv), min_current=float(min_current),
                    synapses=e_syn, write_path=e_write, read=e_read, inverter=e_inv,
                    total=total, delay=delay, edp=total * delay,
                    cmos_energy=CMOS_ENERGY_PER_OP, cmos_edp=CMOS_EDP,
                    energy_ratio=CMOS_ENERGY_PER_OP / total, edp_ratio=CMOS_EDP / (total * delay),
                    loading=float(self.loading(gp, gm)))


def _check_inputs(g_plus, g_minus, inputs, dv):
    check_range("g_plus", g_plus, low=0.0, low_inclusive=True, unit="S")
    check_range("g_minus", g_minus, low=0.0, low_inclusive=True, unit="S")
    check_range("inputs", inputs, low=0.0, high=1.0, low_inclusive=True, high_inclusive=True)
    check_range("dv", dv, low=0.01, high=0.1, low_inclusive=True, high_inclusive=True,
                unit="V")


def hardest_case(n_inputs: int, g_on=1.0, on_off_ratio=20.0):
    """(G+, G-) [S] of the hardest sign decision with N binary (±1) synapses all driven:
    floor((N-1)/2) negative, one more positive, and for even N one synapse at weight 0
    (both sides off). Net = one synapse; a weight ±1 puts G_on on one side, G_on /
    on_off_ratio on the other (physics.md §6: ratio 20)."""
    n_inputs = int(n_inputs)
    if n_inputs < 1:
        raise ValueError(f"n_inputs = {n_inputs} is outside the allowed range [1, inf)")
    check_range("on_off_ratio", on_off_ratio, low=1.0)
    g_off = g_on / on_off_ratio
    n_neg = (n_inputs - 1) // 2
    w = np.concatenate([np.ones(n_neg + 1), -np.ones(n_neg),
                        np.zeros(n_inputs - 2 * n_neg - 1)])
    gp = np.where(w > 0, g_on, g_off)
    gm = np.where(w < 0, g_on, g_off)
    return gp, gm


def resolution_monte_carlo(n_inputs, key, variation=0.1, n_trials: int = 4000,
                           on_off_ratio=20.0) -> dict:
    """dV_G of the hardest decision (`hardest_case`) under device-to-device conductance
    variation, by Monte Carlo: every conductance is G (1 + variation xi), xi ~ N(0, 1).

    **Arguments:** `n_inputs`: list of N; `variation`: relative sigma, in [0, 0.5);
    `n_trials` per N.

    **Returns:** dict of numpy arrays over N: `nominal` (no variation), `median`, `p05`,
    `p95` of dV_G (fractions), and `error_rate` = P(dV_G <= 0): decisions the variation
    flips, which no neuron resolution can recover.
    """
    check_range("variation", variation, low=0.0, high=0.5, low_inclusive=True)
    out = {k: [] for k in ("n_inputs", "nominal", "median", "p05", "p95", "error_rate")}
    n_max = int(max(n_inputs))
    z_all = np.asarray(jax.random.normal(key, (len(n_inputs), 2, n_trials, n_max)))
    for i, n in enumerate(n_inputs):
        gp, gm = hardest_case(n, 1.0, on_off_ratio)
        z = z_all[i, :, :, :int(n)]
        gpv = np.maximum(gp * (1.0 + variation * z[0]), 0.0)
        gmv = np.maximum(gm * (1.0 + variation * z[1]), 0.0)
        dvg = (gpv.sum(1) - gmv.sum(1)) / (gpv.sum(1) + gmv.sum(1))
        out["n_inputs"].append(int(n))
        out["nominal"].append((gp.sum() - gm.sum()) / (gp.sum() + gm.sum()))
        out["median"].append(np.median(dvg))
        out["p05"].append(np.quantile(dvg, 0.05))
        out["p95"].append(np.quantile(dvg, 0.95))
        out["error_rate"].append(np.mean(dvg <= 0))
    return {k: np.asarray(v) for k, v in out.items()}


# --- surrogate --------------------------------------------------------------------------------
class StepNeuronSurrogate(eqx.Module):
    """Calibrated fast model of `DWMStepNeuron` for network use.

    From output -1, a net current I [A] writes +1 with P(I) = sigmoid((I - i50) / width);
    from +1, -1 is written with P(-I) (the chiral wall is symmetric). Below |I| ~ i50 the
    output keeps its previous value (a dead zone, the wall did not get across).

    - `i50` [A] > 0, `width` [A] > 0: fitted by `calibrate_step_neuron`;
    - `write_time` [s]: the window they hold for.
    """

    i50: Float[Array, ""]
    width: Float[Array, ""]
    write_time: Float[Array, ""] = 1e-9

    def __check_init__(self):
        check_range("i50", self.i50, low=0.0, unit="A")
        check_range("width", self.width, low=0.0, unit="A")

    def probability(self, current) -> Float[Array, "..."]:
        """P(write +1 | start at -1) for net current(s) [A]."""
        return jax.nn.sigmoid((jnp.asarray(current) - self.i50) / self.width)

    def expected_output(self, i_sum, y0=0.0) -> Float[Array, "..."]:
        """E[Y] after an evaluation from previous output y0 in [-1, 1] (0: unknown, equal
        odds): smooth, differentiable, a soft sign with a dead zone of ±i50."""
        p_up = self.probability(i_sum)
        p_dn = self.probability(-jnp.asarray(i_sum))
        return 0.5 * (1.0 - y0) * (2.0 * p_up - 1.0) + 0.5 * (1.0 + y0) * (1.0 - 2.0 * p_dn)

    def sample(self, key, i_sum, y0) -> Array:
        """Outputs (+1 / -1) of one stochastic evaluation for currents [A] and previous y0."""
        i_sum = jnp.asarray(i_sum)
        y0 = jnp.broadcast_to(jnp.asarray(y0, i_sum.dtype), i_sum.shape)
        u = jax.random.uniform(key, i_sum.shape)
        up = u < self.probability(i_sum)
        dn = u < self.probability(-i_sum)
        return jnp.where(y0 < 0, jnp.where(up, 1.0, -1.0), jnp.where(dn, -1.0, 1.0))


def calibrate_step_neuron(neuron: DWMStepNeuron, key, currents, *,
                          n_trials: int = 200) -> SurrogateCalibration:
    """Fit the `StepNeuronSurrogate` of `neuron` to its thermal Monte Carlo.

    Runs `write_probability` at `currents` [A] with `n_trials` each and fits a logistic in I
    by maximum likelihood (`spinjax.statistics.fit_logistic`).

    **Returns:** a `SurrogateCalibration` (the surrogate, inputs, counts, RMS / max error in
    probability, deviance).
    """
    currents = np.asarray(currents, float)
    p, k, n = neuron.write_probability(currents, key, n_trials)
    fit = fit_logistic(currents, k, n)
    sur = StepNeuronSurrogate(jnp.asarray(fit["x50"]), jnp.asarray(fit["width"]),
                              jnp.asarray(neuron.write_time))
    resid = np.asarray(sur.probability(currents)) - p
    return SurrogateCalibration(surrogate=sur, inputs=currents, k=k, n=n,
                                rms_error=float(np.sqrt(np.mean(resid**2))),
                                max_error=float(np.max(np.abs(resid))),
                                deviance=float(fit["deviance"]), dof=int(fit["dof"]))
