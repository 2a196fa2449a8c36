"""Simulated images per second and energy per image of the STDP spiking layer.

784 inputs, n excitatory stochastic SOT-MTJ neurons, 4-bit synapses, 340 steps per image
(Table II), MNIST-5000 images. Inference: `vmap` over a batch of 250 images; training:
sequential images (`train_stdp`, chunks of 100), STDP programmed online (every event) or
once per image. The layer is `snn_mnist.py`'s (README settings); inference uses its test
protocol (`BiasRamp` of 100 µA, 1 µA per step; learned offsets x 0.25). Compile time
excluded (one warm-up call); best of 2.

With `--bindsnet N` (run in an environment that has BindsNET and torch, e.g. the peers
one), BindsNET's Diehl & Cook network (`bindsnet_diehl_cook.py`: its MNIST example's
parameters, 250 steps of 1 ms per image, one image at a time, as the example runs) is timed
in the same run on N of the same images, training and inference, and the ratios are
reported. Its inference is not batched (the example's protocol); spinjax's is `vmap`ped.

Usage: python benchmarks/snn_speed.py [--neurons 100 225 400] [--bindsnet 50]
Writes benchmarks/results/snn_speed_<backend>.json.
"""

import argparse
import dataclasses
import json
import time

import jax
import numpy as np

from _common import RESULTS, host_info, save

from spinjax.networks import (STDP, BiasRamp, Homeostasis, SpikingLayer, images_per_second,
                              mnist5000, train_stdp)
from spinjax.networks.snn import _image_keys, _train_chunk


def layer_for(plasticity):
    return SpikingLayer(row_voltage=0.5, column_mean=0.1, min_spikes=5, input_total=100.0,
                        homeostasis=Homeostasis(theta_plus=0.2e-6, theta_rest=50e-6),
                        stdp=STDP(eta_plus=0.05, eta_minus=0.0167, offset=0.1),
                        plasticity=plasticity)


def tester_for(layer):
    """The test protocol of `snn_mnist.py`."""
    return dataclasses.replace(layer, max_tries=8, bias_ramp=BiasRamp(100e-6, 1e-6),
                               homeostasis=dataclasses.replace(layer.homeostasis,
                                                               inference_scale=0.25))


def train_speed(layer, state, images, key):
    keys = _image_keys(key, np.arange(len(images)))
    jax.block_until_ready(_train_chunk(layer, state, images, keys))
    best = np.inf
    for _ in range(2):
        t = time.perf_counter()
        jax.block_until_ready(_train_chunk(layer, state, images, keys))
        best = min(best, time.perf_counter() - t)
    return len(images) / best


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--neurons", type=int, nargs="+", default=[100, 225, 400])
    p.add_argument("--bindsnet", type=int, default=0, metavar="N",
                   help="also time BindsNET's Diehl & Cook network on N images")
    args = p.parse_args()
    sp = mnist5000(flatten=True, seed=0)
    x = jax.numpy.asarray(sp.x_train[:250])
    rows = []
    for n in args.neurons:
        layer = layer_for("image")
        state = layer.init(jax.random.key(0), 784, n)
        # A trained-like state: 100 images of learning first, so rates are realistic.
        state, _ = train_stdp(layer, state, sp.x_train[:100], jax.random.key(1), chunk=100,
                              progress=False)
        row = {"neurons": n,
               "inference_images_per_s": images_per_second(tester_for(layer), state, x,
                                                           jax.random.key(2)),
               "train_images_per_s_image_mode": train_speed(layer, state, x[:100],
                                                            jax.random.key(3)),
               "train_images_per_s_online": train_speed(layer_for("online"), state, x[:100],
                                                        jax.random.key(3))}
        _, rec = _train_chunk(layer, state, x[:100], _image_keys(jax.random.key(4),
                                                                  np.arange(100)))
        _, rec_online = _train_chunk(layer_for("online"), state, x[:100],
                                     _image_keys(jax.random.key(4), np.arange(100)))
        row["energy_per_train_image_J"] = {
            "neuron": float(rec.energy_neuron.mean()),
            "synapse_read": float(rec.energy_read.mean()),
            "programming_image_mode": float(rec.energy_program.mean()),
            "programming_online": float(rec_online.energy_program.mean())}
        rec_test = jax.vmap(lambda im, k: tester_for(layer).run(state, im, k)[1])(
            x, _image_keys(jax.random.key(5), np.arange(len(x))))
        row["energy_per_test_image_J"] = {"neuron": float(rec_test.energy_neuron.mean()),
                                          "synapse_read": float(rec_test.energy_read.mean())}
        row["simulated_time_per_image_s"] = float(layer.image_time())
        if args.bindsnet:
            from bindsnet_diehl_cook import images_per_second as bindsnet_speed
            train, infer = bindsnet_speed(n, sp.x_train[:args.bindsnet])
            row["bindsnet"] = {"images": args.bindsnet, "steps_per_image": 250,
                               "train_images_per_s": train, "inference_images_per_s": infer,
                               "train_ratio_image_mode": row["train_images_per_s_image_mode"]
                               / train,
                               "train_ratio_online": row["train_images_per_s_online"] / train,
                               "inference_ratio": row["inference_images_per_s"] / infer}
        print(row)
        rows.append(row)
    # Merge by neuron count into earlier results (each row keeps the host it ran on).
    path = RESULTS / f"snn_speed_{jax.default_backend()}.json"
    host = host_info()
    for row in rows:
        row["host"] = host
    kept = json.loads(path.read_text())["rows"] if path.exists() else []
    done = {row["neurons"] for row in rows}
    rows = sorted([r for r in kept if r["neurons"] not in done] + rows,
                  key=lambda r: r["neurons"])
    out = {"host": host, "note": "rows merged by neuron count; each row's own 'host' says "
                                 "when and where it was measured", "rows": rows}
    if args.bindsnet:
        import importlib.metadata as md
        out["peer"] = {"bindsnet": md.version("bindsnet"), "torch": md.version("torch")}
    save(f"snn_speed_{jax.default_backend()}.json", out)


if __name__ == "__main__":
    main()
