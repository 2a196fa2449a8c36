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
