"""Cell-evaluations per second of the micromagnetic effective field, spinjax vs NeuralMag-JAX.

For each grid n x n x 1 (default n = 64, 128, 256, 512, 1024; 2 nm x 2 nm x 1 nm cells, no
mask) and dtype (float32, float64), times one jitted, warm evaluation of H_eff for two term
sets:

- "full":        Exchange + UniaxialAnisotropy + InterfacialDMI + Demag (a DMI film);
- "exch+demag":  Exchange + Demag (what muMAG SP4 evaluates every stage).

The rate is n^2 / (median wall-clock of one call) [cells/s], the median over `--repeat`
calls (or more, until ~`--min-time` s have been spent), compile time excluded. `compile_s` is
the first call: tracing, XLA compilation and, the first time a grid shape is used, the demag
kernel setup in numpy (minutes at 1024^2). A batch of
1000 small strips (64 x 8 x 1, `jax.vmap` over the magnetization of one system) is timed the
same way and reported as cells/s of the whole batch.

NeuralMag (JAX backend) is timed in the same run when `import neuralmag` works, e.g. with
`.venv-peers/bin/python benchmarks/micromag_throughput.py`; otherwise that peer is skipped.
NeuralMag uses a nodal discretisation: a mesh of n x n cells carries (n + 1)^2 nodes. Its
rates are reported per cell of the same mesh (cells/s, the same numerator as spinjax), with
the node count stored alongside. Its effective field is `state.resolve("h", ["m"])` wrapped in
`jax.jit`.

Usage: python benchmarks/micromag_throughput.py [--sizes 64 128 ...] [--dtypes float32 ...]
                                               [--strips 1000] [--no-peer] [--out NAME]
Writes benchmarks/results/micromag_throughput_<backend>.json (or --out).

Timings on a shared machine are only meaningful when nothing else runs: check `uptime`.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("NM_BACKEND", "jax")  # read by neuralmag at import (if present)

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from _common import host_info, save  # noqa: E402
from spinjax.micromag import (Demag, Exchange, InterfacialDMI, Mesh, Micromagnet,  # noqa: E402
                              UniaxialAnisotropy)

CELL = (2e-9, 2e-9, 1e-9)
MS, A_EX, KU, D_DMI = 8.6e5, 1.3e-11, 4e5, 3e-3
TERMS = {
    "full": lambda: (Exchange(), UniaxialAnisotropy(KU), InterfacialDMI(D_DMI), Demag()),
    "exch+demag": lambda: (Exchange(), Demag()),
}
STRIP = (64, 8, 1)


def median_time(fn, repeat, min_time):
    """Median wall-clock [s] of `fn()` (which blocks), after one warm-up call.

    Repeats at least `repeat` times and until `min_time` s have been spent (at most 200)."""
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < repeat or (time.perf_counter() - start < min_time and len(times) < 200):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), len(times)


def _m0(shape, dtype, batch=None):
    # A smooth non-uniform state (all terms do work), unit length per cell.
    x = np.linspace(0, 2 * np.pi, shape[0])[:, None, None]
    y = np.linspace(0, np.pi, shape[1])[None, :, None]
    m = np.stack([np.broadcast_to(c, shape) for c in
                  (np.sin(x) * np.cos(y), np.cos(x) * np.cos(y), np.sin(y))])
    m = m / np.linalg.norm(m, axis=0, keepdims=True)
    if batch is not None:
        rng = np.random.default_rng(0)
        m = m[None] + 0.1 * rng.standard_normal((batch,) + m.shape)
        m = m / np.linalg.norm(m, axis=1, keepdims=True)
    return jnp.asarray(m, dtype)


def spinjax_rate(shape, dtype, terms, repeat, min_time, batch=None):
    system = Micromagnet(Mesh(shape, CELL), MS, A_EX, 0.1, fields=TERMS[terms]())
    m = _m0(shape, dtype, batch)

    field = lambda m: system.effective_field(0.0, m)  # noqa: E731
    fn = jax.jit(jax.vmap(field) if batch is not None else field)
    start = time.perf_counter()
    out = fn(m)
    out.block_until_ready()
    compile_s = time.perf_counter() - start
    assert out.dtype == dtype, (out.dtype, dtype)
    t, n_rep = median_time(lambda: fn(m).block_until_ready(), repeat, min_time)
    cells = int(np.prod(shape)) * (batch or 1)
    return dict(cells=cells, seconds_per_call=t, repeats=n_rep, compile_s=compile_s,
                cells_per_s=cells / t)


# --- NeuralMag (optional peer) ------------------------------------------------------------------
def _neuralmag():
    try:
        import neuralmag as nm
    except Exception as err:  # noqa: BLE001  (any import failure: skip the peer)
        return None, f"{type(err).__name__}: {err}"
    import logging
    logging.getLogger("NeuralMag").setLevel(logging.WARNING)
    return nm, None


def neuralmag_rate(nm, shape, dtype, terms, repeat, min_time, batch=None):
    nm.config.dtype = jnp.dtype(dtype).name
    nx, ny, _ = shape
    mesh = nm.Mesh((nx, ny), CELL)  # 2D nodal mesh; CELL[2] is the film thickness
    state = nm.State(mesh)
    state.material.Ms = MS
    state.material.A = A_EX
    state.material.alpha = 0.1
    state.m = nm.VectorFunction(state).fill((0.6, 0.0, 0.8))
    names = ["exchange", "demag"]
    nm.ExchangeField().register(state, "exchange")
    nm.DemagField().register(state, "demag")
    if terms == "full":
        state.material.Ku = KU
        state.material.Ku_axis = [0, 0, 1]
        state.material.Di = D_DMI
        state.material.Di_axis = [0, 0, 1]
        nm.InterfaceDMIField().register(state, "dmi")
        nm.UniaxialAnisotropyField().register(state, "aniso")
        names += ["dmi", "aniso"]
    nm.TotalField(*names).register(state)
    field = state.resolve("h", ["m"])
    m = state.m.tensor  # nodal, (nx + 1, ny + 1, 3)
    if batch is not None:
        rng = np.random.default_rng(0)
        m = m[None] + jnp.asarray(0.1 * rng.standard_normal((batch,) + m.shape), m.dtype)
        m = m / jnp.linalg.norm(m, axis=-1, keepdims=True)
        fn = jax.jit(jax.vmap(field))
    else:
        fn = jax.jit(field)
    start = time.perf_counter()
    out = fn(m)
    out.block_until_ready()
    compile_s = time.perf_counter() - start
    t, n_rep = median_time(lambda: fn(m).block_until_ready(), repeat, min_time)
    cells = nx * ny * (batch or 1)
    return dict(cells=cells, nodes=(nx + 1) * (ny + 1) * (batch or 1), seconds_per_call=t,
                repeats=n_rep, compile_s=compile_s, cells_per_s=cells / t,
                dtype_out=str(out.dtype))


def throughput_table(sizes=(64, 128, 256, 512, 1024), dtypes=("float32", "float64"),
                     n_strips=1000, repeat=5, min_time=1.0, peer=True, verbose=True):
    """Rows {code, terms, dtype, grid, cells, cells_per_s, ...} of every measurement."""
    nm, why = _neuralmag() if peer else (None, "disabled (--no-peer)")
    if verbose and nm is None:
        print(f"NeuralMag not timed: {why}")
    codes = [("spinjax", spinjax_rate)]
    if nm is not None:
        codes.append(("neuralmag-jax", lambda *a, **k: neuralmag_rate(nm, *a, **k)))
    rows = []
    cases = [((n, n, 1), None) for n in sizes]
    if n_strips:
        cases.append((STRIP, n_strips))
    for dtype_name in dtypes:
        dtype = jnp.dtype(dtype_name)
        for terms in TERMS:
            for shape, batch in cases:
                grid = "x".join(map(str, shape)) + (f" x{batch} (vmap)" if batch else "")
                for code, fn in codes:
                    try:
                        r = fn(shape, dtype, terms, repeat, min_time, batch=batch)
                    except Exception as err:  # noqa: BLE001  (record, go on)
                        r = dict(error=f"{type(err).__name__}: {err}"[:300])
                    row = dict(code=code, terms=terms, dtype=dtype_name, grid=grid,
                               shape=list(shape), batch=batch, **r)
                    rows.append(row)
                    if verbose:
                        rate = (f"{row['cells_per_s']:10.3e} cells/s  "
                                f"({row['seconds_per_call'] * 1e3:9.3f} ms/call, "
                                f"compile {row['compile_s']:.1f} s)"
                                if "cells_per_s" in row else f"ERROR {row['error']}")
                        print(f"{code:14s} {terms:10s} {dtype_name:8s} {grid:22s} {rate}",
                              flush=True)
    return rows, (None if nm is None else getattr(nm, "__version__", "?")), why


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256, 512, 1024])
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"],
                        choices=["float32", "float64"])
    parser.add_argument("--strips", type=int, default=1000,
                        help="number of 64x8x1 strips in the vmapped batch (0: skip)")
    parser.add_argument("--repeat", type=int, default=5, help="minimum timed calls")
    parser.add_argument("--min-time", type=float, default=1.0,
                        help="keep repeating until this many seconds are spent")
    parser.add_argument("--no-peer", action="store_true", help="do not time NeuralMag")
    parser.add_argument("--out", default=None, help="output file name under results/")
    args = parser.parse_args()
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    rows, nm_version, nm_why = throughput_table(args.sizes, args.dtypes, args.strips,
                                                args.repeat, args.min_time, not args.no_peer)
    save(args.out or f"micromag_throughput_{jax.default_backend()}.json",
         dict(host=host_info(), load_average_at_start=load, cell_m=CELL,
              material=dict(Ms=MS, A=A_EX, Ku=KU, D=D_DMI),
              neuralmag=nm_version or f"not timed ({nm_why})",
              unit="cell-evaluations of the full H_eff per second (median call, warm, jitted)",
              results=rows))


if __name__ == "__main__":
    main()
