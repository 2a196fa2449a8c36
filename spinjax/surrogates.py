"""Behavioural (surrogate) models of switching devices, fitted from Monte Carlo sweeps."""

import json
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._checks import check_range


class SwitchingSigmoid(eqx.Module):
    """Switching probability of a write pulse of current I, a logistic in ln I:

        P(I) = 1 / (1 + exp(-(ln I - ln i50) / log_width)) = 1 / (1 + (i50 / I)^(1/log_width)).

    The fast neuron surrogate that network code uses in place of the sLLG solve. On the
    default sweep it fits the Monte Carlo curves far better than a logistic in I (deviance
    16–76 against 60–600 for 14 degrees of freedom), because the curves are skewed toward high
    currents. P = 0 for I <= 0.

    **Arguments:**

    - `i50`: current of 50 % switching probability [A], > 0.
    - `log_width`: logistic scale in ln I (dimensionless), > 0; the slope at i50 equals that of
      a logistic in I of width `i50 * log_width` [A].
    - `pulse_width`: the write pulse it was calibrated for [s].
    - `barrier_kT`: the thermal stability it was calibrated for (dimensionless).
    """

    i50: Float[Array, ""]
    log_width: Float[Array, ""]
    pulse_width: Float[Array, ""] = 0.0
    barrier_kT: Float[Array, ""] = 0.0

    def __check_init__(self):
        check_range("i50", self.i50, low=0.0, unit="A")
        check_range("log_width", self.log_width, low=0.0)

    @property
    def width(self) -> Float[Array, ""]:
        """Slope-equivalent linear width i50 * log_width [A]."""
        return self.i50 * self.log_width

    def probability(self, current) -> Float[Array, "..."]:
        """P_sw for write current(s) `current` [A]."""
        current = jnp.asarray(current)
        positive = current > 0
        safe = jnp.where(positive, current, self.i50)
        p = jax.nn.sigmoid((jnp.log(safe) - jnp.log(self.i50)) / self.log_width)
        return jnp.where(positive, p, 0.0)

    def sample(self, key, current) -> Array:
        """Bernoulli switching events (bool) for `current` [A], one per element."""
        current = jnp.asarray(current)
        return jax.random.uniform(key, current.shape) < self.probability(current)


def load_models(path) -> dict[tuple[float, float], SwitchingSigmoid]:
    """Read `models.json` written by `spinjax sweep`.

    **Returns:** `{(barrier_kT, pulse_ns): SwitchingSigmoid}`.
    """
    entries = json.loads(Path(path).read_text())["models"]
    return {
        (float(e["barrier_kT"]), float(e["pulse_ns"])): SwitchingSigmoid(
            i50=e["i50_uA"] * 1e-6, log_width=e["log_width"],
            pulse_width=e["pulse_ns"] * 1e-9, barrier_kT=e["delta"])
        for e in entries
    }


class LeakySwitchingSigmoid(eqx.Module):
    """Switching probability of a train of write pulses on a magnet that relaxes between them.

    A leaky integrator in front of the single-pulse `SwitchingSigmoid`: pulse k (amplitude
    I_k [A], start t_k [s], width t_pw = `single.pulse_width`) acts with the effective current

        I_eff,k = I_k + carry * sum_{j<k} I_j exp(-(t_k - t_j - t_pw) / tau_leak),

    i.e. a fraction `carry` of an earlier pulse's excitation is still there when the next
    pulse starts right after it, and it decays with `tau_leak` (of the order of the magnet's
    relaxation time) over the gap between them. The train switches with probability
    P = 1 - prod_k (1 - P_single(I_eff,k)): independent trials for pulses far apart. Fitted
    to sLLG Monte Carlo by `spinjax.devices.calibrate_leak`; differentiable in all leaves.

    **Arguments:** `single`: the single-pulse `SwitchingSigmoid` (with its `pulse_width`);
    `tau_leak` [s], > 0; `carry`: dimensionless, in (0, 1].
    """

    single: SwitchingSigmoid
    tau_leak: Float[Array, ""]
    carry: Float[Array, ""] = 1.0

    def __check_init__(self):
        check_range("tau_leak", self.tau_leak, low=0.0, unit="s")
        check_range("carry", self.carry, low=0.0, high=1.0, high_inclusive=True)

    def probability(self, amplitudes, starts) -> Float[Array, ""]:
        """P(switched after the train) for pulses `amplitudes` [A] starting at `starts` [s]
        (1-D arrays of equal length)."""
        amplitudes = jnp.asarray(amplitudes)
        starts = jnp.asarray(starts)
        lag = starts[:, None] - starts[None, :]  # t_k - t_j
        gap = jnp.maximum(lag - self.single.pulse_width, 0.0)
        weight = jnp.where(lag > 0, self.carry * jnp.exp(-gap / self.tau_leak), 0.0)
        i_eff = amplitudes + weight @ amplitudes
        return 1.0 - jnp.prod(1.0 - self.single.probability(i_eff))
