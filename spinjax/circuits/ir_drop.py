"""IR drop: a crossbar tile with resistive wires solved as a resistive network.

Tile of R rows x C columns. Row i is driven at its left end by an ideal source V_i through one
wire segment; row wire nodes (i, k) are joined by segments of resistance r and the far end is
open. Column j's wire nodes (i, j) are joined by segments r, open at the top, and the bottom
node connects through one segment to the column end, held at V_end (the neuron's input node).
The device G_ij joins row node (i, j) and column node (i, j). Kirchhoff's current law at the
2 R C nodes is a symmetric positive definite system A x = b.

Solver: conjugate gradients (`jax.scipy.sparse.linalg.cg`, differentiable through its implicit
linear solve) preconditioned by the exact solve of every row wire and every column wire on its
own (tridiagonal, `jax.lax.linalg.tridiagonal_solve`): the stiff wire part is inverted exactly,
so CG only has to resolve the weak device coupling (G r N^2 << 1 in practice) and converges in
a few iterations, not the O(N) a Jacobi preconditioner needs.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float


def _laplacians(g, gw):  # g: (R, C)
    """Diagonals of the row-wire and column-wire tridiagonal blocks (with the devices' G on
    the diagonal): rows along axis 1 (Dirichlet at k = 0), columns along axis 0 (Dirichlet
    at the bottom)."""
    n_r, n_c = g.shape
    k = jnp.arange(n_c)
    i = jnp.arange(n_r)
    d_row = gw * (1.0 + (k < n_c - 1))[None, :] + g
    d_col = gw * (1.0 + (i > 0))[:, None] + g
    return d_row, d_col


def _matvec(g, gw):
    def apply(x):
        vr, vc = x  # (..., R, C) each
        # Row wires: left neighbour is the source (moved to b) at k = 0; far end open.
        left = vr - jnp.concatenate([jnp.zeros_like(vr[..., :1]), vr[..., :-1]], axis=-1)
        right = jnp.concatenate([vr[..., :-1] - vr[..., 1:], jnp.zeros_like(vr[..., :1])],
                                axis=-1)
        ar = gw * (left + right) + g * (vr - vc)
        # Column wires: top open; bottom neighbour is the column end (moved to b).
        up = jnp.concatenate([jnp.zeros_like(vc[..., :1, :]), vc[..., 1:, :] - vc[..., :-1, :]],
                             axis=-2)
        down = vc - jnp.concatenate([vc[..., 1:, :], jnp.zeros_like(vc[..., :1, :])], axis=-2)
        ac = gw * (up + down) + g * (vc - vr)
        return ar, ac
    return apply


def _preconditioner(g, gw, batch):
    d_row, d_col = _laplacians(g, gw)
    off = -gw * jnp.ones_like(g)
    shape = batch + g.shape
    shape_t = batch + g.shape[::-1]
    row_l = jnp.broadcast_to(off.at[:, 0].set(0.0), shape)
    row_u = jnp.broadcast_to(off.at[:, -1].set(0.0), shape)
    row_d = jnp.broadcast_to(d_row, shape)
    col_l = jnp.broadcast_to(off.T.at[:, 0].set(0.0), shape_t)
    col_u = jnp.broadcast_to(off.T.at[:, -1].set(0.0), shape_t)
    col_d = jnp.broadcast_to(d_col.T, shape_t)
    solve = jax.lax.linalg.tridiagonal_solve

    def apply(x):  # every row wire and every column wire solved on its own
        rows = solve(row_l, row_d, row_u, x[0][..., None])[..., 0]
        cols = solve(col_l, col_d, col_u, jnp.swapaxes(x[1], -1, -2)[..., None])[..., 0]
        return rows, jnp.swapaxes(cols, -1, -2)
    return apply


@functools.partial(jax.jit, static_argnames=("tol", "maxiter"))
def tile_column_currents(g, v_rows, wire_resistance, v_end=0.0, *, tol=None,
                         maxiter=None) -> Float[Array, "... n_cols"]:
    """Currents [A] flowing out of the bottom of each column of one tile into its column end.

    **Arguments:**

    - `g`: device conductances [S], (R, C), >= 0.
    - `v_rows`: source voltages of the R rows [V], (..., R) (a batch of inputs is solved
      as one block-diagonal system).
    - `wire_resistance`: r, resistance of one wire segment [Ohm], > 0.
    - `v_end`: voltage of the column ends [V], broadcastable to (..., C).
    - `tol`: relative residual tolerance of CG (default 1e-12 in float64, 1e-5 in float32: its round-off floor);
      `maxiter`: default 30; the wire-preconditioned iteration needs ~5-10 while the device
      coupling is weak (r G N^2 << 1, realistic arrays); pass more for extreme wires.

    **Returns:** (..., C) column currents [A].
    """
    g = jnp.asarray(g)
    n_r, n_c = g.shape
    gw = 1.0 / wire_resistance
    v_rows = jnp.asarray(v_rows, g.dtype)
    batch = jnp.broadcast_shapes(v_rows.shape[:-1], jnp.shape(v_end)[:-1])
    v_rows = jnp.broadcast_to(v_rows, batch + (n_r,))
    v_end = jnp.broadcast_to(jnp.asarray(v_end, g.dtype), batch + (n_c,))
    if tol is None:
        tol = 1e-12 if g.dtype == jnp.float64 else 1e-5
    if maxiter is None:
        maxiter = 30
    # Solve for the deviation from the no-device solution (rows at their source voltage,
    # columns at v_end): its right-hand side is minus the device currents of that state,
    # so the relative tolerance applies to them and not to the (much larger) wire terms.
    drive = v_rows[..., :, None] - v_end[..., None, :]
    g_batch = jnp.broadcast_to(g, drive.shape)
    rhs = (-g_batch * drive, g_batch * drive)
    (_, dvc), _ = jax.scipy.sparse.linalg.cg(_matvec(g_batch, gw), rhs, tol=tol, atol=0.0,
                                             maxiter=maxiter,
                                             M=_preconditioner(g, gw, batch))
    return gw * dvc[..., -1, :]


def _blocks(n, size):
    size = n if size is None else size
    return [(s, min(s + size, n)) for s in range(0, n, size)]


def tiled_ir_drop_currents(g, v, wire_resistance, neuron_conductance, tile_rows=None,
                           tile_cols=None) -> Float[Array, "... n_out"]:
    """Neuron input currents [A] of a (possibly tiled) crossbar with wire resistance.

    `g` (n_rows, n_out) [S] is split into tiles of `tile_rows` x `tile_cols` cross-points,
    each an independent array with its own row drivers and wires (`tile_column_currents`).
    The row tiles of a column join at the neuron's input node, which leaks to ground through
    G_s = `neuron_conductance` [S] (`inf`: held at 0 V). Each tile is linear, so it acts on
    the node voltages V_n of its columns as a multi-port Norton source, I_t = a_t - B_t V_n:
    a_t its currents into grounded ends, B_t (n x n) its conductance matrix seen from the ends
    (columns couple through the resistive row wires, so B_t is not diagonal). With
    I = G_s V_n = sum_t I_t the neuron currents solve (1 + B diag(1/G_s)) I = sum_t a_t,
    B = sum_t B_t. `v`: row voltages [V], (..., n_rows).

    **Returns:** (..., n_out) currents [A].
    """
    g = jnp.asarray(g)
    v = jnp.asarray(v, g.dtype)
    batch = v.shape[:-1]
    v_flat = v.reshape((-1, g.shape[0]))
    g_s = jnp.broadcast_to(jnp.asarray(neuron_conductance, g.dtype), (g.shape[1],))
    out = []
    for c0, c1 in _blocks(g.shape[1], tile_cols):
        n = c1 - c0
        short = jnp.zeros((v_flat.shape[0], n), g.dtype)
        load = jnp.zeros((n, n), g.dtype)
        for r0, r1 in _blocks(g.shape[0], tile_rows):
            tile = g[r0:r1, c0:c1]
            short = short + tile_column_currents(tile, v_flat[:, r0:r1], wire_resistance)
            # Column k of B_t: minus the currents when only end k is at 1 V.
            load = load - tile_column_currents(tile, jnp.zeros((n, r1 - r0), g.dtype),
                                               wire_resistance, jnp.eye(n, dtype=g.dtype)).T
        system = jnp.eye(n, dtype=g.dtype) + load / g_s[c0:c1][None, :]
        out.append(jnp.linalg.solve(system, short.T).T)
    return jnp.concatenate(out, axis=-1).reshape(batch + (g.shape[1],))


def dense_nodal_currents(g, v_rows, wire_resistance, neuron_conductance) -> np.ndarray:
    """Reference: the same single-tile network assembled as an explicit netlist and solved
    densely with numpy (float64). For tests and small arrays only (O((R C)^3)).

    **Returns:** (n_out,) neuron input currents [A] for row voltages `v_rows` (R,) [V].
    """
    g = np.asarray(g, float)
    v_rows = np.asarray(v_rows, float)
    n_r, n_c = g.shape
    # Nodes: row (i, k) -> i C + k; column (i, j) -> R C + i C + j; neuron j -> 2 R C + j.
    n = 2 * n_r * n_c + n_c
    a = np.zeros((n, n))
    b = np.zeros(n)
    gw = 1.0 / wire_resistance

    def connect(p, q, cond):
        a[p, p] += cond
        a[q, q] += cond
        a[p, q] -= cond
        a[q, p] -= cond

    def to_source(p, cond, volt):
        a[p, p] += cond
        b[p] += cond * volt

    row = lambda i, k: i * n_c + k  # noqa: E731
    col = lambda i, j: n_r * n_c + i * n_c + j  # noqa: E731
    for i in range(n_r):
        to_source(row(i, 0), gw, v_rows[i])
        for k in range(n_c - 1):
            connect(row(i, k), row(i, k + 1), gw)
        for j in range(n_c):
            connect(row(i, j), col(i, j), g[i, j])
    for j in range(n_c):
        for i in range(n_r - 1):
            connect(col(i, j), col(i + 1, j), gw)
        connect(col(n_r - 1, j), 2 * n_r * n_c + j, gw)
    g_s = np.broadcast_to(np.asarray(neuron_conductance, float), (n_c,))
    for j in range(n_c):
        to_source(2 * n_r * n_c + j, g_s[j], 0.0)
    x = np.linalg.solve(a, b)
    return g_s * x[2 * n_r * n_c:]
