"""Time-dependent drives: constant values, current pulses and pulse trains.

A waveform is an `eqx.Module` called as `waveform(t)` with `t` in seconds; it returns the drive
in its own unit (amperes for currents). Amplitudes, start times and widths are float leaves, so
they can be batched and differentiated: pulse edges are linear ramps of `rise_time`, which keeps
the drive (and every trajectory) a continuous function of the width and start.
"""

import abc

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._checks import check_finite, check_range, is_concrete

DEFAULT_RISE_TIME = 10e-12
"""Default 0–100 % edge time of a pulse [s] (10 ps), resolved by a 0.1 ps time step."""


def _ramp(x):
    return jnp.clip(x + 0.5, 0.0, 1.0)


class AbstractWaveform(eqx.Module):
    """A drive `f(t)`, `t` in seconds."""

    @abc.abstractmethod
    def __call__(self, t) -> Float[Array, ""]:
        """Value of the drive at time `t` [s]."""

    @abc.abstractmethod
    def max_abs(self) -> Float[Array, ""]:
        """Largest |f(t)| over all t, used for stability checks."""


class Constant(AbstractWaveform):
    """A constant drive `value` (in the unit of what it drives)."""

    value: Float[Array, ""]

    def __check_init__(self):
        check_finite("value", self.value)

    def __call__(self, t):
        return self.value + 0.0 * t

    def max_abs(self):
        return jnp.abs(self.value)


class Pulse(AbstractWaveform):
    """One trapezoidal pulse.

    **Arguments:**

    - `amplitude`: plateau value (e.g. current in A); finite, any sign.
    - `width`: full width at half maximum [s], > 0.
    - `start`: time of the half-maximum of the rising edge [s], default 0.
    - `rise_time`: 0–100 % edge time [s], > 0 (default 10 ps). The integral of the pulse is
      exactly `amplitude * width`.
    """

    amplitude: Float[Array, ""]
    width: Float[Array, ""]
    start: Float[Array, ""] = 0.0
    rise_time: Float[Array, ""] = DEFAULT_RISE_TIME

    def __check_init__(self):
        check_finite("amplitude", self.amplitude, unit="(drive unit)")
        check_range("width", self.width, low=0.0, unit="s")
        check_finite("start", self.start, unit="s")
        check_range("rise_time", self.rise_time, low=0.0, unit="s")

    def __call__(self, t):
        rise = _ramp((t - self.start) / self.rise_time)
        fall = _ramp((t - self.start - self.width) / self.rise_time)
        return self.amplitude * (rise - fall)

    def max_abs(self):
        return jnp.abs(self.amplitude)

    @property
    def end(self):
        """Time of the half-maximum of the falling edge [s]."""
        return self.start + self.width

    def integral_of_square(self):
        """∫ f(t)^2 dt [unit^2·s]: with a current in A, times a resistance gives Joule energy.

        Exact for the trapezoid: amplitude^2 (width - rise_time / 3) when width >= rise_time.
        """
        return self.amplitude**2 * (self.width - self.rise_time / 3.0)


class PulseTrain(AbstractWaveform):
    """A sequence of non-overlapping trapezoidal pulses sharing one `rise_time`.

    **Arguments:**

    - `amplitudes`, `widths`, `starts`: 1-D arrays of equal length (units as in `Pulse`).
    - `rise_time`: edge time [s], > 0.
    """

    amplitudes: Float[Array, " k"]
    widths: Float[Array, " k"]
    starts: Float[Array, " k"]
    rise_time: Float[Array, ""] = DEFAULT_RISE_TIME

    def __init__(self, amplitudes, widths, starts, rise_time=DEFAULT_RISE_TIME):
        self.amplitudes = jnp.atleast_1d(jnp.asarray(amplitudes))
        self.widths = jnp.atleast_1d(jnp.asarray(widths))
        self.starts = jnp.atleast_1d(jnp.asarray(starts))
        self.rise_time = rise_time

    def __check_init__(self):
        shapes = {self.amplitudes.shape, self.widths.shape, self.starts.shape}
        if len(shapes) != 1:
            raise ValueError(
                f"amplitudes, widths and starts must have equal shapes, got "
                f"{self.amplitudes.shape}, {self.widths.shape}, {self.starts.shape}"
            )
        check_finite("amplitudes", self.amplitudes)
        check_range("widths", self.widths, low=0.0, unit="s")
        check_finite("starts", self.starts, unit="s")
        check_range("rise_time", self.rise_time, low=0.0, unit="s")
        if is_concrete((self.starts, self.widths, self.rise_time)) and self.starts.shape[-1] > 1:
            order = np.argsort(np.asarray(self.starts), axis=-1)
            s = np.take_along_axis(np.asarray(self.starts), order, -1)
            w = np.take_along_axis(np.asarray(self.widths), order, -1)
            gap = s[..., 1:] - (s[..., :-1] + w[..., :-1])
            if np.any(gap < np.asarray(self.rise_time)):
                raise ValueError(
                    "pulses overlap: each pulse must end at least one rise_time "
                    f"({float(np.max(self.rise_time)):.3g} s) before the next starts; "
                    f"smallest gap is {float(np.min(gap)):.3g} s"
                )

    def __call__(self, t):
        rise = _ramp((t - self.starts) / self.rise_time)
        fall = _ramp((t - self.starts - self.widths) / self.rise_time)
        return jnp.sum(self.amplitudes * (rise - fall), axis=-1)

    def max_abs(self):
        return jnp.max(jnp.abs(self.amplitudes), axis=-1)

    @property
    def end(self):
        """Falling half-maximum of the last pulse [s]."""
        return jnp.max(self.starts + self.widths, axis=-1)

    def integral_of_square(self):
        """∫ f(t)^2 dt over the train [unit^2·s] (pulses do not overlap)."""
        return jnp.sum(self.amplitudes**2 * (self.widths - self.rise_time / 3.0), axis=-1)


def write_reset_train(write_current, write_width, gap, reset_current, reset_width,
                      start=0.0, rise_time=DEFAULT_RISE_TIME) -> PulseTrain:
    """The neuron cycle of physics.md 5a: a write pulse, a gap, then a reset pulse.

    Currents in A (the reset is usually of opposite sign), widths and gap in s.
    """
    return PulseTrain(
        amplitudes=jnp.stack([jnp.asarray(write_current, float), jnp.asarray(reset_current, float)]),
        widths=jnp.stack([jnp.asarray(write_width, float), jnp.asarray(reset_width, float)]),
        starts=jnp.stack([jnp.asarray(start, float),
                          jnp.asarray(start + write_width + gap, float)]),
        rise_time=rise_time,
    )
