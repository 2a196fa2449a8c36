"""Cost of gradients through the stochastic LLG: time and memory versus number of steps.

Objective: mean final easy-axis component of N fixed-noise thermal trials of the 5a neuron
(float64; N = 64, and 1024 and 8192 at S = 3000 for the batch-size dependence), differentiated with respect to the free-layer thickness and the write-pulse
amplitude and width. For S = 1e3 .. 3e4 steps: forward time, gradient time (value and grad),
their ratio, and the peak temporary memory XLA allocates for the gradient program
(`compiled.memory_analysis()`), for diffrax's `RecursiveCheckpointAdjoint` with its default
checkpoint budget, with sqrt(S) checkpoints, and with one checkpoint per step (the linear-
memory baseline that plain backpropagation through the loop would need).

    python benchmarks/gradients.py [--quick]

Writes benchmarks/results/gradients_<backend>.json.
"""

import argparse
import math

from _common import best_time, host_info, save

import diffrax as dfx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import spinjax as sj  # noqa: E402
from spinjax import tuning  # noqa: E402

jax.config.update("jax_enable_x64", True)
N = 64
DT = 1e-13


def objective_fn(n_steps, adjoint):
    t1 = n_steps * DT

    def objective(params):
        thickness, amplitude, width = params
        system = sj.sot_mtj_neuron(thickness=thickness,
                                   current=sj.Pulse(amplitude, width, start=10e-12))
        m = tuning.final_states(system, n_trials=N, key=jax.random.key(0), t_read=t1, dt=DT,
                                adjoint=adjoint)
        return tuning.mean_easy_axis(m)

    return objective


def measure(n_steps, adjoint, label):
    params = jnp.array([1.2e-9, 80e-6, 0.5 * n_steps * DT])
    objective = objective_fn(n_steps, adjoint)
    forward = jax.jit(objective)
    gradient = jax.jit(jax.value_and_grad(objective))
    t_fwd = best_time(lambda: forward(params).block_until_ready(), repeat=2)
    t_grad = best_time(lambda: jax.block_until_ready(gradient(params)), repeat=2)
    memory = gradient.lower(params).compile().memory_analysis()
    temp = getattr(memory, "temp_size_in_bytes", None)
    row = dict(n_devices=N, n_steps=n_steps, adjoint=label, forward_s=t_fwd, gradient_s=t_grad,
               ratio=t_grad / t_fwd, gradient_temp_bytes=temp)
    print(f"N={N:>5d} S={n_steps:>6d} {label:24s} forward {t_fwd:7.3f} s  value+grad {t_grad:7.3f} s "
          f"ratio {t_grad / t_fwd:5.2f}  temp memory {temp / 2**20 if temp else float('nan'):8.1f} MiB")
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    steps = [1_000, 3_000] if args.quick else [1_000, 3_000, 10_000, 30_000]
    rows = []
    global N
    for n in (1024, 8192):  # batch-size dependence of the ratio at S = 3000
        N = n
        rows.append(dict(measure(3_000, dfx.RecursiveCheckpointAdjoint(), "checkpoints=default"),
                         n_devices=n))
    N = 64
    for s in steps:
        rows.append(measure(s, dfx.RecursiveCheckpointAdjoint(), "checkpoints=default"))
        k = int(math.ceil(math.sqrt(s)))
        rows.append(measure(s, dfx.RecursiveCheckpointAdjoint(checkpoints=k),
                            f"checkpoints=sqrt(S)={k}"))
        if s <= 10_000:
            rows.append(measure(s, dfx.RecursiveCheckpointAdjoint(checkpoints=s),
                                "checkpoints=S (linear)"))
    save(f"gradients_{jax.default_backend()}.json",
         dict(host=host_info(), n_devices=N, dt_s=DT, dtype="float64", results=rows))


if __name__ == "__main__":
    main()
