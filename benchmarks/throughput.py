"""Device-steps per second of the stochastic macrospin solver versus batch size.

The SOT-MTJ neuron of physics.md 5a at 300 K with a 60 µA SOT pulse, Heun, dt = 0.1 ps,
final state only. For each dtype (float32, float64) and noise law ("gaussian", "three_point")
and N = 1e2 .. 1e5 (1e6 with --large): wall-clock of a 1 ns solve (1e4 steps), compile time
excluded. Also timed at N = 1e4: the same physics as `vmap` over one-device diffeqsolves (the
layout alternative the library does not use).

    python benchmarks/throughput.py [--quick] [--large]

Writes benchmarks/results/throughput_<backend>.json.
"""

import argparse

from _common import best_time, host_info, save, use_all_cores

N_CORES = use_all_cores()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import spinjax as sj  # noqa: E402
from spinjax import solve as solve_mod  # noqa: E402
from spinjax.noise import trial_seeds  # noqa: E402

jax.config.update("jax_enable_x64", True)


def neuron():
    return sj.sot_mtj_neuron(current=sj.Pulse(60e-6, width=0.5e-9, start=0.1e-9))


def spinjax_rate(n, dtype, noise, t1=1e-9, dt=1e-13):
    m0 = jnp.tile(jnp.array(sj.presets.P_STATE), (n, 1))
    system = neuron()

    def run():
        out = sj.simulate(system, m0, t1=t1, dt=dt, key=jax.random.key(0), dtype=dtype,
                          noise=noise)
        out.m.block_until_ready()

    steps = round(t1 / dt)
    return n * steps / best_time(run, repeat=1 if n * steps >= 1e9 else 3)


def vmap_of_solves_rate(n, dtype, noise, t1=1e-9, dt=1e-13):
    """Same physics, one diffeqsolve per device mapped with vmap (devices-first layout)."""
    system = solve_mod._cast_floats(neuron(), dtype)
    steps = round(t1 / dt)
    step_times = jnp.asarray(np.arange(steps + 1) * dt / solve_mod.TIME_UNIT, dtype)
    seeds = trial_seeds(jax.random.key(0), jnp.arange(n))
    y0 = jnp.tile(jnp.array(sj.presets.P_STATE, dtype), (n, 1))

    @jax.jit
    def run_all(y0, seeds):
        def one(m, seed):
            _, ys = solve_mod._integrate(
                system, sj.Vec3.from_array(m[None, :]), seed[:, None], step_times, None,
                system_axes=None, noise=noise, adaptive=False, rtol=0, atol=0,
                max_steps=steps, adjoint=solve_mod.dfx.RecursiveCheckpointAdjoint(),
                progress=False)
            return ys
        return jax.vmap(one)(y0, seeds.T)

    return n * steps / best_time(lambda: run_all(y0, seeds).block_until_ready())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N up to 1e4, float32 only")
    parser.add_argument("--large", action="store_true", help="also N = 1e6")
    args = parser.parse_args()
    sizes = [100, 1_000, 10_000] if args.quick else [100, 1_000, 10_000, 100_000]
    if args.large:
        sizes.append(1_000_000)
    dtypes = [jnp.float32] if args.quick else [jnp.float32, jnp.float64]
    rows = []
    for dtype in dtypes:
        for noise in ("gaussian", "three_point"):
            for n in sizes:
                rate = spinjax_rate(n, dtype, noise)
                rows.append(dict(layout="spinjax (SoA, one solve)", dtype=jnp.dtype(dtype).name,
                                 noise=noise, n_devices=n, device_steps_per_s=rate))
                print(f"{jnp.dtype(dtype).name:8s} {noise:12s} N={n:>8d}  {rate:.3e} device-steps/s")
    for noise in ("gaussian", "three_point"):
        rate = vmap_of_solves_rate(10_000, jnp.float32, noise)
        rows.append(dict(layout="vmap over per-device solves", dtype="float32", noise=noise,
                         n_devices=10_000, device_steps_per_s=rate))
        print(f"vmap-of-solves float32 {noise:12s} N=   10000  {rate:.3e} device-steps/s")
    save(f"throughput_{jax.default_backend()}.json",
         dict(host=host_info(), xla_devices=N_CORES, dt_s=1e-13, t1_s=1e-9, results=rows))


if __name__ == "__main__":
    main()
