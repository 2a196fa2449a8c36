"""Crossbar networks: the MLP and the convolutional net 28x28-6c5-2s-12c5-2s-10o.

`CrossbarNet` chains `CrossbarConv2d` / `CrossbarDense` layers (each on its own crossbar,
with a device neuron), 2 x 2 average subsampling after the layers marked in `pool_after`,
and an output layer without neuron whose column currents, divided by the array's current
per unit weight (`weight_scale`), are the logits (a current comparator / winner-take-all
reads the largest). It runs

(a) non-spiking: `net(x, ...)`, one evaluation per image with analog inputs (row voltage
    dV x, x = pixel in [0, 1]) and relaxed (`stochastic=False`) or sampled device neurons;
(b) spiking / stochastic over T time steps: `net.run(x, key, n_steps)`: rate-coded inputs
    (a pixel of intensity p spikes with probability p at each step and drives its row at
    dV), every neuron sampled at every step (`neuron.step`: stochastic MTJ spikes, DWM
    outputs with memory, IF wall integration), and the output currents averaged over the
    T steps (the charge a current integrator collects) before the argmax.

Subsampling maps to hardware as described in `layers.average_pool` (a 2-bit DAC on the
next layer's row, or four rows of w/4: no extra circuit).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ..circuits import CrossbarArray
from .activations import AbstractNeuron, StochasticMTJNeuron
from .layers import CrossbarConv2d, CrossbarDense, average_pool


class CrossbarNet(eqx.Module):
    """A feed-forward crossbar network (see the module docstring).

    **Arguments:**

    - `layers`: tuple of `CrossbarConv2d` / `CrossbarDense`; all but the last carry a neuron,
      the last none (its currents are the logits). Convolutions come first.
    - `pool_after`: tuple of bools, one per layer: 2 x 2 average subsampling after it.
    - `input_shape`: shape of one input image, e.g. (28, 28) (a channel axis is added for
      convolutions; dense-only nets flatten it).
    """

    layers: tuple
    pool_after: tuple = eqx.field(static=True)
    input_shape: tuple = eqx.field(static=True)

    def __check_init__(self):
        if len(self.layers) != len(self.pool_after):
            raise ValueError("pool_after needs one entry per layer")
        if not self.layers:
            raise ValueError("a CrossbarNet needs at least one layer")
        if self.layers[-1].__class__ is not CrossbarDense or self.layers[-1].neuron is not None:
            raise ValueError("the last layer must be a CrossbarDense without neuron (the "
                             "output currents are the logits)")

    @property
    def n_classes(self) -> int:
        return self.layers[-1].n_out

    def _prepare(self, x):
        x = jnp.asarray(x)
        n = len(self.input_shape)
        if x.shape[x.ndim - n:] != tuple(self.input_shape):
            raise ValueError(f"x has shape {x.shape}; expected (..., {', '.join(map(str, self.input_shape))})")
        if isinstance(self.layers[0], CrossbarConv2d):
            if n == 2:
                x = x[..., None, :, :]
            return x
        return x.reshape(x.shape[:x.ndim - n] + (-1,))

    def _between(self, i, y, layer):
        if self.pool_after[i]:
            y = average_pool(y)
        nxt = self.layers[i + 1] if i + 1 < len(self.layers) else None
        if isinstance(nxt, CrossbarDense) and isinstance(layer, CrossbarConv2d):
            y = y.reshape(y.shape[:-3] + (-1,))
        return y

    def _logits(self, current):
        out = self.layers[-1]
        return current / out.crossbar.weight_scale(out.w_max)

    def conductances(self, chip_key=None) -> tuple:
        """Programmed conductances of every layer for one chip (`chip_key`; None: nominal)."""
        keys = [None] * len(self.layers) if chip_key is None else \
            list(jax.random.split(chip_key, len(self.layers)))
        return tuple(layer.conductances(k) for layer, k in zip(self.layers, keys))

    def __call__(self, x, *, key=None, chip_key=None, conductances=None, ideal: bool = False,
                 stochastic: bool = False) -> Float[Array, "... n_classes"]:
        """Non-spiking evaluation of images x (..., *input_shape) in [0, 1].

        **Arguments:** `ideal`: the float reference (see `CrossbarDense`); `chip_key`: one
        chip's variation (or pass `conductances` from `conductances(chip_key)`); `key`: read
        noise and, with `stochastic=True`, one sampled evaluation of every neuron.

        **Returns:** logits (..., n_classes) = output currents / weight_scale (weight units).
        """
        y = self._prepare(x)
        if not ideal and conductances is None:
            conductances = self.conductances(chip_key)
        keys = [None] * len(self.layers) if key is None else \
            list(jax.random.split(key, len(self.layers)))
        for i, layer in enumerate(self.layers):
            g = None if ideal else conductances[i]
            y = layer(y, key=keys[i], conductances=g, ideal=ideal, stochastic=stochastic)
            y = self._between(i, y, layer)
        return self._logits(y)

    def run(self, x, key, n_steps: int, *, chip_key=None, conductances=None,
            ideal: bool = False, rate_coded: bool = True,
            straight_through: bool = False) -> Float[Array, "... n_classes"]:
        """Spiking / stochastic run of T = `n_steps` time steps (module docstring, (b)).

        **Arguments:** `x` images (..., *input_shape) in [0, 1]; `key`: input spikes, read
        noise and neuron sampling (step t uses fold_in(key, t)); `rate_coded`: Bernoulli(x)
        input spikes each step (False: analog x every step); `chip_key` / `conductances` /
        `ideal` as `__call__`; `straight_through`: for training in the sampled regime, every
        neuron output is `mean + stop_gradient(sample - mean)`: the forward pass is the
        exact sampled run, the gradient that of the neurons' mean (straight-through
        estimator; without it the samples carry no gradient to the weights).

        **Returns:** the logits averaged over the T steps (..., n_classes).
        """
        if not (isinstance(n_steps, int) and n_steps >= 1):
            raise ValueError(f"n_steps = {n_steps!r} must be a positive integer")
        x = self._prepare(x)
        if not ideal and conductances is None:
            conductances = self.conductances(chip_key)
        # neuron states: shapes from one relaxed pass
        shapes = []
        y = x
        for i, layer in enumerate(self.layers[:-1]):
            g = None if ideal else conductances[i]
            shapes.append(jax.eval_shape(lambda v, lay=layer, gg=g: lay.currents(
                v, conductances=gg, ideal=ideal), y).shape)
            y = jax.eval_shape(lambda v, lay=layer, gg=g: lay(v, conductances=gg, ideal=ideal), y)
            y = jax.eval_shape(lambda v, i=i, lay=layer: self._between(i, v, lay), y)
        states = tuple(layer.neuron.init_state(s) for layer, s in zip(self.layers[:-1], shapes))

        def step(states, t):
            k = jax.random.fold_in(key, t)
            k_in, k_net = jax.random.split(k)
            y = (jax.random.uniform(k_in, x.shape, x.dtype) < x).astype(x.dtype) \
                if rate_coded else x
            keys = jax.random.split(k_net, 2 * len(self.layers))
            new = []
            for i, layer in enumerate(self.layers):
                g = None if ideal else conductances[i]
                cur = layer.currents(y, conductances=g, key=keys[2 * i], ideal=ideal)
                if layer.neuron is None:
                    y = cur
                    break
                s, y = layer.neuron.step(states[i], cur, keys[2 * i + 1])
                if straight_through:
                    p = layer.neuron.mean(cur)
                    y = p + jax.lax.stop_gradient(y - p)
                new.append(s)
                y = self._between(i, y, layer)
            return tuple(new), self._logits(y)

        _, logits = jax.lax.scan(step, states, jnp.arange(n_steps))
        return jnp.mean(logits, axis=0)

    def energy(self, x, *, conductances=None) -> Float[Array, "..."]:
        """Energy of one non-spiking (relaxed) inference [J] per image: every array's read
        energy (`CrossbarArray.energy`, bias rows included) plus every neuron's `energy` of its
        column current where the neuron defines one (SOT-MTJ: write + expected reset; IRMEN:
        write + read + output); the output comparator is not included."""
        nb = jnp.ndim(x) - len(self.input_shape)
        y = self._prepare(x)
        if conductances is None:
            conductances = self.conductances()
        total = 0.0
        for i, layer in enumerate(self.layers):
            g = conductances[i]
            total = total + layer.energy(y, g)
            cur = layer.currents(y, conductances=g)
            if layer.neuron is not None and hasattr(layer.neuron, "energy"):
                en = layer.neuron.energy(cur)
                total = total + jnp.sum(en, axis=tuple(range(nb, en.ndim)))
            y = self._between(i, layer.activate(cur), layer)
        return total


def _neuron(neuron):
    return StochasticMTJNeuron.default() if neuron is None else neuron


def mlp(sizes, *, key, neuron: AbstractNeuron | None = None,
        crossbar: CrossbarArray | None = None, w_max: float = 1.0,
        input_shape=None, init_scale: float = 2.0) -> CrossbarNet:
    """A crossbar MLP with layer sizes `sizes` = (n_in, hidden..., n_classes).

    **Arguments:** `key`: initialisation; `neuron`: the hidden-layer device neuron (default
    `StochasticMTJNeuron.default()`), matched to the array per layer; `crossbar`: array
    settings shared by all layers (default `CrossbarArray()`); `w_max`; `input_shape`: the
    image shape (default `(n_in,)`); `init_scale`: see `CrossbarDense`.
    """
    sizes = tuple(sizes)
    if len(sizes) < 2 or not all(isinstance(s, int) and s >= 1 for s in sizes):
        raise ValueError(f"sizes = {sizes!r} must hold >= 2 positive integers")
    keys = jax.random.split(key, len(sizes) - 1)
    n = len(sizes) - 1
    layers = tuple(CrossbarDense(sizes[i], sizes[i + 1], key=keys[i], crossbar=crossbar,
                                 neuron=_neuron(neuron) if i < n - 1 else None, w_max=w_max,
                                 init_scale=init_scale)
                   for i in range(n))
    return CrossbarNet(layers, (False,) * n, tuple(input_shape or (sizes[0],)))


def cnn(*, key, neuron: AbstractNeuron | None = None, crossbar: CrossbarArray | None = None,
        w_max: float = 1.0, image_size: int = 28, channels=(6, 12), kernel_size: int = 5,
        n_classes: int = 10, init_scale: float = 3.0) -> CrossbarNet:
    """The convolutional net image_size^2 - 6c5 - 2s - 12c5 - 2s - 10o (defaults: the
    28x28-6c5-2s-12c5-2s-10o net of physics.md 7): valid k x k convolutions with device
    neurons, each followed by 2 x 2 average subsampling, then a dense output layer.

    **Arguments:** as `mlp`, plus `image_size` (square images), `channels` (feature maps
    per convolution), `kernel_size`, `n_classes`, `init_scale` (see `CrossbarDense`). Map
    sizes must stay divisible by 2.
    """
    channels = tuple(channels)
    keys = jax.random.split(key, len(channels) + 1)
    layers = []
    size, c_in = image_size, 1
    for k, c in zip(keys[:-1], channels):
        size = size - kernel_size + 1
        if size < 2 or size % 2:
            raise ValueError(f"image_size = {image_size} with kernel_size = {kernel_size} "
                             f"gives a map of {size} pixels before subsampling; it must be even "
                             f"and >= 2")
        layers.append(CrossbarConv2d(c_in, c, kernel_size, key=k, crossbar=crossbar,
                                     neuron=_neuron(neuron), w_max=w_max,
                                     init_scale=init_scale))
        size //= 2
        c_in = c
    layers.append(CrossbarDense(c_in * size * size, n_classes, key=keys[-1], crossbar=crossbar,
                                neuron=None, w_max=w_max, init_scale=init_scale))
    pool = (True,) * len(channels) + (False,)
    return CrossbarNet(tuple(layers), pool, (image_size, image_size))
