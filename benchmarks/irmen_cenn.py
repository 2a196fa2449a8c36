"""IRMEN CeNN study: CNN accuracy versus magnet length and weight bits, with thermal noise.

The convolutional net 28x28-6c5-2s-12c5-2s-10o (`spinjax.networks.cnn`) on crossbars with
IRMEN magnetoelectric cells (physics.md 5d) as the saturated-linear activation
(`IRMENNeuron`: the column current charges the ME capacitor through a transimpedance matched
to the knee V_sat; the output is the cell's normalised IREE read). Weights on differential
conductance pairs with 4, 6, 8 bits or analog ("float") levels, on the stratified 4000 /
1000 MNIST-5000 split (seed 0), every number on the 1000 held-out images.

Protocol: for every weight resolution the net is trained once (hardware-aware: the levels
in the forward pass, straight-through gradient; relaxed neurons = the thermal-mean M–H curve)
with magnets of `--train-length` (35 nm), then evaluated with magnets of 17, 25, 35 and 60 nm
(Delta = 16.6 ... 58.7 k_B T):

- `accuracy_mean_curve`: neurons at their thermal-mean transfer function (no read noise);
- `accuracy_noisy`: every neuron read once with its thermal noise (`IRMENNeuron.sample`,
  Gaussian with the length-dependent sd of `IRMENSurrogate`), mean and sd over `--seeds`
  noise draws;
- `energy_per_image_J`: `CrossbarNet.energy` (every array's read energy + every cell's
  write C V^2 + IREE read + OTA output), mean over the test images.

    python benchmarks/irmen_cenn.py [--epochs 3] [--n 5000] [--quick]

Writes benchmarks/results/irmen_cenn_<backend>.json.
"""

import argparse
import time

from _common import host_info, save

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from spinjax.circuits import CrossbarArray  # noqa: E402
from spinjax.networks import IRMENNeuron, cnn, evaluate, mnist5000, train  # noqa: E402

LENGTHS = (17e-9, 25e-9, 35e-9, 60e-9)
BITS = (4, 6, 8, None)


def with_length(net, length):
    """The same net with every IRMEN cell's magnet `length` [m]."""
    where = lambda m: [lay.neuron for lay in m.layers if lay.neuron is not None]  # noqa
    return eqx.tree_at(where, net, replace_fn=lambda n: eqx.tree_at(
        lambda c: c.length, n, jnp.asarray(length, float)))


@eqx.filter_jit
def _energy(net, x):
    return jnp.sum(net.energy(x))


def energy_per_image(net, x, batch=250):
    return sum(float(_energy(net, x[i:i + batch])) for i in range(0, len(x), batch)) / len(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--n", type=int, default=None, help="stratified subset of MNIST-5000")
    ap.add_argument("--train-length", type=float, default=35e-9)
    ap.add_argument("--seeds", type=int, default=3, help="thermal-noise draws per point")
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    t_start = time.perf_counter()
    # Build IRMENNeuron's moment table outside any trace (its first use inside jit fails).
    IRMENNeuron().mean(jnp.zeros(1))
    split = mnist5000(seed=0, n=400 if args.quick else args.n)
    epochs = 1 if args.quick else args.epochs
    print(f"MNIST: {len(split.x_train)} train / {len(split.x_test)} test", flush=True)
    rows = []
    train_info = {}
    for bits in BITS:
        t0 = time.perf_counter()
        net = cnn(key=jax.random.key(0), neuron=IRMENNeuron(length=args.train_length),
                  crossbar=CrossbarArray(bits=bits))
        net, hist = train(net, split.x_train, split.y_train, key=jax.random.key(1),
                          epochs=epochs, batch_size=64, learning_rate=args.lr, noise=False,
                          progress=False)
        name = "float" if bits is None else f"{bits}-bit"
        train_info[name] = {"seconds": time.perf_counter() - t0, "loss": hist["loss"],
                            "train_accuracy": hist["train_accuracy"],
                            "step_time_s": hist["step_time"]}
        for length in LENGTHS:
            m = with_length(net, length)
            mean_acc = evaluate(m, split.x_test, split.y_test)["accuracy"]
            noisy = [evaluate(m, split.x_test, split.y_test, key=jax.random.key(100 + s),
                              stochastic=True)["accuracy"] for s in range(args.seeds)]
            e = energy_per_image(m, split.x_test)
            cell = m.layers[0].neuron.surrogate.cell.with_length(length)
            sur = m.layers[0].neuron.surrogate
            row = {"bits": name, "length_m": length,
                   "barrier_kT": float(cell.thermal_stability()),
                   "transfer_rms_error": float(sur.rms_error(length)),
                   "accuracy_mean_curve": mean_acc,
                   "accuracy_noisy": float(np.mean(noisy)),
                   "accuracy_noisy_sd": float(np.std(noisy)), "accuracy_noisy_draws": noisy,
                   "energy_per_image_J": e}
            rows.append(row)
            print(f"{name:6s} L={length * 1e9:4.0f} nm  Delta={row['barrier_kT']:5.1f}  "
                  f"acc mean-curve {mean_acc:.4f}  noisy {row['accuracy_noisy']:.4f} "
                  f"± {row['accuracy_noisy_sd']:.4f}  E = {e * 1e12:.3f} pJ/image",
                  flush=True)
    out = {"benchmark": "irmen_cenn",
           "command": "python benchmarks/irmen_cenn.py " + " ".join(
               __import__("sys").argv[1:]),
           "network": "28x28-6c5-2s-12c5-2s-10o CNN on differential crossbars (3.7 MΩ, "
                      "ratio 20, dV = 50 mV), IRMEN activations",
           "n_train": len(split.x_train), "n_test": len(split.x_test), "epochs": epochs,
           "train_length_m": args.train_length, "noise_seeds": args.seeds,
           "training": train_info, "results": rows,
           "total_seconds": time.perf_counter() - t_start, "host": host_info()}
    save(f"irmen_cenn_{jax.default_backend()}" + ("_quick" if args.quick else "") + ".json",
         out)


if __name__ == "__main__":
    main()
