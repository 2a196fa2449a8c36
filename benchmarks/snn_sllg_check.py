"""Validate the MTJ neuron surrogate inside the network: sLLG in the loop versus surrogate.

The 9-neuron source network is trained with the surrogate neuron (`snn_two_class.py`,
seed 0); then the same test images are classified by the trained layer with (a) the surrogate
`MTJSpikingNeuron` and (b) `SLLGSpikingNeuron`, the thermal sLLG macrospin of every neuron
solved in each network step (write 0.5 ns, free relaxation to the end of a 1 ns clock, divider
read, reset pulse; dt = 0.5 ps; the magnetization carries over, so sub-threshold writes
integrate and leak). Reported: accuracy, spikes per image and the fraction of test spikes from
neurons labelled with the shown class, for both.

Usage: python benchmarks/snn_sllg_check.py [--images 20]
Writes benchmarks/results/snn_sllg_check_<backend>.json.
"""

import argparse
import time

import equinox as eqx
import jax
import numpy as np

from _common import host_info, save
from snn_two_class import data, source_layer

from spinjax.networks import SLLGSpikingNeuron, assign_labels, classify, respond, train_stdp


def summary(counts, labels, y):
    pred = classify(counts, labels, 2)
    own = sum(counts[i, labels == y[i]].sum() for i in range(len(y)))
    return {"accuracy": float(np.mean(pred == y)),
            "spikes_per_image": float(counts.sum(1).mean()),
            "spike_share_of_shown_class": float(own / max(counts.sum(), 1))}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--images", type=int, default=20)
    args = p.parse_args()
    x_tr, y_tr, x_te, y_te = data()
    layer = source_layer()
    state = layer.init(jax.random.key(0), 784, 9)
    state, _ = train_stdp(layer, state, x_tr, jax.random.key(1), chunk=50, progress=False)
    labels = assign_labels(respond(layer, state, x_tr, jax.random.key(2)).counts, y_tr, 2)
    rng = np.random.default_rng(0)
    idx = rng.choice(len(y_te), args.images, replace=False)
    x, y = x_te[idx], y_te[idx]
    out = {"images": args.images,
           "surrogate": summary(respond(layer, state, x, jax.random.key(3)).counts, labels, y)}
    sllg = eqx.tree_at(lambda l: l.neuron, layer, SLLGSpikingNeuron())
    t0 = time.perf_counter()
    counts = respond(sllg, state, x, jax.random.key(3), chunk=5, progress=True).counts
    out["sllg"] = summary(counts, labels, y)
    out["sllg_seconds_per_image"] = (time.perf_counter() - t0) / args.images
    print(out)
    save(f"snn_sllg_check_{jax.default_backend()}.json", {"host": host_info(), **out})


if __name__ == "__main__":
    main()
