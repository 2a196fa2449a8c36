"""Device–weight co-optimisation: accuracy–energy Pareto fronts, default vs co-optimised.

A crossbar MLP (n_in-H-10, 4-bit differential conductances, 3.7 MΩ, ratio 20, G_s = 1/400 Ω)
with stochastic SOT-MTJ neurons from `SOTNeuronFamily`, run as a stochastic net over T time
steps (analog input held on the rows, every neuron sampled each step, output currents
integrated). Energy per inference: `CoDesign.energy_terms` (crossbar reads with the
expected spike statistics, neuron write I^2 R_HM t_PW at its actual current, read, reset
when it spikes; x T). Loss: cross-entropy + lam x energy / E_ref, E_ref the energy per
inference of the untrained default-device net (the same for every run).

1. the weights are pre-trained at lam = 0 on the default devices (1.2 nm, 0.5 ns, dV = 50 mV);
2. for every lam: (a) default devices, only the weights fine-tuned; (b) weights and device
   parameters (free-layer thickness, write pulse width, dV; sigmoid-reparametrised inside
   0.8–1.5 nm, 0.2–1 ns, 10–100 mV) fine-tuned together, same epochs and seeds;
3. every point on the held-out test split: stochastic accuracy at T steps (fixed key),
   relaxed accuracy, energy per inference and its terms, the devices found; the Pareto
   fronts of (a) and (b) and, per default point, the co-optimised energy at equal accuracy
   and accuracy at equal energy (`compare_fronts`).

    python benchmarks/crossbar_cooptimization.py [--dataset mnist|digits] [--quick]

Writes benchmarks/results/crossbar_cooptimization_<backend>.json.
"""

import argparse
import time

from _common import host_info, save

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from spinjax.circuits import CrossbarArray  # noqa: E402
from spinjax.networks import StochasticMTJNeuron, digits, mlp, mnist5000  # noqa: E402
from spinjax.networks.cooptimize import (CoDesign, compare_fronts, cooptimize,  # noqa: E402
                                         evaluate_codesign, pareto_front)


def point(model, split, key, lam, kind, hist, seconds):
    stoch = evaluate_codesign(model, split.x_test, split.y_test, key=key)
    relaxed = evaluate_codesign(model, split.x_test, split.y_test)
    terms = {k: float(jnp.mean(v)) for k, v in model.energy_terms(split.x_test).items()}
    out = {"kind": kind, "lam": lam, "accuracy": stoch["accuracy"],
           "relaxed_accuracy": relaxed["accuracy"], "energy_J": stoch["energy"],
           "energy_terms_J": terms, "devices": stoch["devices"],
           "barrier_kT": float(model.barrier()), "train_seconds": seconds,
           "final_train_loss": hist["loss"][-1] if hist else None}
    print(f"{kind:8s} lam={lam:<6g} acc={out['accuracy']:.4f} (relaxed "
          f"{out['relaxed_accuracy']:.4f}) E={out['energy_J'] * 1e12:.4f} pJ  "
          + " ".join(f"{k}={v:.3g}" for k, v in out["devices"].items()), flush=True)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", choices=("mnist", "digits"), default="mnist")
    ap.add_argument("--hidden", type=int, default=None, help="hidden neurons (100 / 32)")
    ap.add_argument("--steps", type=int, default=8, help="time steps T per inference")
    ap.add_argument("--pretrain-epochs", type=int, default=None)
    ap.add_argument("--epochs", type=int, default=None, help="fine-tune epochs per lambda")
    ap.add_argument("--lams", type=float, nargs="+", default=[0.0, 0.1, 0.3, 1.0, 3.0])
    ap.add_argument("--reset", choices=("overdrive", "fixed"), default="overdrive")
    ap.add_argument("--quick", action="store_true", help="tiny smoke run")
    ap.add_argument("--progress", action="store_true")
    args = ap.parse_args()

    t_start = time.perf_counter()
    mnist = args.dataset == "mnist"
    split = mnist5000(seed=0) if mnist else digits(seed=0)
    if args.quick:
        split = split._replace(x_train=split.x_train[:512], y_train=split.y_train[:512])
    shape = split.x_train.shape[1:]
    n_in = int(np.prod(shape))
    hidden = args.hidden or (100 if mnist else 32)
    pre_epochs = args.pretrain_epochs or (2 if args.quick else (8 if mnist else 15))
    epochs = args.epochs or (1 if args.quick else (4 if mnist else 8))
    lams = args.lams[:2] if args.quick else args.lams

    net = mlp((n_in, hidden, 10), key=jax.random.key(0),
              neuron=StochasticMTJNeuron.from_family(), crossbar=CrossbarArray(bits=4),
              input_shape=shape, init_scale=3.0)
    model0 = CoDesign.create(net, n_steps=args.steps, reset=args.reset)
    e_ref = float(jnp.mean(model0.energy_per_inference(split.x_train[:500])))
    print(f"{args.dataset}: {len(split.x_train)} train / {len(split.x_test)} test, "
          f"{n_in}-{hidden}-10, T = {args.steps}, E_ref = {e_ref * 1e12:.4f} pJ", flush=True)

    t0 = time.perf_counter()
    pre, hist = cooptimize(model0, split.x_train, split.y_train, key=jax.random.key(1),
                           lam=0.0, energy_reference=e_ref, epochs=pre_epochs,
                           train_devices=False, progress=args.progress)
    key_eval = jax.random.key(7)
    points = [point(pre, split, key_eval, 0.0, "pretrained", hist,
                    time.perf_counter() - t0)]
    step_times = []
    for lam in lams:
        for kind, td in (("default", False), ("co-opt", True)):
            t0 = time.perf_counter()
            m, hist = cooptimize(pre, split.x_train, split.y_train, key=jax.random.key(2),
                                 lam=lam, energy_reference=e_ref, epochs=epochs,
                                 train_devices=td, progress=args.progress)
            dt = time.perf_counter() - t0
            step_times.append(hist["seconds"][-1] / (len(split.x_train) // 64))
            points.append(point(m, split, key_eval, lam, kind, hist, dt))

    default = [p for p in points if p["kind"] in ("pretrained", "default")]
    coopt = [p for p in points if p["kind"] == "co-opt"]
    ea = lambda ps: [(p["energy_J"], p["accuracy"]) for p in ps]  # noqa: E731
    front_a = pareto_front(*zip(*ea(default)))
    front_b = pareto_front(*zip(*ea(coopt)))
    cmp = compare_fronts([ea(default)[i] for i in front_a], ea(coopt))
    for c in cmp:
        print(f"default E={c['energy'] * 1e12:.4f} pJ acc={c['accuracy']:.4f}: co-opt energy "
              f"ratio at >= accuracy {c['energy_ratio']}, accuracy gain at <= energy "
              f"{c['accuracy_gain']}")
    out = {
        "benchmark": "crossbar_cooptimization",
        "command": "python benchmarks/crossbar_cooptimization.py " + " ".join(
            a for a in __import__("sys").argv[1:]),
        "dataset": args.dataset, "n_train": len(split.x_train), "n_test": len(split.x_test),
        "network": f"{n_in}-{hidden}-10 MLP, 4-bit differential crossbar, SOT-MTJ neurons "
                   f"(SOTNeuronFamily), T = {args.steps} steps (analog input held)",
        "reset": args.reset, "energy_reference_J": e_ref,
        "pretrain_epochs": pre_epochs, "finetune_epochs": epochs, "lams": lams,
        "points": points,
        "pareto_default": [default[i] | {"index": int(i)} for i in front_a],
        "pareto_coopt": [coopt[i] | {"index": int(i)} for i in front_b],
        "comparison": cmp,
        "median_step_time_s": float(np.median(step_times)),
        "total_seconds": time.perf_counter() - t_start,
        "host": host_info(),
    }
    save(f"crossbar_cooptimization_{jax.default_backend()}"
         + ("_quick" if args.quick else "") + ("" if args.reset == "overdrive" else "_fixedreset")
         + ("" if mnist else "_digits") + ".json", out)


if __name__ == "__main__":
    main()
