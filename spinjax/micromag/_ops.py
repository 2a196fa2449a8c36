"""Array helpers on (3, nx, ny, nz) vector fields (private)."""

import jax
import jax.numpy as jnp


def cross(a, b):
    """Cross product over the leading (component) axis of two (3, ...) arrays."""
    return jnp.stack([a[1] * b[2] - a[2] * b[1],
                      a[2] * b[0] - a[0] * b[2],
                      a[0] * b[1] - a[1] * b[0]])


def dot(a, b):
    """Dot product over the leading (component) axis: (3, ...) x (3, ...) -> (...)."""
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def shift_next(x, axis):
    """y[..., i, ...] = x[..., i + 1, ...] along `axis`, zero beyond the last cell."""
    n = x.shape[axis]
    pad = [(0, 0)] * x.ndim
    pad[axis] = (0, 1)
    return jax.lax.slice_in_dim(jnp.pad(x, pad), 1, n + 1, axis=axis)


def shift_prev(x, axis):
    """y[..., i, ...] = x[..., i - 1, ...] along `axis`, zero before the first cell."""
    n = x.shape[axis]
    pad = [(0, 0)] * x.ndim
    pad[axis] = (1, 0)
    return jax.lax.slice_in_dim(jnp.pad(x, pad), 0, n, axis=axis)


def bonds(w, axis):
    """Bond occupations along a grid `axis` (0, 1, 2) for cell weights `w` (nx, ny, nz).

    Returns (b_next, b_prev): b_next[i] = w[i] w[i+1] (1 when cell i and its successor are both
    magnetic), b_prev[i] = w[i-1] w[i]; free faces are where w[i] = 1 and the bond is 0.
    """
    b_next = w * shift_next(w, axis)
    return b_next, shift_prev(b_next, axis)


def as_field(v, shape):
    """Broadcast a (3,) vector or a (3, nx, ny, nz) array to (3, nx, ny, nz) explicitly."""
    v = jnp.asarray(v)
    if v.ndim == 1:
        v = v.reshape(3, 1, 1, 1)
    return jnp.broadcast_to(v, (3,) + tuple(shape))
