"""Device neurons of `spinjax.devices` as network activations driven by a column current.

Every neuron takes the column current I [A] of a crossbar (`CrossbarArray.currents`), turns
it into its device input through a documented input stage, and returns a normalised output
that drives the rows of the next crossbar (an input x: the row voltage is dV x):

| neuron | input stage | output (next layer's x) |
|---|---|---|
| `StochasticMTJNeuron` (5a) | I_dev = bias_fraction i50 + gain I through the heavy metal | spike {0, 1}; relaxed: P(spike) |
| `StepNeuron` (DWM, 5b) | I_dev = gain I through d1 -> d3 | +1 / -1; relaxed: E[Y] (soft sign with dead zone) |
| `IRMENNeuron` (5d) | V = input_resistance I charges the ME capacitor | y in [-1, 1] (mean + thermal noise) |
| `IFNeuron` (DW IF, 5c) | I_dev = gain I through the Pt | spike {0, 1} per step (stateful); relaxed: rate |

The interface, shared by all (`AbstractNeuron`):

- `mean(current)`: the differentiable relaxation used for training (the expected output of
  one evaluation; for the IF neuron the steady firing rate per step);
- `sample(key, current)`: one exact stochastic evaluation (inference);
- `init_state(shape)` / `step(state, current, key) -> (state, output)`: one network time
  step of a spiking/stochastic run (the MTJ is reset after a spike and relaxes otherwise, so
  its steps are independent; the DWM neuron keeps its previous output; the IF neuron
  integrates its wall position);
- `matched(unit_current)`: a copy whose input stage maps `unit_current` [A] (e.g. the
  crossbar's `weight_scale(w_max)`, the current of one unit of weight x input) to one unit
  of the device's transfer curve (its slope-equivalent width, or V_sat), so that networks
  trained in weight units see a well-scaled nonlinearity;
- `__call__(current, key=None)`: `mean` without a key, `sample` with one.

Gains are float leaves (a current mirror's ratio or a transimpedance): `jax.grad` reaches
them, and the device leaves (the MTJ's free-layer thickness and write pulse through
`SOTNeuronFamily`, the IRMEN magnet length) are leaves as well.
"""

import abc
import functools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._checks import check_range
from ..devices.dw_neuron import StepNeuronSurrogate
from ..devices.dw_synapse import DWIFNeuron, IFSurrogate, einstein_diffusion
from ..devices.irmen import IRMENCell, IRMENSurrogate, boltzmann_moments
from ..surrogates import SwitchingSigmoid

HM_RESISTANCE = 400.0
"""SOT-MTJ neuron heavy-metal resistance in the network [Ohm] (physics.md 5a)."""

RESET_CURRENT = 150e-6
"""SOT-MTJ neuron reset current [A] (physics.md 5a: 150 µA, deterministic)."""


class AbstractNeuron(eqx.Module):
    """A device neuron used as an activation: column current [A] -> normalised output."""

    @abc.abstractmethod
    def mean(self, current) -> Float[Array, "..."]:
        """Differentiable expected output for column current(s) `current` [A]."""

    @abc.abstractmethod
    def sample(self, key, current) -> Float[Array, "..."]:
        """One stochastic evaluation for `current` [A] (same shape)."""

    @abc.abstractmethod
    def matched(self, unit_current) -> "AbstractNeuron":
        """Copy with the input stage matched to `unit_current` [A] (see the module doc)."""

    def init_state(self, shape) -> Array:
        """State of a layer of neurons of `shape` before a spiking run (zeros)."""
        return jnp.zeros(shape)

    def step(self, state, current, key):
        """One network time step. **Returns:** `(new_state, output)`."""
        return state, self.sample(key, current)

    def __call__(self, current, key=None) -> Float[Array, "..."]:
        return self.mean(current) if key is None else self.sample(key, current)


# --- 5a: stochastic SOT-MTJ neuron ----------------------------------------------------------

class StochasticMTJNeuron(AbstractNeuron):
    """Stochastic SOT-MTJ spiking neuron (physics.md 5a) as an activation.

    Input stage: the column current I [A] is mirrored with ratio `gain` into the heavy metal
    (R_HM = 400 Ω) on top of a DC bias current `bias_fraction` x i50 (the bias circuit is
    trimmed to the device's own 50 % current, so a zero column current fires with P ≈ 1/2 at
    bias_fraction = 1); the write pulse lasts the sigmoid's `pulse_width`:

        I_dev = bias_fraction i50 + gain I,     P(spike) = SwitchingSigmoid(I_dev)

    (0 for I_dev <= 0). Training uses P (the differentiable relaxation); inference draws a
    Bernoulli spike per step (`sample`). After a spike the magnet is reset to P (150 µA),
    otherwise it relaxes back before the next step, so steps are independent (the leaky carry
    of `LeakySwitchingSigmoid` between closely spaced pulses is neglected).

    The switching curve: `sigmoid` (a fixed `SwitchingSigmoid`), or, when `family` is given,
    `family.sigmoid(thickness, pulse_width)` (e.g. `SOTNeuronFamily`), differentiable in the
    free-layer `thickness` [m] and the write `pulse_width` [s] (see `from_family`).

    **Arguments:**

    - `sigmoid`: a `SwitchingSigmoid` (default: 1.2 nm, 0.5 ns from rest, i50 = 57 µA,
      log-width 0.14); ignored when `family` is given.
    - `gain`: current-mirror ratio, dimensionless, > 0 (float leaf).
    - `bias_fraction`: DC bias in units of i50, dimensionless, in [0, 10) (float leaf).
    - `family`, `thickness` [m], `pulse_width` [s]: the device family and its leaves.
    """

    sigmoid: SwitchingSigmoid | None = None
    gain: Float[Array, ""] = 30.0
    bias_fraction: Float[Array, ""] = 1.0
    family: object = None
    thickness: Float[Array, ""] = 1.2e-9
    pulse_width: Float[Array, ""] = 0.5e-9

    def __check_init__(self):
        check_range("gain", self.gain, low=0.0)
        check_range("bias_fraction", self.bias_fraction, low=0.0, low_inclusive=True, high=10.0)
        if self.family is None and self.sigmoid is None:
            raise ValueError("StochasticMTJNeuron needs a sigmoid or a family")
        if self.family is not None:
            check_range("thickness", self.thickness, low=0.0, high=1e-7, unit="m")
            check_range("pulse_width", self.pulse_width, low=0.0, high=1e-6, unit="s")

    @classmethod
    def default(cls, **kwargs) -> "StochasticMTJNeuron":
        """The 1.2 nm / 0.5 ns neuron from rest (i50 = 57 µA, log-width 0.14)."""
        return cls(sigmoid=SwitchingSigmoid(i50=57e-6, log_width=0.14, pulse_width=0.5e-9),
                   **kwargs)

    @classmethod
    def from_family(cls, thickness=1.2e-9, pulse_width=0.5e-9, family=None,
                    **kwargs) -> "StochasticMTJNeuron":
        """A neuron whose curve comes from `family.sigmoid(thickness, pulse_width)`;
        `family=None` loads `spinjax.devices.SOTNeuronFamily.load_default()`.

        **Arguments:** `thickness`: free layer [m]; `pulse_width`: write pulse [s]; other
        keywords as the class (`gain`, `bias_fraction`)."""
        if family is None:
            from ..devices.sot_family import SOTNeuronFamily
            family = SOTNeuronFamily.load_default()
        return cls(family=family, thickness=jnp.asarray(thickness, float),
                   pulse_width=jnp.asarray(pulse_width, float), **kwargs)

    def curve(self) -> SwitchingSigmoid:
        """The switching curve in use (from the family when given)."""
        if self.family is not None:
            return self.family.sigmoid(self.thickness, self.pulse_width)
        return self.sigmoid

    def device_current(self, current) -> Float[Array, "..."]:
        """I_dev = bias_fraction i50 + gain I [A] through the heavy metal."""
        return self.bias_fraction * self.curve().i50 + self.gain * jnp.asarray(current)

    def mean(self, current):
        """P(spike) for column current(s) [A] (in [0, 1])."""
        return self.curve().probability(self.device_current(current))

    def sample(self, key, current):
        """Spikes (0. / 1.), one Bernoulli draw per element."""
        p = self.mean(current)
        return (jax.random.uniform(key, p.shape, p.dtype) < p).astype(p.dtype)

    def matched(self, unit_current):
        """Gain so that `unit_current` [A] is one slope-equivalent width i50 x log_width."""
        return eqx.tree_at(lambda n: n.gain, self, jnp.asarray(self.curve().width / unit_current))

    def energy(self, current, p_spike=None) -> Float[Array, "..."]:
        """Energy per neuron and step [J]: write I_dev^2 R_HM t_PW plus, with probability
        P(spike) (`p_spike`, default the model's), the reset (150 µA)^2 R_HM t_PW. The bias
        and mirror circuits are not included."""
        sig = self.curve()
        i_dev = self.device_current(current)
        t = self.pulse_width if self.family is not None else sig.pulse_width
        p = self.mean(current) if p_spike is None else p_spike
        return (i_dev**2 + p * RESET_CURRENT**2) * HM_RESISTANCE * t


# --- 5b: DWM step neuron ---------------------------------------------------------------------

class StepNeuron(AbstractNeuron):
    """Domain-wall-magnet step neuron (physics.md 5b): Y = sign(gain I) with a stochastic
    dead zone, from `StepNeuronSurrogate`.

    Input stage: the column current I [A] is mirrored with ratio `gain` through the d1 -> d3
    write path, I_dev = gain I. Output +1 / -1. The relaxation is E[Y] from an unknown
    previous output (equal odds): p_up(I_dev) - p_down(I_dev), a soft sign that is ~0 inside
    the dead zone |I_dev| < i50 (~1.55 µA at 1 ns). `sample` draws the previous output at
    random (equal odds) unless given; `step` keeps it as the neuron's state (hysteresis).

    **Arguments:** `surrogate` (default i50 = 1.55 µA, width 0.76 µA, 1 ns: the 300 K
    calibration of `DWMStepNeuron`); `gain`, dimensionless, > 0 (float leaf).
    """

    surrogate: StepNeuronSurrogate = StepNeuronSurrogate(i50=1.55e-6, width=0.764e-6)
    gain: Float[Array, ""] = 10.0

    def __check_init__(self):
        check_range("gain", self.gain, low=0.0)

    def mean(self, current):
        """E[Y] in (-1, 1) from equal-odds previous output."""
        return self.surrogate.expected_output(self.gain * jnp.asarray(current), 0.0)

    def sample(self, key, current, y0=None):
        """Outputs +1 / -1; `y0` previous outputs (default: drawn at random, equal odds)."""
        current = jnp.asarray(current)
        k0, k1 = jax.random.split(key)
        if y0 is None:
            y0 = jnp.where(jax.random.bernoulli(k0, 0.5, current.shape), 1.0, -1.0)
        return self.surrogate.sample(k1, self.gain * current, y0)

    def init_state(self, shape):
        """Previous outputs before a run: -1 (the reset state of d2)."""
        return -jnp.ones(shape)

    def step(self, state, current, key):
        y = self.surrogate.sample(key, self.gain * jnp.asarray(current), state)
        return y, y

    def matched(self, unit_current):
        """Gain so that `unit_current` [A] is one i50 (the edge of the dead zone)."""
        return eqx.tree_at(lambda n: n.gain, self,
                           jnp.asarray(self.surrogate.i50 / unit_current))


# --- 5d: IRMEN saturated-linear cell ----------------------------------------------------------

_H_GRID = np.linspace(-6.0, 6.0, 481)
_LOG_DELTA_GRID = np.linspace(math.log(2.0), math.log(4000.0), 121)


@functools.lru_cache(maxsize=1)
def _moment_table():
    h, d = np.meshgrid(_H_GRID, np.exp(_LOG_DELTA_GRID), indexing="ij")
    # Concrete even when first needed inside a jitted function (the table is a constant);
    # computed in row blocks: the quadrature behind one call holds ~1e4 floats per entry,
    # so the whole 481 x 121 grid at once peaked at ~10 GB.
    moments = jax.jit(boltzmann_moments)
    rows = []
    with jax.ensure_compile_time_eval():
        for start in range(0, h.shape[0], 37):
            m, v = moments(jnp.asarray(h[start:start + 37]), jnp.asarray(d[start:start + 37]))
            rows.append((np.asarray(m), np.asarray(v)))
    return np.concatenate([r[0] for r in rows]), np.concatenate([r[1] for r in rows])


def _bilinear(table, h, log_delta):
    """Bilinear interpolation of `table` on (_H_GRID, _LOG_DELTA_GRID); differentiable."""
    dh = _H_GRID[1] - _H_GRID[0]
    dd = _LOG_DELTA_GRID[1] - _LOG_DELTA_GRID[0]
    u = (jnp.clip(h, _H_GRID[0], _H_GRID[-1]) - _H_GRID[0]) / dh
    w = (jnp.clip(log_delta, _LOG_DELTA_GRID[0], _LOG_DELTA_GRID[-1]) - _LOG_DELTA_GRID[0]) / dd
    i = jnp.clip(jnp.floor(jax.lax.stop_gradient(u)), 0, len(_H_GRID) - 2).astype(jnp.int32)
    j = jnp.clip(jnp.floor(jax.lax.stop_gradient(w)), 0, len(_LOG_DELTA_GRID) - 2
                 ).astype(jnp.int32)
    fu, fw = u - i, w - j
    t = jnp.asarray(table, u.dtype)
    return ((1 - fu) * (1 - fw) * t[i, j] + fu * (1 - fw) * t[i + 1, j]
            + (1 - fu) * fw * t[i, j + 1] + fu * fw * t[i + 1, j + 1])


class IRMENNeuron(AbstractNeuron):
    """IRMEN magnetoelectric cell (physics.md 5d) as a saturated-linear activation with
    thermal noise, from `IRMENSurrogate`.

    Input stage: the column current I [A] is turned into the ME capacitor's voltage by a
    transimpedance, V = input_resistance x I [V] (equivalently, I integrated on the 1 fF
    capacitor for input_resistance x C seconds), clipped to the ±500 mV synapse supply. The
    output is the cell's normalised read y = <m_y> in [-1, 1] (mean: the exact thermal M–H
    curve, a rounded clip(V / V_sat, -1, 1); `sample`: plus Gaussian read noise whose size
    grows for short magnets). The OTA then drives the next layer with y (x = y).

    **Arguments:**

    - `surrogate`: the calibrated `IRMENSurrogate` (default: `IRMENSurrogate(IRMENCell())`,
      kappa = noise_scale = 1).
    - `length`: magnet length [m] in (5 nm, 1 µm), float leaf (5d: 17–60 nm).
    - `input_resistance`: transimpedance [Ω], > 0, float leaf.
    - `tabulated` (static, default True): evaluate the Boltzmann moments by bilinear
      interpolation of a precomputed table in (V/V_sat, log Delta) (|V/V_sat| <= 6, Delta in
      [2, 4000]; max error ~1e-3), instead of the 512-node quadrature per element (memory
      512x the activations: too much for convolutional layers).
    """

    surrogate: IRMENSurrogate = IRMENSurrogate(IRMENCell())
    length: Float[Array, ""] = 60e-9
    input_resistance: Float[Array, ""] = 1e4
    tabulated: bool = eqx.field(static=True, default=True)

    def __check_init__(self):
        check_range("length", self.length, low=5e-9, high=1e-6, unit="m")
        check_range("input_resistance", self.input_resistance, low=0.0, unit="Ohm")

    def voltage(self, current) -> Float[Array, "..."]:
        """ME input voltage V = input_resistance I [V], clipped to ±500 mV."""
        sup = self.surrogate.cell.synapse_supply
        return jnp.clip(self.input_resistance * jnp.asarray(current), -sup, sup)

    def _moments(self, current):
        v = self.voltage(current)
        h, delta, surviving = self.surrogate._physics(v, self.length)
        delta = self.surrogate.kappa * delta
        if self.tabulated:
            mean_t, var_t = _moment_table()
            ld = jnp.log(delta) * jnp.ones_like(h)
            mean, var = _bilinear(mean_t, h, ld), _bilinear(var_t, h, ld)
        else:
            mean, var = boltzmann_moments(h, delta)
        std = self.surrogate.noise_scale * jnp.sqrt(jnp.maximum(var, 0.0) * surviving)
        return mean, std

    def mean(self, current):
        """Thermal-mean normalised output in [-1, 1]."""
        return self._moments(current)[0]

    def std(self, current) -> Float[Array, "..."]:
        """Read-to-read standard deviation of the normalised output."""
        return self._moments(current)[1]

    def sample(self, key, current):
        """One noisy read per element (Gaussian around the mean)."""
        mean, std = self._moments(current)
        return mean + std * jax.random.normal(key, mean.shape, mean.dtype)

    def matched(self, unit_current):
        """Transimpedance so that `unit_current` [A] gives V_sat (the knee) at this length."""
        v_sat = self.surrogate.cell.with_length(self.length).saturation_voltage()
        return eqx.tree_at(lambda n: n.input_resistance, self, jnp.asarray(v_sat / unit_current))

    def energy(self, current) -> Float[Array, "..."]:
        """Write + read + output energy of one evaluation [J] (`IRMENCell.evaluation_energy`
        at the input voltage; the transimpedance stage is not included)."""
        cell = self.surrogate.cell.with_length(self.length)
        return cell.evaluation_energy(self.voltage(current))


# --- 5c: domain-wall integrate-and-fire neuron ------------------------------------------------

class IFNeuron(AbstractNeuron):
    """Domain-wall integrate-and-fire neuron (physics.md 5c) for spiking inference, from
    `IFSurrogate` (one network step = input slot + leak slot of the `DWIFNeuron`).

    Input stage: the column current I [A] is mirrored with ratio `gain` into the Pt,
    I_dev = max(gain I, 0) (the track integrates positive input; a negative column current
    drives nothing). The state is the wall position q [m] (plus a refractory flag encoded as
    q < 0: the step after a spike is the reset step). Per step (`step`):

        q_mid = q + dx_in(I_dev) + sigma_in xi_1,   q' = q_mid - leak + sigma_leak xi_2,

    a spike when q_mid or q' reaches the read region (b = L - read_region); then q -> 0 and
    the next step is refractory (its input ignored). Differentiable relaxation (`mean`): the
    steady firing rate per step d / (b + d), d = sigma softplus((dx_in - leak) / sigma) (one
    refractory step per spike; the rate approximation of a ReLU for d << b).

    **Arguments:** `surrogate` (default `IFNeuron.analytic()`: the analytic mobility, DMI
    saturation velocity, leak and Einstein diffusion of the default 240 nm track, the
    starting values of `calibrate_if_neuron`; pass `cal.surrogate` for the fitted one);
    `gain`, dimensionless, > 0 (float leaf).
    """

    surrogate: IFSurrogate
    gain: Float[Array, ""] = 100.0

    def __check_init__(self):
        check_range("gain", self.gain, low=0.0)

    @classmethod
    def analytic(cls, device: DWIFNeuron | None = None, **kwargs) -> "IFNeuron":
        """Surrogate from the analytic wall laws of `device` (default `DWIFNeuron()`)."""
        device = DWIFNeuron() if device is None else device
        strip = device.track.strip()
        mobility = device.track.mobility()
        v_sat = strip.dmi_saturation_velocity()
        _, widths = device.slots()
        s = mobility * device.track.current_density(device.leak_current) / v_sat
        leak = v_sat * widths[1] * s / jnp.sqrt(1.0 + s**2)
        sur = IFSurrogate(mobility=jnp.asarray(mobility), v_sat=jnp.asarray(v_sat),
                          leak=jnp.asarray(leak), d_eff=jnp.asarray(einstein_diffusion(strip)),
                          device=device)
        return cls(surrogate=sur, **kwargs)

    def _drive(self, current):
        i = jnp.maximum(self.gain * jnp.asarray(current), 0.0)
        return self.surrogate._drift_in(i)

    def mean(self, current):
        """Steady firing rate per step in [0, 1) (differentiable)."""
        s_in, s_leak = self.surrogate._sigmas()
        sigma = jnp.sqrt(s_in**2 + s_leak**2)
        net = sigma * jax.nn.softplus((self._drive(current) - self.surrogate.leak) / sigma)
        b = self.surrogate.device.fire_position()
        return net / (b + net)

    def sample(self, key, current):
        """A rate-equivalent Bernoulli draw (stateless use); spiking runs use `step`."""
        p = self.mean(current)
        return (jax.random.uniform(key, p.shape, p.dtype) < p).astype(p.dtype)

    def init_state(self, shape):
        """Wall positions at rest, q = 0 [m]."""
        return jnp.zeros(shape)

    def step(self, state, current, key):
        """One step for all neurons: `state` q [m] (negative: refractory). **Returns:**
        `(q_next, spikes)`."""
        sur = self.surrogate
        b = sur.device.fire_position()
        length = sur.device.track.length
        s_in, s_leak = sur._sigmas()
        refractory = state < 0
        q = jnp.maximum(state, 0.0)
        kz, ku = jax.random.split(key)
        z = jax.random.normal(kz, (2,) + q.shape, q.dtype)
        u = jax.random.uniform(ku, (2,) + q.shape, q.dtype)
        mid = jnp.clip(jnp.abs(q + self._drive(current) + s_in * z[0]), 0.0, length)
        end = jnp.clip(jnp.abs(mid - sur.leak + s_leak * z[1]), 0.0, length)

        def bridge(a, c, s):
            return jnp.where((a < b) & (c < b), jnp.exp(-2.0 * (b - a) * (b - c) / s**2), 1.0)

        fired = ((u[0] < bridge(q, mid, s_in)) | (u[1] < bridge(mid, end, s_leak))) \
            & ~refractory
        q_next = jnp.where(refractory, 0.0, jnp.where(fired, -1.0, end))
        return q_next, fired.astype(q.dtype)

    def matched(self, unit_current):
        """Gain so that `unit_current` [A] moves the wall by 1/4 of the way to the read
        region per step (beyond the leak)."""
        sur = self.surrogate
        target = 0.25 * sur.device.fire_position() + sur.leak
        # invert dx_in = v_sat t s / sqrt(1 + s^2) for the device current
        _, widths = sur.device.slots()
        r = jnp.minimum(target / (sur.v_sat * sur.device.input_width), 0.95)
        s = r / jnp.sqrt(1.0 - r**2)
        j = s * sur.v_sat / sur.mobility
        i_dev = j / sur.device.track.current_density(1.0) + sur.device.leak_current
        return eqx.tree_at(lambda n: n.gain, self, jnp.asarray(i_dev / unit_current))
