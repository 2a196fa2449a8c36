"""Hardware-aware training of crossbar networks with Optax, and their evaluation.

Training (`train`) minimises the softmax cross-entropy of the non-spiking network with
relaxed device neurons (`CrossbarNet.__call__`, `stochastic=False`). In hardware mode
(`ideal=False`) every step sees the array as it will be: N-bit conductance levels (straight-
through gradient), a fresh chip of device-to-device variation (`chip_key` drawn per step) and
read noise (when the arrays have `variation` / `read_noise` > 0), the neurons' finite input
conductance; weights are saturated to [-w_max, w_max] after every update. `ideal=True`
trains the float software baseline of the same architecture (ideal dot products, same neuron
curves).

What trains: by default the layer weights and biases only (`trainable_filter`); pass
`extra=(lambda m: m.layers[0].crossbar.read_voltage, ...)` to co-optimise device or circuit
leaves too (e.g. an MTJ neuron built `from_family` exposes `thickness` and `pulse_width`; an
IRMEN neuron its `length`), and `penalty=lambda m, x: ...` to add a term (e.g. an energy per
inference from `CrossbarNet.energy`) to the loss.

Evaluation (`evaluate`) is Monte Carlo over chips: `n_chips` variation samples evaluated
together with `jax.vmap` (chip c uses `fold_in(chip_key, c)`, the same chip for every batch),
batches sharded along the image axis over all local JAX devices (`NamedSharding`, like the
sweeps' trial axis), non-spiking or spiking over `n_steps` time steps.
"""

import math
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from .._checks import check_range
from .layers import CrossbarConv2d
from .models import CrossbarNet


def _dense(layer):
    return layer.dense if isinstance(layer, CrossbarConv2d) else layer


def _weight_where(model: CrossbarNet):
    return [_dense(l).weight for l in model.layers] + [_dense(l).bias for l in model.layers]


def trainable_filter(model: CrossbarNet, extra=()):
    """Filter spec (pytree of bools like `model`): True on every layer's weight and bias,
    and on the leaves selected by each function in `extra` (`lambda m: m.<path>`)."""
    spec = jax.tree.map(lambda _: False, model)
    spec = eqx.tree_at(_weight_where, spec, replace=[True] * (2 * len(model.layers)))
    for where in extra:
        spec = eqx.tree_at(where, spec, replace_fn=lambda x: jax.tree.map(lambda _: True, x))
    return spec


def clip_weights(model: CrossbarNet) -> CrossbarNet:
    """Saturate every layer's weights and bias to its [-w_max, w_max]."""
    leaves = [jnp.clip(a, -_dense(l).w_max, _dense(l).w_max)
              for a, l in zip(_weight_where(model), list(model.layers) * 2)]
    return eqx.tree_at(_weight_where, model, leaves)


def cross_entropy(logits, labels) -> jax.Array:
    """Mean softmax cross-entropy of logits (n, classes) against int labels (n,)."""
    return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, labels))


def _check_data(x, y, model):
    x = np.asarray(x)
    y = np.asarray(y)
    shape = tuple(model.input_shape)
    if x.ndim != len(shape) + 1 or x.shape[1:] != shape:
        raise ValueError(f"x has shape {x.shape}; expected (n, {', '.join(map(str, shape))})")
    if y.shape != x.shape[:1]:
        raise ValueError(f"y has shape {y.shape}; expected ({x.shape[0]},)")
    if y.size and (y.min() < 0 or y.max() >= model.n_classes):
        raise ValueError(f"labels must lie in [0, {model.n_classes - 1}]")
    return x.astype(np.float32), y.astype(np.int32)


def train(model: CrossbarNet, x, y, *, key, epochs: int = 10, batch_size: int = 64,
          learning_rate: float = 3e-3, ideal: bool = False, noise: bool = True, extra=(),
          penalty=None, optimizer=None, x_val=None, y_val=None, progress: bool = True,
          n_steps: int | None = None):
    """Train `model` on images x (n, *input_shape) in [0, 1] and labels y (n,).

    **Arguments:**

    - `key`: PRNG key (shuffling, chips, read noise).
    - `epochs`, `batch_size` (positive ints); `learning_rate` (> 0, Adam) or `optimizer`
      (any `optax.GradientTransformation`, overrides it).
    - `ideal`: train the float software baseline instead of the hardware network.
    - `noise`: sample a chip (variation) and read noise every step (hardware mode).
    - `extra`: where-functions of further trainable leaves (see the module docstring).
    - `penalty`: `penalty(model, x_batch) -> scalar` added to the loss.
    - `x_val`, `y_val`: evaluated (nominal chip, relaxed) after each epoch.
    - `progress`: tqdm bar over the steps.
    - `n_steps`: train in the sampled (spiking) regime: the forward pass is
      `CrossbarNet.run` over that many time steps (rate-coded input spikes, every neuron
      sampled every step, logits averaged over the steps, as at inference) with the
      straight-through gradient of the neurons' means (`straight_through=True`); None
      (default): the relaxed non-spiking network. Costs ~n_steps x a relaxed step; meant
      for fine-tuning a hardware-aware net for the stochastic inference it will run.

    **Returns:** `(model, history)`, history a dict of per-epoch `loss`, `train_accuracy`,
    `val_accuracy` (if given), `seconds`, and `step_time` [s] (mean over the last epoch, after
    compilation).
    """
    x, y = _check_data(x, y, model)
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if not (isinstance(value, int) and value >= 1):
            raise ValueError(f"{name} = {value!r} must be a positive integer")
    if batch_size > len(x):
        raise ValueError(f"batch_size = {batch_size} is outside the allowed range "
                         f"[1, {len(x)}] (the number of training images)")
    check_range("learning_rate", learning_rate, low=0.0)
    if n_steps is not None and not (isinstance(n_steps, int) and n_steps >= 1):
        raise ValueError(f"n_steps = {n_steps!r} must be a positive integer or None")
    opt = optax.adam(learning_rate) if optimizer is None else optimizer
    for where in extra:  # trainable leaves must be arrays (Python floats get no gradient)
        model = eqx.tree_at(where, model, replace_fn=lambda v: jax.tree.map(
            lambda a: jnp.asarray(a, float) if isinstance(a, (float, int)) else a, v))
    spec = trainable_filter(model, extra)
    params, static = eqx.partition(model, spec)
    opt_state = opt.init(params)

    def loss_fn(params, xb, yb, k):
        m = eqx.combine(params, static)
        k_chip, k_read = jax.random.split(k)
        use = noise and not ideal
        if n_steps is not None:
            logits = m.run(xb, k_read, n_steps, chip_key=k_chip if use else None,
                           ideal=ideal, straight_through=True)
        else:
            logits = m(xb, key=k_read if use else None, chip_key=k_chip if use else None,
                       ideal=ideal)
        loss = cross_entropy(logits, yb)
        if penalty is not None:
            loss = loss + penalty(m, xb)
        return loss, jnp.mean(jnp.argmax(logits, -1) == yb)

    @eqx.filter_jit
    def step(params, opt_state, xb, yb, k):
        (loss, acc), grads = eqx.filter_value_and_grad(loss_fn, has_aux=True)(params, xb, yb, k)
        updates, opt_state = opt.update(grads, opt_state, params)
        params = eqx.apply_updates(params, updates)
        m = clip_weights(eqx.combine(params, static))
        return eqx.filter(m, spec), opt_state, loss, acc

    n_batches = len(x) // batch_size
    rng = np.random.default_rng(int(jax.random.randint(key, (), 0, 2**31 - 1)))
    history = {"loss": [], "train_accuracy": [], "val_accuracy": [], "seconds": []}
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=epochs * n_batches, desc="train", unit="step", leave=False)
    t_steps = []
    for epoch in range(epochs):
        t0 = time.perf_counter()
        order = rng.permutation(len(x))
        losses, accs = [], []
        for b in range(n_batches):
            idx = order[b * batch_size:(b + 1) * batch_size]
            k = jax.random.fold_in(key, epoch * n_batches + b)
            ts = time.perf_counter()
            params, opt_state, loss, acc = step(params, opt_state, x[idx], y[idx], k)
            loss = float(loss)
            if epoch == epochs - 1:
                t_steps.append(time.perf_counter() - ts)
            losses.append(loss)
            accs.append(float(acc))
            if bar is not None:
                bar.update(1)
                bar.set_postfix(epoch=epoch + 1, loss=f"{loss:.3f}")
        history["loss"].append(float(np.mean(losses)))
        history["train_accuracy"].append(float(np.mean(accs)))
        history["seconds"].append(time.perf_counter() - t0)
        if x_val is not None:
            m = eqx.combine(params, static)
            history["val_accuracy"].append(
                evaluate(m, x_val, y_val, ideal=ideal)["accuracy"])
    if bar is not None:
        bar.close()
    history["step_time"] = float(np.median(t_steps)) if t_steps else float("nan")
    return eqx.combine(params, static), history


def _mesh_sharding():
    devices = jax.local_devices()
    mesh = jax.sharding.Mesh(np.array(devices), ("batch",))
    return len(devices), jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("batch"))


@eqx.filter_jit
def _correct(model, xb, yb, k, chip_key, n_chips, n_steps, ideal, stochastic):
    def one_chip(c):
        ck = None if chip_key is None else jax.random.fold_in(chip_key, c)
        kk = None if k is None else jax.random.fold_in(k, c)
        if n_steps is not None:
            logits = model.run(xb, kk, n_steps, chip_key=ck, ideal=ideal)
        else:
            logits = model(xb, key=kk, chip_key=ck, ideal=ideal, stochastic=stochastic)
        return jnp.sum(jnp.argmax(logits, -1) == yb)
    return jax.vmap(one_chip)(jnp.arange(n_chips))


def evaluate(model: CrossbarNet, x, y, *, key=None, chip_key=None, n_chips: int = 1,
             n_steps: int | None = None, ideal: bool = False, stochastic: bool = False,
             batch_size: int = 500, shard: bool = True) -> dict:
    """Accuracy of `model` on (x, y), Monte Carlo over chips.

    **Arguments:**

    - `key`: read noise, neuron sampling and input spikes (None: noiseless relaxed run;
      required for `stochastic` or `n_steps`).
    - `chip_key`: device-to-device variation; chip c = `fold_in(chip_key, c)`, c <
      `n_chips` (None: the nominal chip, n_chips must be 1).
    - `n_steps`: spiking / stochastic run over that many time steps (`CrossbarNet.run`);
      None: one non-spiking evaluation (`stochastic`: neurons sampled once).
    - `ideal`: the float software reference.
    - `batch_size`: images per compiled call (positive int); `shard`: split each batch over
      all local devices.

    **Returns:** dict with `accuracy` (mean over chips), `accuracy_std` (over chips),
    `per_chip` (list), `n_chips`.
    """
    x, y = _check_data(x, y, model)
    if not (isinstance(n_chips, int) and n_chips >= 1):
        raise ValueError(f"n_chips = {n_chips!r} must be a positive integer")
    if chip_key is None and n_chips != 1:
        raise ValueError("n_chips > 1 needs a chip_key")
    if (stochastic or n_steps is not None) and key is None:
        raise ValueError("stochastic / spiking evaluation needs a key")
    if not (isinstance(batch_size, int) and batch_size >= 1):
        raise ValueError(f"batch_size = {batch_size!r} must be a positive integer")
    n_dev, sharding = _mesh_sharding() if shard else (1, None)
    batch_size = min(batch_size, len(x))
    batch_size = int(math.ceil(batch_size / n_dev) * n_dev)
    counts = np.zeros(n_chips)
    n_batches = int(math.ceil(len(x) / batch_size))
    for b in range(n_batches):
        xb = x[b * batch_size:(b + 1) * batch_size]
        yb = y[b * batch_size:(b + 1) * batch_size]
        pad = batch_size - len(xb)
        if pad:
            xb = np.concatenate([xb, np.zeros((pad,) + xb.shape[1:], xb.dtype)])
            yb = np.concatenate([yb, -np.ones(pad, yb.dtype)])  # never counted
        if sharding is not None:
            xb, yb = jax.device_put(xb, sharding), jax.device_put(yb, sharding)
        k = None if key is None else jax.random.fold_in(key, b)
        counts += np.asarray(_correct(model, xb, yb, k, chip_key, n_chips, n_steps, ideal,
                                      stochastic))
    acc = counts / len(x)
    return {"accuracy": float(acc.mean()), "accuracy_std": float(acc.std()),
            "per_chip": acc.tolist(), "n_chips": n_chips}
