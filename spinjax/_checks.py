"""Input validation shared by all modules.

Static (concrete) values are checked in Python and raise `ValueError` naming the parameter,
the value and the allowed range. Traced values (inside `jit`/`vmap`/`grad`) cannot be inspected
in Python; they are checked with `eqx.error_if`, which raises at run time with the same message.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np


def is_concrete(x) -> bool:
    """True when `x` holds a value Python can inspect (not a tracer)."""
    return not any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves(x))


def _describe(value) -> str:
    arr = np.asarray(value)
    if arr.size == 1:
        return f"{arr.reshape(()).item():.6g}"
    flat = arr.reshape(-1)
    return f"array of shape {arr.shape} (min {np.nanmin(flat):.6g}, max {np.nanmax(flat):.6g})"


def check_range(name: str, value, *, low=None, high=None, low_inclusive=False,
                high_inclusive=False, unit: str = ""):
    """Check that every element of `value` is finite and inside (low, high).

    Returns `value` (possibly wrapped in `eqx.error_if` when traced), so it can be used inline.
    """
    lo = "[" if low_inclusive else "("
    hi = "]" if high_inclusive else ")"
    allowed = f"{lo}{'-inf' if low is None else f'{low:g}'}, {'inf' if high is None else f'{high:g}'}{hi}"
    unit_str = f" {unit}" if unit else ""

    def bad_mask(v, xp):
        v = xp.asarray(v)
        bad = ~xp.isfinite(v)
        if low is not None:
            bad |= (v < low) if low_inclusive else (v <= low)
        if high is not None:
            bad |= (v > high) if high_inclusive else (v >= high)
        return bad

    if is_concrete(value):
        arr = np.asarray(value)
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
        if np.any(bad_mask(arr, np)):
            raise ValueError(
                f"{name} = {_describe(arr)}{unit_str} is outside the allowed range "
                f"{allowed}{unit_str} (and must be finite)"
            )
        return value
    return eqx.error_if(
        value, jnp.any(bad_mask(value, jnp)),
        f"{name} is outside the allowed range {allowed}{unit_str} (or not finite)",
    )


def check_finite(name: str, value, unit: str = ""):
    """Check that every element of `value` is finite (no NaN, no inf)."""
    return check_range(name, value, unit=unit)
