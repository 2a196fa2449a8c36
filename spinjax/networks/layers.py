"""Crossbar layers: dense and convolutional layers whose weights live on `CrossbarArray`s.

A layer holds float weights (n_in, n_out) and a bias (n_out,), both trainable leaves, a
`CrossbarArray` (the electrical settings, also leaves: dV, variation, read noise ...) and a
device neuron from `spinjax.networks.activations` (or None: the layer's output is the column
current itself, read by a current comparator / ADC, e.g. the output layer).

One evaluation (`__call__`) runs in one of two electrical modes:

- `ideal=True`: the float software reference, I = weight_scale (x W + b) [A], the ideal
  limit of the array (float weights, G_s -> inf, no variation or noise), same neurons;
- `ideal=False` (hardware): the weights and the bias row are programmed onto N-bit
  conductance pairs (`CrossbarArray.program`, straight-through gradient, weights saturated
  at ±w_max), one chip is drawn from `chip_key` (device-to-device variation; none without a
  key), and the column currents are the array's Kirchhoff currents into the neurons' finite
  input conductance (with read noise when a `key` is given).

and the neuron is evaluated relaxed (`stochastic=False`: its differentiable mean) or sampled
(`stochastic=True`: one exact stochastic draw; needs `key`). The bias is one extra,
always-on input row pair (x = 1). Tiling: the array's `tile_rows` / `tile_cols` /
`max_tiles` decide how the (n_in + 1, n_out) matrix is split over physical arrays (a layer
that does not fit raises `ValueError` at construction).
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._checks import check_range
from ..circuits import Conductances, CrossbarArray
from .activations import AbstractNeuron


def _row_bias(b, ndim):
    return jnp.reshape(b, (1,) * (ndim - 1) + (-1,))


class CrossbarDense(eqx.Module):
    """Fully connected layer on a crossbar: x (..., n_in) -> neuron outputs (..., n_out).

    **Arguments:**

    - `n_in`, `n_out`: layer size (positive ints).
    - `key`: PRNG key for the weight initialisation (uniform, He-like scale
      `init_scale / sqrt(n_in)` clipped to w_max).
    - `crossbar`: the array settings (default `CrossbarArray()`: 3.7 MΩ, ratio 20, 4 bits,
      differential, dV = 50 mV, G_s = 1/400 Ω).
    - `neuron`: an `AbstractNeuron`, matched to the array's current scale at construction
      (`neuron.matched(crossbar.weight_scale(w_max))`) unless `match_neuron=False`; None: the
      layer returns column currents [A].
    - `w_max`: weight of full conductance range, > 0 (static).
    - `init_scale`: weight initialisation scale (dimensionless), > 0.
    """

    weight: Float[Array, "n_in n_out"]
    bias: Float[Array, " n_out"]
    crossbar: CrossbarArray
    neuron: AbstractNeuron | None
    w_max: float = eqx.field(static=True)

    def __init__(self, n_in: int, n_out: int, *, key, crossbar: CrossbarArray | None = None,
                 neuron: AbstractNeuron | None = None, w_max: float = 1.0,
                 init_scale: float = 2.0, match_neuron: bool = True):
        for name, value in (("n_in", n_in), ("n_out", n_out)):
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(f"{name} = {value!r} must be a positive integer")
        check_range("w_max", w_max, low=0.0)
        check_range("init_scale", init_scale, low=0.0)
        crossbar = CrossbarArray() if crossbar is None else crossbar
        crossbar.check_fits(n_in + 1, n_out)
        lim = min(init_scale / math.sqrt(n_in), w_max)
        self.weight = jax.random.uniform(key, (n_in, n_out), minval=-lim, maxval=lim)
        self.bias = jnp.zeros(n_out)
        self.crossbar = crossbar
        self.w_max = float(w_max)
        if neuron is not None and match_neuron:
            neuron = neuron.matched(crossbar.weight_scale(self.w_max))
        self.neuron = neuron

    @property
    def n_in(self) -> int:
        return self.weight.shape[0]

    @property
    def n_out(self) -> int:
        return self.weight.shape[1]

    def full_weights(self) -> Float[Array, "n_in+1 n_out"]:
        """Weights with the bias as the last row, saturated to [-w_max, w_max]."""
        w = jnp.concatenate([self.weight, self.bias[None, :]], axis=0)
        return jnp.clip(w, -self.w_max, self.w_max)

    def conductances(self, chip_key=None) -> Conductances:
        """Programmed conductances [S] (n_in + 1 rows, the last the bias row) of one chip
        (`chip_key`; None: nominal devices, no variation)."""
        g = self.crossbar.program(self.full_weights(), self.w_max, clip=True)
        if chip_key is not None:
            g = self.crossbar.chip(g, chip_key)
        return g

    def currents(self, x, *, conductances: Conductances | None = None, key=None,
                 ideal: bool = False) -> Float[Array, "... n_out"]:
        """Column currents [A] for inputs x (..., n_in) (analog in [-1, 1] or spikes {0, 1}).

        `ideal`: weight_scale (x W + b). Otherwise the array's currents of `conductances`
        (default: nominal programmed devices), read noise with `key`."""
        x = jnp.asarray(x)
        if x.ndim < 1 or x.shape[-1] != self.n_in:
            raise ValueError(f"x has shape {x.shape}; its last axis must have n_in = "
                             f"{self.n_in} entries")
        if ideal:
            w = self.full_weights()
            pre = x @ w[:-1] + _row_bias(w[-1], x.ndim)
            return self.crossbar.weight_scale(self.w_max) * pre
        g = self.conductances() if conductances is None else conductances
        lead = x.shape[:-1]
        flat = x.reshape(-1, self.n_in)
        flat = jnp.concatenate([flat, jnp.ones((flat.shape[0], 1), flat.dtype)], axis=1)
        if key is None:
            i = jax.vmap(lambda r: self.crossbar.currents(g, r))(flat)
        else:
            keys = jax.random.split(key, flat.shape[0])
            i = jax.vmap(lambda r, k: self.crossbar.currents(g, r, key=k))(flat, keys)
        return i.reshape(lead + (self.n_out,))

    def activate(self, current, *, key=None, stochastic: bool = False):
        """Neuron outputs for column currents [A] (identity when `neuron` is None)."""
        if self.neuron is None:
            return current
        if stochastic:
            if key is None:
                raise ValueError("stochastic=True needs a key")
            return self.neuron.sample(key, current)
        return self.neuron.mean(current)

    def __call__(self, x, *, key=None, chip_key=None, conductances=None, ideal: bool = False,
                 stochastic: bool = False):
        """One evaluation (see the module docstring for the modes). `key` feeds read noise
        and the neuron's sampling; `chip_key` the device-to-device variation (ignored when
        `conductances` are given). **Returns:** neuron outputs (..., n_out) or currents [A]."""
        k_read, k_act = (None, None) if key is None else jax.random.split(key)
        if not ideal and conductances is None:
            conductances = self.conductances(chip_key)
        i = self.currents(x, conductances=conductances, key=k_read, ideal=ideal)
        return self.activate(i, key=k_act, stochastic=stochastic)

    def energy(self, x, conductances: Conductances | None = None) -> Float[Array, "..."]:
        """Crossbar read energy per evaluation [J] for inputs x (..., n_in) (bias row
        included; neurons not included: see their `energy`)."""
        x = jnp.asarray(x)
        g = self.conductances() if conductances is None else conductances
        flat = x.reshape(-1, self.n_in)
        flat = jnp.concatenate([flat, jnp.ones((flat.shape[0], 1), flat.dtype)], axis=1)
        e = jax.vmap(lambda r: self.crossbar.energy(g, r))(flat)
        return e.reshape(x.shape[:-1])


class CrossbarConv2d(eqx.Module):
    """2-D convolution (valid padding, stride 1) on a crossbar via unrolled patches.

    Each k x k x c_in input patch is one crossbar input vector (rows ordered channel-major:
    (c, ky, kx)); the kernel is the (c_in k^2 + 1, c_out) weight matrix of a `CrossbarDense`
    (bias row last), so one array evaluates all c_out feature maps of one output pixel per
    read and the layer reuses it for every output position (in time, or on copies of the
    array). Input (..., c_in, H, W) -> output (..., c_out, H - k + 1, W - k + 1).

    **Arguments:** `c_in`, `c_out`, `kernel_size` (positive ints); the rest as
    `CrossbarDense`.
    """

    dense: CrossbarDense
    c_in: int = eqx.field(static=True)
    kernel_size: int = eqx.field(static=True)

    def __init__(self, c_in: int, c_out: int, kernel_size: int, *, key, **kwargs):
        for name, value in (("c_in", c_in), ("c_out", c_out), ("kernel_size", kernel_size)):
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(f"{name} = {value!r} must be a positive integer")
        self.dense = CrossbarDense(c_in * kernel_size**2, c_out, key=key, **kwargs)
        self.c_in = c_in
        self.kernel_size = kernel_size

    @property
    def c_out(self) -> int:
        return self.dense.n_out

    @property
    def neuron(self) -> AbstractNeuron | None:
        """The layer's device neuron (that of its `dense` matrix)."""
        return self.dense.neuron

    @property
    def crossbar(self) -> CrossbarArray:
        return self.dense.crossbar

    @property
    def w_max(self) -> float:
        return self.dense.w_max

    def activate(self, current, **kwargs):
        """As `CrossbarDense.activate` (elementwise)."""
        return self.dense.activate(current, **kwargs)

    def patches(self, x) -> Float[Array, "... h w n_in"]:
        """Unrolled patches of x (..., c_in, H, W): (..., H', W', c_in k^2)."""
        x = jnp.asarray(x)
        k = self.kernel_size
        if x.ndim < 3 or x.shape[-3] != self.c_in or x.shape[-2] < k or x.shape[-1] < k:
            raise ValueError(f"x has shape {x.shape}; expected (..., c_in = {self.c_in}, H, W) "
                             f"with H, W >= kernel_size = {k}")
        lead = x.shape[:-3]
        flat = x.reshape((-1,) + x.shape[-3:])
        p = jax.lax.conv_general_dilated_patches(flat, (k, k), (1, 1), "VALID")
        p = jnp.moveaxis(p, 1, -1)  # (N, H', W', c_in k^2), channel-major
        return p.reshape(lead + p.shape[1:])

    def _to_maps(self, y):
        return jnp.moveaxis(y, -1, -3)

    def currents(self, x, **kwargs):
        """Column currents [A], (..., c_out, H', W') (keywords as `CrossbarDense.currents`)."""
        return self._to_maps(self.dense.currents(self.patches(x), **kwargs))

    def conductances(self, chip_key=None) -> Conductances:
        """As `CrossbarDense.conductances`."""
        return self.dense.conductances(chip_key)

    def __call__(self, x, **kwargs):
        """As `CrossbarDense.__call__`; output (..., c_out, H', W')."""
        return self._to_maps(self.dense(self.patches(x), **kwargs))

    def energy(self, x, conductances=None):
        """Crossbar read energy of all output positions [J], shape (...)."""
        e = self.dense.energy(self.patches(x), conductances)
        return jnp.sum(e, axis=(-2, -1))


def average_pool(x, size: int = 2) -> Float[Array, "..."]:
    """2 x 2 (`size`) subsampling as the average of the size^2 outputs, x (..., C, H, W)
    -> (..., C, H / size, W / size) (H, W divisible by size).

    Hardware: the next layer's row for this pooled input is driven at dV x (n_fired / 4) by a
    2-bit DAC from the four neurons' spikes (or four rows with conductances w/4 each: the
    pooling folded into the next array's weights); in the ideal limit both give exactly the
    average, so no extra circuit is modelled."""
    x = jnp.asarray(x)
    h, w = x.shape[-2:]
    if h % size or w % size:
        raise ValueError(f"pooling size {size} must divide the map size {h} x {w}")
    x = x.reshape(x.shape[:-2] + (h // size, size, w // size, size))
    return jnp.mean(x, axis=(-3, -1))
