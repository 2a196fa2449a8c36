"""How far can a 'label the neurons, vote' readout of n prototypes go on the MNIST-5000 split?

A Diehl & Cook layer is competitive learning: each excitatory neuron holds one prototype
(its weight column), an image goes to the neuron it drives most, and neurons are labelled by
the class they answer. Its offline optimum is k-means with k = n: Lloyd's algorithm on the
same 4000 training images, each test image assigned to its nearest centre, and the centres
labelled and voted on exactly as `benchmarks/snn_mnist.py` labels its neurons
(`spinjax.networks.assign_labels` / `classify` on one-hot winners). A crossbar computes
this readout exactly: argmin_j |x - c_j|^2 = argmax_j (c_j . x - |c_j|^2 / 2), a column
current minus a per-column offset.

The numbers put the SNN results in context: the STDP network (noise-free readout of its
learned weights) and BindsNET are compared with what the same number of prototypes can do
at best with this readout. numpy only, ~1 min on 2 CPU cores.

Usage:
    python benchmarks/snn_kmeans_reference.py --neurons 100 225 400 --seeds 0 1 2
Writes benchmarks/results/snn_kmeans_reference.json.
"""

import argparse

import numpy as np

from _common import host_info, save

from spinjax.networks import assign_labels, classify, mnist5000


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


def vote_accuracy(centres, split):
    """Test accuracy of nearest-centre winners, labelled and voted as in snn_mnist.py."""
    one_hot = np.eye(len(centres))
    win_tr = squared_distances(split.x_train, centres).argmin(1)
    win_te = squared_distances(split.x_test, centres).argmin(1)
    labels = assign_labels(one_hot[win_tr], split.y_train, 10)
    return float(np.mean(classify(one_hot[win_te], labels, 10) == split.y_test))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--neurons", type=int, nargs="+", default=[100, 225, 400])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = p.parse_args()
    split = mnist5000(flatten=True, seed=0)
    x = split.x_train.astype(np.float64)
    runs, summary = [], {}
    for k in args.neurons:
        accs = []
        for seed in args.seeds:
            acc = vote_accuracy(kmeans(x, k, seed), split)
            accs.append(acc)
            runs.append({"neurons": k, "seed": seed, "test_accuracy": acc})
            print(f"k = {k}, seed {seed}: {acc:.3f}", flush=True)
        summary[str(k)] = {"mean": float(np.mean(accs)),
                           "std": float(np.std(accs, ddof=1)) if len(accs) > 1 else 0.0,
                           "seeds": args.seeds}
        print(f"k = {k}: {np.mean(accs):.3f} ± {summary[str(k)]['std']:.3f}")
    save("snn_kmeans_reference.json", {"host": host_info(), "args": vars(args), "runs": runs,
                                     "summary": summary})


if __name__ == "__main__":
    main()
