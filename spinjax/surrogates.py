"""Behavioural (surrogate) models of switching devices, fitted from Monte Carlo sweeps."""

import json
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._checks import check_range


class SwitchingSigmoid(eqx.Module):
    """Switching probability of a pulse of current I: P(I) = 1 / (1 + exp(-(I - i50) / width)).

    The fast neuron surrogate that network code uses in place of the sLLG solve.

    **Arguments:**

    - `i50`: current of 50 % switching probability [A].
    - `width`: logistic scale [A], > 0 (P goes from 12 % to 88 % over 4 widths).
    - `pulse_width`: the write pulse it was calibrated for [s].
    - `barrier_kT`: the thermal stability it was calibrated for (dimensionless).
    """

    i50: Float[Array, ""]
    width: Float[Array, ""]
    pulse_width: Float[Array, ""] = 0.0
    barrier_kT: Float[Array, ""] = 0.0

    def __check_init__(self):
        check_range("i50", self.i50, unit="A")
        check_range("width", self.width, low=0.0, unit="A")

    def probability(self, current) -> Float[Array, "..."]:
        """P_sw for write current(s) `current` [A]."""
        return jax.nn.sigmoid((current - self.i50) / self.width)

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
            i50=e["i50_uA"] * 1e-6, width=e["width_uA"] * 1e-6,
            pulse_width=e["pulse_ns"] * 1e-9, barrier_kT=e["delta"])
        for e in entries
    }
