"""Volatile MTJ synapse: short-term plasticity that turns long-term under frequent stimulation.

The 5a SOT-MTJ stack used as a synapse. A programming pulse of 1 ns too weak to switch the free
layer on its own leaves it excited (short-term potentiation, STP); the excitation relaxes within
~1 ns. Pulses that arrive before it has decayed build on it and switch the layer P -> AP, a
non-volatile change of the junction's conductance (long-term potentiation, LTP). Frequent
stimulation therefore potentiates, the same number of sparse pulses does not.

Physics model: the thermal sLLG macrospin under the pulse train (`SOTMTJNeuron` machinery).
Surrogate: `spinjax.surrogates.LeakySwitchingSigmoid` (a single-pulse sigmoid behind a leaky
integrator with a fitted time constant), from `calibrate_leak`.
"""

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._checks import check_range
from ..surrogates import LeakySwitchingSigmoid, SwitchingSigmoid
from ._sot_mtj import PULSE_START
from .sot_neuron import SOTMTJNeuron


class VolatileMTJSynapse(eqx.Module):
    """An SOT-MTJ synapse programmed by trains of `pulse_amplitude` pulses of `pulse_width`.

    **Arguments:**

    - `cell`: the magnetic stack and read-out, an `SOTMTJNeuron` (its `pulse_width` is the
      programming pulse width; default 1 ns, 1.2 nm CoFe, Delta ≈ 21).
    - `pulse_amplitude`: programming current [A], in (0, 10 mA) (default 20 µA: one 1 ns pulse
      switches a layer at rest with P ≈ 2 %; see the tests).

    **Example:**

    ```python
    syn = VolatileMTJSynapse()
    p, k, n = syn.switching_probability(n_pulses=5, interval=1.5e-9, key=key, n_trials=400)
    ```
    """

    cell: SOTMTJNeuron = SOTMTJNeuron(pulse_width=1e-9, step_time=3e-9)
    pulse_amplitude: Float[Array, ""] = 20e-6

    def __check_init__(self):
        check_range("pulse_amplitude", self.pulse_amplitude, low=0.0, high=10e-3, unit="A")

    def switching_probability(self, n_pulses: int, interval, key, n_trials: int):
        """Monte Carlo P(LTP): the stack ends in AP 1 ns after `n_pulses` pulses every
        `interval` [s] (start to start, >= pulse width + 20 ps), starting at rest in P.

        **Returns:** `(p, k, n)`.
        """
        return self.cell.train_firing_probability(self.pulse_amplitude, n_pulses, interval, key,
                                                  n_trials)

    def conductance(self, m) -> Float[Array, "..."]:
        """Read conductance 1 / R(m) [S] of the junction (zero bias), m of shape (..., 3)."""
        return 1.0 / self.cell.junction.resistance(m)

    def programming_energy(self, n_pulses) -> Float[Array, ""]:
        """Joule energy of `n_pulses` programming pulses in the heavy metal [J]."""
        return n_pulses * self.cell.write_energy(self.pulse_amplitude)

    def pulse_starts(self, n_pulses: int, interval) -> Float[Array, " n"]:
        """Start times [s] of the train used by `switching_probability`."""
        return PULSE_START + interval * jnp.arange(int(n_pulses), dtype=float)


@dataclasses.dataclass(frozen=True)
class LeakCalibration:
    """`LeakySwitchingSigmoid` fitted to Monte Carlo pulse trains, with its data and error.

    `trains`: list of (n_pulses, interval [s]); `k`, `n`: switched counts and trials;
    `rms_error`, `max_error`: |surrogate - Monte Carlo| over the calibration trains.
    """

    surrogate: LeakySwitchingSigmoid
    trains: list
    k: np.ndarray
    n: np.ndarray
    rms_error: float
    max_error: float


def calibrate_leak(synapse: VolatileMTJSynapse, single: SwitchingSigmoid, key, *, trains,
                   n_trials: int = 400) -> LeakCalibration:
    """Fit the leak (`tau_leak`, `carry`) of a `LeakySwitchingSigmoid` to sLLG pulse trains.

    **Arguments:**

    - `synapse`: the device; `single`: its single-pulse surrogate (e.g. from
      `calibrate_neuron(synapse.cell, ...)`), whose `pulse_width` must be the synapse's.
    - `trains`: (n_pulses, interval [s]) pairs to run, each with `n_trials`.

    Maximum likelihood (binomial) on a grid of 24 carries in (0, 1] x 48 leak times from 10 ps
    to 30 ns (log spaced): robust, and the likelihood is cheap next to the Monte Carlo.

    **Returns:** a `LeakCalibration`.
    """
    trains = [(int(n), float(dt)) for n, dt in trains]
    counts = [synapse.switching_probability(n, dt, jax.random.fold_in(key, i), n_trials)[1]
              for i, (n, dt) in enumerate(trains)]
    k = np.asarray(counts, float)
    n = np.full(len(trains), float(n_trials))
    amp = synapse.pulse_amplitude

    @jax.jit
    def predicted(carry, tau):
        model = LeakySwitchingSigmoid(single, tau, carry)
        return jnp.stack([model.probability(jnp.full(n_p, amp), synapse.pulse_starts(n_p, dt))
                          for n_p, dt in trains])

    carries = np.linspace(1.0 / 24, 1.0, 24)
    taus = np.geomspace(1e-11, 3e-8, 48)
    grid_c, grid_t = (a.ravel() for a in np.meshgrid(carries, taus, indexing="ij"))
    p = np.clip(np.asarray(jax.vmap(predicted)(jnp.asarray(grid_c), jnp.asarray(grid_t))),
                1e-12, 1 - 1e-12)
    nll = -np.sum(k * np.log(p) + (n - k) * np.log1p(-p), axis=1)
    best = int(np.argmin(nll))
    surrogate = LeakySwitchingSigmoid(single, jnp.asarray(grid_t[best]),
                                      jnp.asarray(grid_c[best]))
    resid = p[best] - k / n
    return LeakCalibration(surrogate=surrogate, trains=trains, k=k, n=n,
                           rms_error=float(np.sqrt(np.mean(resid**2))),
                           max_error=float(np.max(np.abs(resid))))
