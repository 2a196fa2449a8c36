"""Joint optimisation of crossbar weights and device parameters for accuracy and energy.

A `CoDesign` holds a crossbar network (`CrossbarNet`, its weights the usual trainable leaves)
and a set of **device parameters** as trainable leaves kept inside their physical or
calibrated ranges by a sigmoid reparametrisation: a parameter p in [lo, hi] is stored as an
unconstrained z with

    p = lo + (hi - lo) sigmoid(z),

so any Optax update of z leaves p inside the range (gradients vanish smoothly at the ends).
The device parameters (`PARAMETER_RANGES`):

- `thickness`: SOT-MTJ free layer t_FL [m] -> barrier, i50 and sigmoid steepness
  (`SOTNeuronFamily`); range: the family's calibrated 0.8–1.5 nm;
- `pulse_width`: SOT-MTJ write pulse t_PW [s] -> i50, steepness, write energy and the
  crossbar read time; range: the family's calibrated 0.2–1 ns;
- `read_voltage`: crossbar input voltage dV [V] of every layer; 10–100 mV (physics.md 5b/6);
- `length`: IRMEN magnet length [m] -> barrier, thermal noise, read energy; 17–60 nm (5d).

The circuits around the devices stay as built for the default devices (1.2 nm, 0.5 ns,
dV = 50 mV, 60 nm): the neurons' input stages (`gain`, `bias_fraction`,
`input_resistance`) are matched once to the default design (`CrossbarDense`'s
`neuron.matched`) and then held fixed, so a lower dV means a smaller signal at the neuron,
not a free rescaling. The SOT-MTJ neuron's bias current stays `bias_fraction` x its *own*
i50 (the bias circuit is trimmed to the device).

**Inference and energy.** A network of SOT-MTJ neurons runs stochastically over T =
`n_steps` time steps (`CrossbarNet.run` with the analog input held on the rows, every neuron
sampled every step, the output currents integrated over T); an IRMEN network is evaluated once
(T = 1) with sampled thermal noise. The energy per inference is T times the expected energy
of one step (`CoDesign.energy_per_inference`, evaluated with the relaxed, expected activity):

- every crossbar read, `CrossbarArray.energy` (Joule heat sum G (V_i - V_j)^2 t plus the
  row-wire C V^2), bias row included; for the arrays driven by spikes of the previous
  layer (Bernoulli with probability p) the exact expectation of this quadratic form,
  E(p) + sum_i p_i (1 - p_i) A_ii (A_ii the form's diagonal); with an SOT-MTJ neuron the
  array is read for the write pulse, `read_time` = t_PW (the column current *is* the write
  current);
- every SOT-MTJ neuron: write I_dev^2 R_HM t_PW with its actual current (bias + mirrored
  column current; trapezoid pulse, `SOTNeuronFamily.write_energy`), one divider read
  (`SOTMTJNeuron.read_energy`, 27 aJ) and, with probability P(spike), the reset
  I_reset^2 R_HM t_reset (1 ns). `reset="fixed"`: the 5a reset current 150 µA for every
  design; `reset="overdrive"` (default): the reset keeps the 5a overdrive over the reverse
  switching threshold, I_reset = 150 µA x i50(t_FL, 1 ns) / i50(1.2 nm, 1 ns) (a thinner,
  easier-to-switch layer also resets with less current);
- every IRMEN neuron: `IRMENCell.evaluation_energy` (C V^2 write, IREE read, OTA output).

The mirrors, bias and OTA circuits and the output comparator are not included.

**Loss.** cross-entropy(relaxed logits) + lam x energy_per_inference / energy_reference.
`cooptimize` minimises it with Optax (weights and, with `train_devices`, the device z's);
a sweep over lam gives the accuracy–energy trade-off (`pareto_front`, `compare_fronts`).
"""

import functools
import math
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float

from .._checks import check_range
from ..surrogates import SwitchingSigmoid
from .activations import IRMENNeuron, StochasticMTJNeuron
from .layers import CrossbarDense
from .models import CrossbarNet
from .train import _check_data, clip_weights, cross_entropy, trainable_filter

PARAMETER_RANGES = {
    "thickness": (0.8e-9, 1.5e-9, "m"),
    "pulse_width": (0.2e-9, 1.0e-9, "s"),
    "read_voltage": (0.01, 0.1, "V"),
    "length": (17e-9, 60e-9, "m"),
}
"""Allowed range (low, high, unit) of each co-optimisable device parameter (closed)."""

DEFAULT_DEVICES = {"thickness": 1.2e-9, "pulse_width": 0.5e-9, "read_voltage": 0.05,
                   "length": 60e-9}
"""The default devices of physics.md (5a: 1.2 nm, 0.5 ns; 6: dV = 50 mV; 5d: 60 nm)."""

RESET_CURRENT = 150e-6
"""5a reset current [A] at the default 1.2 nm free layer."""

RESET_WIDTH = 1e-9
"""Reset pulse width [s] (`SOTMTJNeuron.reset_width`)."""

_Z_EDGE = 8.0  # a parameter exactly at a range end is stored at sigmoid(+-8): 3e-4 inside


class DeviceParameters(eqx.Module):
    """Device parameters as unconstrained trainable leaves z, p = lo + (hi - lo) sigmoid(z).

    Build with `DeviceParameters.create(thickness=..., ...)` (physical values, checked
    against `ranges`); read with `values()` or `value(name)`.

    **Arguments:**

    - `z`: dict name -> unconstrained scalar (the trainable leaves).
    - `ranges` (static): tuple of (name, low, high, unit).
    """

    z: dict
    ranges: tuple = eqx.field(static=True)

    @classmethod
    def create(cls, ranges=None, **values) -> "DeviceParameters":
        """Device parameters from physical values.

        **Arguments:**

        - `ranges`: dict name -> (low, high, unit) (default `PARAMETER_RANGES`; the
          thickness and pulse-width ranges should be the `SOTNeuronFamily`'s calibrated box).
        - `**values`: the physical value of each parameter (SI units), inside its closed
          range; a value exactly at an end is stored 3e-4 of the range inside it.

        **Returns:** `DeviceParameters`. Raises `ValueError` naming the parameter and its
        range for a value outside, or for an unknown name.
        """
        ranges = dict(PARAMETER_RANGES if ranges is None else ranges)
        z, kept = {}, []
        for name, value in values.items():
            if name not in ranges:
                raise ValueError(f"unknown device parameter {name!r}; allowed: "
                                 f"{', '.join(sorted(ranges))}")
            lo, hi, unit = ranges[name]
            check_range(name, value, low=lo, high=hi, low_inclusive=True, high_inclusive=True,
                        unit=unit)
            u = (float(value) - lo) / (hi - lo)
            z[name] = jnp.asarray(float(np.clip(math.log(max(u, 1e-300))
                                                - math.log(max(1.0 - u, 1e-300)),
                                                -_Z_EDGE, _Z_EDGE)), float)
            kept.append((name, float(lo), float(hi), unit))
        return cls(z=z, ranges=tuple(kept))

    def names(self) -> tuple:
        """The parameter names, in order."""
        return tuple(r[0] for r in self.ranges)

    def value(self, name: str) -> Float[Array, ""]:
        """Physical value of parameter `name` (SI units)."""
        for n, lo, hi, _ in self.ranges:
            if n == name:
                return lo + (hi - lo) * jax.nn.sigmoid(self.z[name])
        raise ValueError(f"no device parameter {name!r}; this set has {self.names()}")

    def values(self) -> dict:
        """dict name -> physical value (SI units)."""
        return {n: self.value(n) for n in self.names()}


@functools.lru_cache(maxsize=None)
def _sot_constants():
    from ..devices.sot_neuron import SOTMTJNeuron
    with jax.ensure_compile_time_eval():  # may be first called inside a jit trace
        n = SOTMTJNeuron()
        return float(n.read_energy()), float(n.reset_energy())


class CoDesign(eqx.Module):
    """A crossbar network together with trainable device parameters (module docstring).

    **Arguments:**

    - `net`: a `CrossbarNet` of `CrossbarDense` layers whose hidden neurons are all
      `StochasticMTJNeuron`s built `from_family` (SOT-MTJ), or all `IRMENNeuron`s; built for
      the default devices (its neurons matched to its arrays).
    - `devices`: `DeviceParameters` with the parameters that apply ("thickness",
      "pulse_width", "read_voltage" for SOT-MTJ; "length", "read_voltage" for IRMEN). A
      parameter that is absent keeps the value in `net`.
    - `n_steps` (static): time steps T per inference (SOT-MTJ nets; IRMEN: 1).
    - `reset` (static): `"overdrive"` or `"fixed"` (see the module docstring).

    Build one with `CoDesign.create(net, ...)`.

    **Example:**

    ```python
    net = mlp((64, 32, 10), key=k, neuron=StochasticMTJNeuron.from_family(), input_shape=(8, 8))
    model = CoDesign.create(net, n_steps=8)             # defaults: 1.2 nm, 0.5 ns, 50 mV
    e = model.energy_per_inference(x)                   # [J] per image
    model, hist = cooptimize(model, x, y, key=k, lam=1.0, energy_reference=e.mean())
    ```
    """

    net: CrossbarNet
    devices: DeviceParameters
    n_steps: int = eqx.field(static=True, default=8)
    reset: str = eqx.field(static=True, default="overdrive")

    def __check_init__(self):
        if self.reset not in ("overdrive", "fixed"):
            raise ValueError(f"reset = {self.reset!r}; allowed: 'overdrive', 'fixed'")
        if not (isinstance(self.n_steps, int) and self.n_steps >= 1):
            raise ValueError(f"n_steps = {self.n_steps!r} must be a positive integer")
        kinds = set()
        for layer in self.net.layers:
            if not isinstance(layer, CrossbarDense):
                raise ValueError("CoDesign supports CrossbarDense layers only (an MLP); got "
                                 f"{type(layer).__name__}")
            if layer.neuron is not None:
                kinds.add(type(layer.neuron))
        if len(kinds) > 1 or not kinds <= {StochasticMTJNeuron, IRMENNeuron}:
            raise ValueError("the hidden neurons must all be StochasticMTJNeuron or all "
                             f"IRMENNeuron; got {sorted(k.__name__ for k in kinds)}")
        if kinds == {StochasticMTJNeuron}:
            for layer in self.net.layers[:-1]:
                if layer.neuron.family is None:
                    raise ValueError("StochasticMTJNeuron must be built from_family (its "
                                     "thickness and pulse width are device parameters)")
        allowed = {"read_voltage"} | ({"thickness", "pulse_width"} if self.is_mtj
                                      else {"length"})
        extra = set(self.devices.names()) - allowed
        if extra:
            raise ValueError(f"device parameters {sorted(extra)} do not apply to this network; "
                             f"allowed: {sorted(allowed)}")

    @classmethod
    def create(cls, net: CrossbarNet, *, n_steps: int = 8, reset: str = "overdrive",
               parameters=None, ranges=None, **values) -> "CoDesign":
        """Wrap `net` with device parameters.

        **Arguments:**

        - `net`: see the class.
        - `n_steps`, `reset`: see the class.
        - `parameters`: names to make trainable (default: all that apply to `net`).
        - `ranges`: as `DeviceParameters.create`; by default the SOT-MTJ ranges are those of
          the network's `SOTNeuronFamily`.
        - `**values`: starting values [SI] (default `DEFAULT_DEVICES`).

        **Returns:** a `CoDesign` whose `network()` equals `net` with the devices substituted.
        """
        mtj = any(isinstance(layer.neuron, StochasticMTJNeuron) for layer in net.layers)
        names = (("thickness", "pulse_width", "read_voltage") if mtj
                 else ("length", "read_voltage")) if parameters is None else tuple(parameters)
        rng = dict(PARAMETER_RANGES)
        if mtj:
            fam = next(layer.neuron.family for layer in net.layers if layer.neuron is not None)
            if fam is not None:
                rng["thickness"] = tuple(fam.thickness_range) + ("m",)
                rng["pulse_width"] = tuple(fam.pulse_width_range) + ("s",)
        if ranges is not None:
            rng.update(ranges)
        start = {n: values.get(n, DEFAULT_DEVICES.get(n)) for n in names}
        unknown = set(values) - set(names)
        if unknown:
            raise ValueError(f"values given for {sorted(unknown)}, which are not among the "
                             f"co-optimised parameters {names}")
        net = _float_leaves(net)
        return cls(net=net, devices=DeviceParameters.create(rng, **start),
                   n_steps=1 if not mtj else n_steps, reset=reset)

    @property
    def is_mtj(self) -> bool:
        """True for SOT-MTJ hidden neurons (False: IRMEN)."""
        return any(isinstance(layer.neuron, StochasticMTJNeuron) for layer in self.net.layers)

    def network(self) -> CrossbarNet:
        """The `CrossbarNet` with the device parameters substituted into every layer."""
        v = self.devices.values()
        net = self.net
        for i, layer in enumerate(net.layers):
            if "read_voltage" in v:
                net = eqx.tree_at(lambda m, i=i: m.layers[i].crossbar.read_voltage, net,
                                  v["read_voltage"])
            if self.is_mtj:
                pw = v.get("pulse_width", _first_neuron(net).pulse_width)
                net = eqx.tree_at(lambda m, i=i: m.layers[i].crossbar.read_time, net, pw)
            if layer.neuron is None:
                continue
            if isinstance(layer.neuron, StochasticMTJNeuron):
                net = eqx.tree_at(lambda m, i=i: m.layers[i].neuron.family, net,
                                  _Curves(layer.neuron.family))
            for name in ("thickness", "pulse_width", "length"):
                if name in v:
                    net = eqx.tree_at(lambda m, i=i, n=name: getattr(m.layers[i].neuron, n),
                                      net, v[name])
        return net

    def barrier(self) -> Float[Array, ""]:
        """Thermal stability E_B / (k_B T) of the SOT-MTJ free layer at the current thickness
        (`SOTNeuronFamily.barrier`)."""
        return _first_neuron(self.net).family.barrier(self.devices.value("thickness"))

    # --- evaluation ---------------------------------------------------------------------
    def logits(self, x, *, key=None, chip_key=None) -> Float[Array, "... n_classes"]:
        """Relaxed (expected) logits of images x (..., *input_shape) (training; the T -> inf
        limit of the stochastic run). `key` / `chip_key`: read noise / variation."""
        return self.network()(x, key=key, chip_key=chip_key)

    def sample_logits(self, x, key, *, chip_key=None) -> Float[Array, "... n_classes"]:
        """One stochastic inference: SOT-MTJ nets run T = `n_steps` steps with the analog
        input held and every neuron sampled each step; IRMEN nets one read with thermal noise.
        """
        net = self.network()
        if self.is_mtj:
            return net.run(x, key, self.n_steps, chip_key=chip_key, rate_coded=False)
        return net(x, key=key, chip_key=chip_key, stochastic=True)

    def with_steps(self, n_steps: int) -> "CoDesign":
        """A copy running T = `n_steps` time steps per inference (SOT-MTJ nets)."""
        return CoDesign(self.net, self.devices, n_steps=n_steps, reset=self.reset)

    def energy_terms(self, x, *, conductances=None) -> dict:
        """Expected energy of one inference [J] per image x (..., *input_shape), by term:
        `crossbar` (every array's reads), and for SOT-MTJ neurons `write`, `read`, `reset`,
        for IRMEN neurons `irmen` (write + read + output); each T x the per-step value (see
        the module docstring). **Returns:** dict name -> array of shape (...)."""
        return _energy_terms(self, x, conductances)

    def _energy_terms(self, x, conductances):
        net = self.network()
        y = net._prepare(x)
        nb = y.ndim - 1
        if conductances is None:
            conductances = net.conductances()
        read_e, reset_e = _sot_constants()
        terms = {"crossbar": 0.0}
        terms.update({"write": 0.0, "read": 0.0, "reset": 0.0} if self.is_mtj
                     else {"irmen": 0.0})
        var = None  # variance of this layer's inputs (spikes of the previous layer)

        def per_image(e):
            return jnp.sum(e, axis=tuple(range(nb, e.ndim)))

        for i, layer in enumerate(net.layers):
            g = conductances[i]
            xb = layer.crossbar
            ones = jnp.ones(y.shape[:-1] + (1,), y.dtype)
            e = xb.energy(g, jnp.concatenate([y, ones], axis=-1))
            if var is not None:
                e = e + var @ _energy_diagonal(xb, g)
            terms["crossbar"] = terms["crossbar"] + e
            neuron = layer.neuron
            if neuron is None:
                break
            cur = layer.currents(y, conductances=g)
            if isinstance(neuron, StochasticMTJNeuron):
                fam = neuron.family
                p = neuron.mean(cur)
                i_dev = jnp.abs(neuron.device_current(cur))
                e_reset = reset_e
                if self.reset == "overdrive":
                    ratio = fam.i50(neuron.thickness, RESET_WIDTH) / fam.i50(
                        DEFAULT_DEVICES["thickness"], RESET_WIDTH)
                    e_reset = reset_e * ratio**2
                terms["write"] = terms["write"] + per_image(
                    fam.write_energy(i_dev, neuron.pulse_width))
                terms["read"] = terms["read"] + read_e * math.prod(p.shape[nb:])
                terms["reset"] = terms["reset"] + per_image(p * e_reset)
                var = p * (1.0 - p)
                y = p
            else:
                terms["irmen"] = terms["irmen"] + per_image(neuron.energy(cur))
                y = neuron.mean(cur)
                var = None
        lead = y.shape[:nb]
        return {k: self.n_steps * jnp.broadcast_to(v, lead) for k, v in terms.items()}

    def energy_per_inference(self, x, *, conductances=None) -> Float[Array, "..."]:
        """Expected energy of one inference [J] per image x (..., *input_shape): the sum of
        `energy_terms` (T x (crossbar reads + neuron write/read/reset or IRMEN evaluation))."""
        return sum(self.energy_terms(x, conductances=conductances).values())

    def loss(self, x, y, lam, energy_reference, *, key=None, chip_key=None):
        """cross-entropy(relaxed logits, y) + lam x mean energy per inference /
        energy_reference. **Returns:** `(loss, (accuracy, mean energy [J]))`."""
        logits = self.logits(x, key=key, chip_key=chip_key)
        energy = jnp.mean(self.energy_per_inference(x))
        loss = cross_entropy(logits, y) + lam * energy / energy_reference
        return loss, (jnp.mean(jnp.argmax(logits, -1) == y), energy)


class _Curves(eqx.Module):
    """The switching curves of a `SOTNeuronFamily` without the barrier: `sigmoid` leaves
    `barrier_kT` at 0 (it is informational; P(I) does not use it), which keeps the macrospin
    barrier computation out of every compiled training step (~3 s of compile each). Use
    `CoDesign.barrier()` for the barrier."""

    family: object

    @property
    def thickness_range(self):
        return self.family.thickness_range

    @property
    def pulse_width_range(self):
        return self.family.pulse_width_range

    def i50(self, thickness, pulse_width):
        return self.family.i50(thickness, pulse_width)

    def log_width(self, thickness, pulse_width):
        return self.family.log_width(thickness, pulse_width)

    def probability(self, current, thickness, pulse_width):
        return self.family.probability(current, thickness, pulse_width)

    def write_energy(self, current, pulse_width):
        return self.family.write_energy(current, pulse_width)

    def barrier(self, thickness):
        return self.family.barrier(thickness)

    def sigmoid(self, thickness, pulse_width) -> SwitchingSigmoid:
        return SwitchingSigmoid(i50=self.i50(thickness, pulse_width),
                                log_width=self.log_width(thickness, pulse_width),
                                pulse_width=jnp.asarray(pulse_width, float))


@eqx.filter_jit
def _energy_terms(model, x, conductances):
    # compiled: op-by-op evaluation of the device models takes seconds
    return model._energy_terms(x, conductances)


def _first_neuron(net):
    return next(layer.neuron for layer in net.layers if layer.neuron is not None)


def _float_leaves(net):
    """Python-float leaves that become device parameters -> arrays (so tree_at can place
    traced values and gradients reach them)."""
    def fix(v):
        return jnp.asarray(v, float) if isinstance(v, (float, int)) else v
    for i in range(len(net.layers)):
        for where in (lambda m, i=i: m.layers[i].crossbar.read_voltage,
                      lambda m, i=i: m.layers[i].crossbar.read_time):
            net = eqx.tree_at(where, net, replace_fn=fix)
        if net.layers[i].neuron is not None:
            for name in ("thickness", "pulse_width", "length"):
                if hasattr(net.layers[i].neuron, name):
                    net = eqx.tree_at(lambda m, i=i, n=name: getattr(m.layers[i].neuron, n),
                                      net, replace_fn=fix)
    return net


def _energy_diagonal(crossbar, g) -> Float[Array, " n_in"]:
    """Diagonal A_ii of the read energy as a quadratic form in the inputs x_i (bias row held
    at 1): (E(e_i) + E(-e_i) - 2 E(0)) / 2, exact for the quadratic `CrossbarArray.energy`."""
    n_in = g.plus.shape[0] - 1
    eye = jnp.eye(n_in, dtype=g.plus.dtype)
    ones = jnp.ones((n_in, 1), g.plus.dtype)
    e_plus = crossbar.energy(g, jnp.concatenate([eye, ones], axis=1))
    e_minus = crossbar.energy(g, jnp.concatenate([-eye, ones], axis=1))
    e0 = crossbar.energy(g, jnp.concatenate([jnp.zeros(n_in), jnp.ones(1)]))
    return 0.5 * (e_plus + e_minus) - e0


# --- training ---------------------------------------------------------------------------------

def _spec(model: CoDesign):
    spec = jax.tree.map(lambda _: False, model)
    spec = eqx.tree_at(lambda m: m.net, spec, trainable_filter(model.net))
    return eqx.tree_at(lambda m: m.devices.z, spec, {k: True for k in model.devices.z})


# Adam with unit rate; the per-group rates (weights, device z) multiply its updates inside the
# step as traced scalars, so one compiled step serves every lambda, rate and `train_devices`.
_ADAM = optax.adam(1.0)


@eqx.filter_jit
def _step(params, static, spec, opt_state, xb, yb, k, lam, e_ref, lr_w, lr_d, noise):
    def loss_fn(p):
        m = eqx.combine(p, static)
        k_chip, k_read = jax.random.split(k)
        return m.loss(xb, yb, lam, e_ref, key=k_read if noise else None,
                      chip_key=k_chip if noise else None)

    (loss, (acc, energy)), grads = eqx.filter_value_and_grad(loss_fn, has_aux=True)(params)
    updates, opt_state = _ADAM.update(grads, opt_state, params)
    updates = eqx.tree_at(lambda m: m.net, updates,
                          replace_fn=lambda u: jax.tree.map(lambda a: lr_w * a, u))
    updates = eqx.tree_at(lambda m: m.devices.z, updates,
                          replace_fn=lambda u: jax.tree.map(lambda a: lr_d * a, u))
    params = eqx.apply_updates(params, updates)
    m = eqx.combine(params, static)
    m = eqx.tree_at(lambda c: c.net, m, clip_weights(m.net))
    return eqx.filter(m, spec), opt_state, loss, acc, energy


def cooptimize(model: CoDesign, x, y, *, key, lam: float, energy_reference,
               epochs: int = 10, batch_size: int = 64, learning_rate: float = 1e-2,
               device_learning_rate: float = 5e-2, train_devices: bool = True,
               noise: bool = False, progress: bool = False):
    """Minimise cross-entropy + lam x energy per inference / energy_reference with Adam.

    **Arguments:**

    - `model`: a `CoDesign`.
    - `x`, `y`: training images (n, *input_shape) in [0, 1] and labels (n,).
    - `key`: PRNG key (shuffling; chips and read noise with `noise`).
    - `lam`: energy weight lambda, >= 0 (dimensionless).
    - `energy_reference`: energy [J] that normalises the energy term, > 0 (e.g. the default
      design's energy per inference; use the same value for every run that is compared).
    - `epochs`, `batch_size`: positive ints.
    - `learning_rate`: Adam rate of the weights, > 0; `device_learning_rate`: Adam rate of the
      device parameters' unconstrained z, >= 0.
    - `train_devices`: False keeps the devices fixed (only weights train: the default-device
      baseline).
    - `noise`: a new chip (variation) and read noise every step (when the arrays have them).
    - `progress`: tqdm bar.

    **Returns:** `(model, history)`, history with per-epoch `loss`, `train_accuracy`,
    `energy` [J] (mean per inference), `devices` (physical values) and `seconds`.
    """
    check_range("lam", lam, low=0.0, low_inclusive=True)
    check_range("energy_reference", energy_reference, low=0.0, unit="J")
    check_range("learning_rate", learning_rate, low=0.0)
    check_range("device_learning_rate", device_learning_rate, low=0.0, low_inclusive=True)
    x, y = _check_data(x, y, model.net)
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if not (isinstance(value, int) and value >= 1):
            raise ValueError(f"{name} = {value!r} must be a positive integer")
    if batch_size > len(x):
        raise ValueError(f"batch_size = {batch_size} is outside the allowed range "
                         f"[1, {len(x)}] (the number of training images)")
    spec = _spec(model)
    params, static = eqx.partition(model, spec)
    opt_state = _ADAM.init(params)
    lr_w = jnp.asarray(learning_rate, float)
    lr_d = jnp.asarray(device_learning_rate if train_devices else 0.0, float)
    lam_a = jnp.asarray(lam, float)
    e_ref = jnp.asarray(energy_reference, float)
    n_batches = len(x) // batch_size
    rng = np.random.default_rng(int(jax.random.randint(key, (), 0, 2**31 - 1)))
    hist = {"loss": [], "train_accuracy": [], "energy": [], "devices": [], "seconds": []}
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=epochs * n_batches, desc=f"co-opt lam={lam:g}", leave=False)
    for epoch in range(epochs):
        t0 = time.perf_counter()
        order = rng.permutation(len(x))
        ls, accs, es = [], [], []
        for b in range(n_batches):
            idx = order[b * batch_size:(b + 1) * batch_size]
            k = jax.random.fold_in(key, epoch * n_batches + b)
            params, opt_state, loss, acc, energy = _step(
                params, static, spec, opt_state, x[idx], y[idx], k, lam_a, e_ref, lr_w, lr_d,
                bool(noise))
            ls.append(float(loss))
            accs.append(float(acc))
            es.append(float(energy))
            if bar is not None:
                bar.update(1)
        m = eqx.combine(params, static)
        hist["loss"].append(float(np.mean(ls)))
        hist["train_accuracy"].append(float(np.mean(accs)))
        hist["energy"].append(float(np.mean(es)))
        hist["devices"].append({k: float(v) for k, v in m.devices.values().items()})
        hist["seconds"].append(time.perf_counter() - t0)
    if bar is not None:
        bar.close()
    return eqx.combine(params, static), hist


# --- evaluation -------------------------------------------------------------------------------

@eqx.filter_jit
def _eval_batch(model, xb, yb, k, relaxed):
    logits = model.logits(xb) if relaxed else model.sample_logits(xb, k)
    return (jnp.sum(jnp.argmax(logits, -1) == yb),
            jnp.sum(model.energy_per_inference(xb)))


def evaluate_codesign(model: CoDesign, x, y, *, key=None, batch_size: int = 500) -> dict:
    """Held-out accuracy and energy per inference of `model`.

    **Arguments:** `x`, `y` test images and labels; `key`: PRNG key of the stochastic
    inference (None: the relaxed, expected network instead); `batch_size`: images per call.

    **Returns:** dict with `accuracy` (stochastic with `key`, else relaxed), `energy` [J]
    (mean expected energy per inference), `n_steps`, `devices` (physical values, SI).
    """
    x, y = _check_data(x, y, model.net)
    correct, energy = 0.0, 0.0
    for b in range(0, len(x), batch_size):
        k = jax.random.fold_in(key, b) if key is not None else jax.random.key(0)
        c, e = _eval_batch(model, x[b:b + batch_size], y[b:b + batch_size], k, key is None)
        correct += float(c)
        energy += float(e)
    return {"accuracy": correct / len(x), "energy": energy / len(x),
            "n_steps": model.n_steps,
            "devices": {k: float(v) for k, v in model.devices.values().items()}}


def pareto_front(energies, accuracies) -> np.ndarray:
    """Indices of the non-dominated points (no other point has lower-or-equal energy and
    higher-or-equal accuracy, one strictly), sorted by increasing energy."""
    e = np.asarray(energies, float)
    a = np.asarray(accuracies, float)
    keep = []
    for i in range(len(e)):
        dominated = np.any((e <= e[i]) & (a >= a[i]) & ((e < e[i]) | (a > a[i])))
        if not dominated:
            keep.append(i)
    keep = np.asarray(keep, int)
    return keep[np.argsort(e[keep], kind="stable")]


def compare_fronts(reference, candidate) -> list:
    """Compare two sets of (energy [J], accuracy) points point by point.

    For each `reference` point: `energy_ratio`, the least candidate energy reaching at least
    its accuracy divided by its energy (< 1: the candidate is cheaper at equal accuracy; None
    if no candidate reaches it), and `accuracy_gain`, the best candidate accuracy at no more
    than its energy minus its accuracy (None if every candidate costs more).

    **Arguments:** `reference`, `candidate`: sequences of (energy, accuracy).

    **Returns:** list of dicts (energy, accuracy, energy_ratio, accuracy_gain).
    """
    cand = np.asarray(candidate, float).reshape(-1, 2)
    out = []
    for e, a in np.asarray(reference, float).reshape(-1, 2):
        reach = cand[cand[:, 1] >= a]
        cheap = cand[cand[:, 0] <= e]
        out.append({"energy": float(e), "accuracy": float(a),
                    "energy_ratio": float(reach[:, 0].min() / e) if len(reach) else None,
                    "accuracy_gain": float(cheap[:, 1].max() - a) if len(cheap) else None})
    return out
