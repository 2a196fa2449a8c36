"""How far can a 'label the neurons, vote' readout of n prototypes go on the MNIST-5000 split?

A Diehl & Cook layer is competitive learning: each excitatory neuron holds one prototype
(its weight column), an image goes to the neuron it drives most, and neurons are labelled by
the class they answer. Its offline optimum is k-means with k = n: Lloyd's algorithm on the
same 4000 training images, each test image assigned to its nearest centre, and the centres
labelled and voted on exactly as `benchmarks/snn_mnist.py` labels its neurons
(`spinjax.networks.assign_labels` / `classify` on one-hot winners). A crossbar computes
this readout exactly: argmin_j |x - c_j|^2 = argmax_j (c_j . x - |c_j|^2 / 2), a column
current minus a per-column offset.

Two input representations: `raw` pixel intensities (what BindsNET's Poisson rates are
proportional to) and `rows`, what the spinjax crossbar sees: each row's mean on-probability
1 - (1 - max_rate x)^pulse_steps under rate coding with voltage pulses, scaled per image to a
common total (`SpikingLayer.input_total`). The numbers put the SNN results in context: the
STDP network (noise-free readout of its learned weights) and BindsNET are compared with
what the same number of prototypes reaches with this readout. numpy only, ~2 min on 2
CPU cores.

`--weights NPZ ...` also takes networks saved by `snn_mnist.py --save-weights` (trained with
the README's settings) apart. Each network partitions the training images among its neurons
(noise-free winners). The script scores three readouts of that partition:
- the learned weights and offsets (the noise-free readout of snn_mnist.py);
- the learned weights with the k-means offset |w_j|^2 / 2 in place of the learned ones;
- each neuron's weights replaced by the mean row drive of the images it wins (one Lloyd
  step from the network's own partition), with offset |c_j|^2 / 2.
The last two use the ideal crossbar dot product (no Kirchhoff loading). Together they show
whether the partition or the prototypes limit the network.

Usage:
    python benchmarks/snn_kmeans_reference.py --neurons 100 225 400 --seeds 0 1 2 \
        --encodings raw rows [--weights benchmarks/results/snn_mnist_ramp_*n100*.npz]
Writes benchmarks/results/snn_kmeans_reference.json.
"""

import argparse
from pathlib import Path

import numpy as np

from _common import host_info, save

from spinjax.networks import SpikingLayer, assign_labels, classify, mnist5000


def row_drive(x, layer=None):
    """Mean row drive of images `x` (n, 784) in the spinjax crossbar (see the module
    docstring), each image scaled to a total of 100 (dimensionless)."""
    layer = SpikingLayer() if layer is None else layer
    on = 1.0 - (1.0 - float(layer.max_rate) * x) ** layer.pulse_steps
    return 100.0 * on / on.sum(1, keepdims=True)


def squared_distances(x, centres):
    """|x_i - c_j|^2 (n, k) without the (n, k, d) intermediate (clipped at 0: the expanded
    form can round a zero distance to a tiny negative number)."""
    d2 = (x * x).sum(1)[:, None] - 2.0 * x @ centres.T + (centres * centres).sum(1)[None, :]
    return np.maximum(d2, 0.0)


def kmeans(x, k, seed, *, max_iter=300):
    """Lloyd's algorithm from a k-means++ start (one start). **Returns:** centres (k, d)."""
    rng = np.random.default_rng(seed)
    centres = [x[rng.integers(len(x))]]
    d2 = squared_distances(x, np.asarray(centres))[:, 0]
    for _ in range(1, k):                       # k-means++: D^2 sampling
        centres.append(x[rng.choice(len(x), p=d2 / d2.sum())])
        d2 = np.minimum(d2, squared_distances(x, centres[-1][None])[:, 0])
    centres = np.asarray(centres)
    assign = None
    for _ in range(max_iter):
        new = squared_distances(x, centres).argmin(1)
        if assign is not None and np.array_equal(new, assign):
            break
        assign = new
        for j in range(k):
            members = x[assign == j]
            if len(members):                    # an empty cluster keeps its centre
                centres[j] = members.mean(0)
    return centres


def vote_accuracy(centres, x_train, y_train, x_test, y_test):
    """Test accuracy of nearest-centre winners, labelled and voted as in snn_mnist.py."""
    one_hot = np.eye(len(centres))
    win_tr = squared_distances(x_train, centres).argmin(1)
    win_te = squared_distances(x_test, centres).argmin(1)
    labels = assign_labels(one_hot[win_tr], y_train, 10)
    return float(np.mean(classify(one_hot[win_te], labels, 10) == y_test))


# The training options of the README's MNIST runs (what the saved weights were trained with).
README_SETTINGS = ["--voltage", "0.5", "--theta-rest", "50", "--theta-plus", "0.2"]


def dissect(path, split):
    """Readouts of one saved network's partition (module docstring). **Returns:** dict."""
    import dataclasses

    import jax.numpy as jnp

    import snn_mnist
    from spinjax.networks import LayerState

    layer = snn_mnist.make_layer(snn_mnist.parser().parse_args(README_SETTINGS))
    saved = np.load(path)
    w = np.asarray(saved["w"], np.float64)
    state = LayerState(w=jnp.asarray(saved["w"]), theta=jnp.asarray(saved["theta"]),
                       gain=jnp.ones(w.shape, jnp.float32))
    def drive(x):                       # mean row voltages [V], as in noise_free_winners
        on = 1.0 - (1.0 - float(layer.max_rate) * x) ** layer.pulse_steps
        gain = np.minimum(float(layer.input_total) / x.sum(1), 1.0 / float(layer.row_voltage))
        return on * gain[:, None] * float(layer.row_voltage)

    drive_tr, drive_te = drive(split.x_train), drive(split.x_test)
    one_hot = np.eye(w.shape[1])

    def accuracy(win_tr, win_te):
        labels = assign_labels(one_hot[win_tr], split.y_train, 10)
        return (float(np.mean(classify(one_hot[win_tr], labels, 10) == split.y_train)),
                float(np.mean(classify(one_hot[win_te], labels, 10) == split.y_test)))

    learned = {}                        # offsets scaled as in snn_mnist.py, chosen on train
    for scale in (0.25, 0.5):
        t = dataclasses.replace(layer, homeostasis=dataclasses.replace(
            layer.homeostasis, inference_scale=scale))
        wins = (snn_mnist.noise_free_winners(t, state, split.x_train),
                snn_mnist.noise_free_winners(t, state, split.x_test))
        learned[scale] = (accuracy(*wins), wins[0])
    scale = max(learned, key=lambda k: learned[k][0][0])
    (train_acc, test_acc), partition = learned[scale]

    def euclid(centres_as_rows):        # argmax_j v . c_j - |c_j|^2 / 2, per image scale
        c = centres_as_rows.T
        half = 0.5 * (c * c).sum(0)
        return accuracy((drive_tr @ c - half).argmax(1), (drive_te @ c - half).argmax(1))

    # Learned columns scaled to the drive's units: a column of mean 0.1 holds the same total
    # as the mean training image's drive.
    w_rows = (w / w.sum(0) * drive_tr.sum(1).mean()).T
    means = np.stack([drive_tr[partition == j].mean(0) if np.any(partition == j)
                      else drive_tr.mean(0) for j in range(w.shape[1])])
    return {"weights": Path(path).name, "neurons": int(w.shape[1]), "offset_scale": scale,
            "learned_readout": test_acc,
            "learned_weights_kmeans_offset": euclid(w_rows)[1],
            "member_means_kmeans_offset": euclid(means)[1]}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--neurons", type=int, nargs="+", default=[100, 225, 400])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--encodings", nargs="+", choices=["raw", "rows"], default=["raw", "rows"])
    p.add_argument("--weights", nargs="+", default=[], metavar="NPZ",
                   help="saved networks (snn_mnist.py --save-weights) to take apart")
    args = p.parse_args()
    split = mnist5000(flatten=True, seed=0)
    encodings = {"raw": lambda x: x.astype(np.float64),
                 "rows": lambda x: row_drive(x.astype(np.float64))}
    runs, summary = [], {}
    for name in args.encodings:
        x_tr, x_te = encodings[name](split.x_train), encodings[name](split.x_test)
        for k in args.neurons:
            accs = []
            for seed in args.seeds:
                acc = vote_accuracy(kmeans(x_tr, k, seed), x_tr, split.y_train, x_te,
                                    split.y_test)
                accs.append(acc)
                runs.append({"encoding": name, "neurons": k, "seed": seed,
                             "test_accuracy": acc})
                print(f"{name}, k = {k}, seed {seed}: {acc:.3f}", flush=True)
            std = float(np.std(accs, ddof=1)) if len(accs) > 1 else 0.0
            summary[f"{name}_{k}"] = {"mean": float(np.mean(accs)), "std": std,
                                      "seeds": args.seeds}
            print(f"{name}, k = {k}: {np.mean(accs):.3f} ± {std:.3f}")
    networks = []
    for path in args.weights:
        networks.append(dissect(path, split))
        print(networks[-1], flush=True)
    save("snn_kmeans_reference.json", {"host": host_info(), "args": vars(args), "runs": runs,
                                       "summary": summary, "networks": networks})


if __name__ == "__main__":
    main()
