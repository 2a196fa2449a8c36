"""Effective-field terms on a finite-difference mesh.

Each term is an `eqx.Module` with

- `field(m, t, magnet)`: its contribution to H_eff [A/m], shape (3, nx, ny, nz), for the
  magnetization `m` (3, nx, ny, nz) (unit length in magnetic cells, zero outside the mask) at
  time `t` [s];
- `energy_density(m, t, magnet)`: the matching energy density per cell [J/m^3], shape
  (nx, ny, nz), so that the energy is E = V_cell sum(e) and, cell by cell,
  H = -(1 / (mu0 Ms V_cell)) dE/dm.

`magnet` is the `spinjax.micromag.Micromagnet` holding the mesh and the material (`Ms` [A/m],
`A` [J/m]). The energies are written independently of the fields (as sums over bonds of the
grid), so the tests check each field against `-grad(E)`. They are exact for any m, not only
|m| = 1: every term is a polynomial in m.

Boundaries. A face between a magnetic cell and a non-magnetic (masked-out) cell or the grid's
end is a free surface. Exchange alone gives the Neumann condition dm/dn = 0 there (ghost cell
equal to the boundary cell). Interfacial DMI changes it to the Rohart–Thiaville condition,
handled by `InterfacialDMI` (see there).
"""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._checks import check_finite
from ..constants import MU0
from ..waveforms import AbstractWaveform, Constant
from ._ops import as_field, bonds, cross, dot, shift_next, shift_prev
from .demag_kernel import FAR_CELLS, fft_axes, kernel_spectrum


class AbstractMicromagField(eqx.Module):
    """An effective-field contribution on a mesh."""

    @abc.abstractmethod
    def field(self, m, t, magnet) -> Float[Array, "3 nx ny nz"]:
        """H [A/m] at magnetization `m` (3, nx, ny, nz) and time `t` [s]."""

    @abc.abstractmethod
    def energy_density(self, m, t, magnet) -> Float[Array, "nx ny nz"]:
        """Energy density per cell [J/m^3]."""

    def energy(self, m, t, magnet) -> Float[Array, ""]:
        """Energy E = V_cell sum over cells of the energy density [J]."""
        return magnet.mesh.cell_volume * jnp.sum(self.energy_density(m, t, magnet))


def _weights(magnet, m):
    return magnet.mesh.weights(m.dtype)


# Weight of each of the two in-plane neighbour bonds in the multilinear stencil's smoothing
# (the 1D consistent mass matrix of linear elements, [1, 4, 1] / 6).
_SIDE_WEIGHT = 1.0 / 6.0
_STENCILS = ("nearest", "multilinear")


def _smooth_bonds(g, b, axis):
    """Apply the bond-smoothing matrix M along grid `axis` to bond values `g` (3, nx, ny, nz).

    `b` (nx, ny, nz) marks the bonds that exist. Neighbouring bonds j, j + 1 along `axis` are
    coupled with weight 1/6 when both exist; a missing neighbour is replaced by the bond itself
    (mirror image, the Neumann condition), so M has diagonal 1 - (number of coupled
    neighbours) / 6: symmetric, diagonally dominant and positive definite, and M = 1 on
    fields that are uniform along `axis`.
    """
    c_next = b * shift_next(b, axis)
    c_prev = shift_prev(c_next, axis)
    ax = axis + 1
    return g + _SIDE_WEIGHT * (c_next[None] * (shift_next(g, ax) - g)
                               + c_prev[None] * (shift_prev(g, ax) - g))


def _smooth_unmasked(g, axis):
    # `_smooth_bonds` for a grid without mask: mirror padding at both ends of `axis`.
    if g.shape[axis] == 1:
        return g
    pad = [(0, 0)] * g.ndim
    pad[axis] = (1, 1)
    gp = jnp.pad(g, pad, mode="edge")
    n = g.shape[axis]
    lo = jax.lax.slice_in_dim(gp, 0, n, axis=axis)
    hi = jax.lax.slice_in_dim(gp, 2, n + 2, axis=axis)
    return g + _SIDE_WEIGHT * (lo + hi - 2.0 * g)


def _unmasked_laplacian(m, mesh, multilinear):
    # The masked stencil of `Exchange.field` for a mesh without mask: every bond inside the
    # grid is present, so per axis the Laplacian is the difference of the forward differences,
    # (m[i+1] - m[i]) - (m[i] - m[i-1]), with zero flux through the grid's end faces (for the
    # multilinear stencil each in-plane difference smoothed along the other in-plane axis).
    # Axes of a single cell carry no bond and are skipped.
    lap = None
    for axis, (n, d) in enumerate(zip(mesh.shape, mesh.cell)):
        if n == 1:
            continue
        ax = axis + 1
        diff = jnp.diff(m, axis=ax)
        if multilinear and axis < 2:
            diff = _smooth_unmasked(diff, 2 - axis)  # array axis of the other in-plane axis
        pad_next, pad_prev = [(0, 0)] * m.ndim, [(0, 0)] * m.ndim
        pad_next[ax], pad_prev[ax] = (0, 1), (1, 0)
        term = (jnp.pad(diff, pad_next) - jnp.pad(diff, pad_prev)) * (1.0 / d**2)
        lap = term if lap is None else lap + term
    return jnp.zeros_like(m) if lap is None else lap


class Exchange(AbstractMicromagField):
    """Heisenberg exchange with stiffness `magnet.A` [J/m].

    H = (2 A / (mu0 Ms)) laplacian(m) over magnetic neighbours only (Neumann condition on
    free surfaces). Energy: A sum over bonds (i, j) of g_ij · (M g)_ij / d^2 per unit volume,
    g_ij = m_j - m_i, half of each bond assigned to either cell.

    **Arguments:**

    - `stencil` (static):
      - `"nearest"` (default): M = 1, the 7-point Laplacian of mumax3 and OOMMF.
      - `"multilinear"`: each x bond is averaged with its y neighbours with weights
        [1, 4, 1] / 6 and each y bond with its x neighbours (M above); z bonds as `"nearest"`.
        In a film (nz = 1) this is the 9-point stencil
        (1 / 3h^2) [[1, 1, 1], [1, -8, 1], [1, 1, 1]] (for dx = dy = h) of bilinear finite
        elements with lumped mass, the discretisation of NeuralMag and magnum.af FE. Also
        second order, but its largest eigenvalue is 4/h^2 instead of 8/h^2. Explicit solvers
        are limited by that eigenvalue on fine meshes, so their stable step is up to 2x
        longer (SP4 at 200 x 50 cells: see `benchmarks/micromag_sp4.py`). Fields that vary
        along one in-plane axis only (1D walls, edge canting) get exactly the `"nearest"`
        field. Its error term is anisotropic (h^2 kx^2 ky^2 / 3 in a film), largest for
        round textures: the Néel skyrmion of the DMI standard problem at 2 nm cells comes
        out 1.5 % larger than the continuum radius, against 0.27 % for `"nearest"`. The
        Rohart–Thiaville face term of `InterfacialDMI` is the nearest-neighbour one for
        both stencils.
    """

    stencil: str = eqx.field(static=True, default="nearest")

    def __check_init__(self):
        if self.stencil not in _STENCILS:
            raise ValueError(f"stencil = {self.stencil!r} must be one of {_STENCILS}")

    def _smoothed(self, g, b, axis):
        if self.stencil == "nearest" or axis == 2:
            return g
        return _smooth_bonds(g, b, 1 - axis)

    def field(self, m, t, magnet):
        coeff = 2.0 * magnet.A / (MU0 * magnet.Ms)
        if magnet.mesh.mask is None:
            return coeff * _unmasked_laplacian(m, magnet.mesh, self.stencil == "multilinear")
        w = _weights(magnet, m)
        lap = jnp.zeros_like(m)
        for axis, d in enumerate(magnet.mesh.cell):
            b_next, _ = bonds(w, axis)
            ax = axis + 1
            # Flux through each bond, f = b M (b g); cell i gains f_i - f_(i-1).
            flux = b_next[None] * self._smoothed(
                b_next[None] * (shift_next(m, ax) - m), b_next, axis)
            lap = lap + (flux - shift_prev(flux, ax)) / d**2
        return coeff * lap

    def energy_density(self, m, t, magnet):
        w = _weights(magnet, m)
        e = jnp.zeros(m.shape[1:], m.dtype)
        for axis, d in enumerate(magnet.mesh.cell):
            b_next, _ = bonds(w, axis)
            g = b_next[None] * (shift_next(m, axis + 1) - m)
            bond = dot(g, self._smoothed(g, b_next, axis)) / d**2
            e = e + 0.5 * (bond + shift_prev(bond, axis))
        return magnet.A * e


class UniaxialAnisotropy(AbstractMicromagField):
    """Uniaxial anisotropy, energy density -Ku (m·u)^2 [J/m^3].

    **Arguments:**

    - `Ku`: anisotropy constant [J/m^3], finite; positive for an easy axis. A scalar or an
      array of shape (nx, ny, nz) (spatially varying).
    - `axis`: 3-vector (normalised here), default z.

    H = (2 Ku / (mu0 Ms)) (m·u) u.
    """

    Ku: Float[Array, "..."]
    axis: Float[Array, "3"] = (0.0, 0.0, 1.0)

    def __check_init__(self):
        check_finite("Ku", self.Ku, unit="J/m^3")
        if np.shape(self.axis) != (3,):
            raise ValueError(f"axis must be a 3-vector, got shape {np.shape(self.axis)}")

    def _u(self, dtype):
        u = jnp.asarray(self.axis, dtype)
        return (u / jnp.linalg.norm(u)).reshape(3, 1, 1, 1)

    def field(self, m, t, magnet):
        u = self._u(m.dtype)
        mu = dot(m, u)  # written out: jnp.sum over axis 0 compiles ~50x slower on CPU
        ku = jnp.broadcast_to(self.Ku, mu.shape)
        return (2.0 / (MU0 * magnet.Ms)) * (ku * mu)[None] * u

    def energy_density(self, m, t, magnet):
        mu = dot(m, self._u(m.dtype))
        return -jnp.broadcast_to(self.Ku, mu.shape) * mu**2


class Zeeman(AbstractMicromagField):
    """Applied field H(t) = `H` * `waveform(t)` [A/m]; energy density -mu0 Ms m·H.

    **Arguments:**

    - `H`: field [A/m], a 3-vector (uniform) or an array (3, nx, ny, nz). mu0 H = 1 mT is
      H ≈ 795.8 A/m.
    - `waveform`: dimensionless time dependence, default constant 1.
    """

    H: Float[Array, "3 ..."]
    waveform: AbstractWaveform = Constant(1.0)

    def __check_init__(self):
        check_finite("H", self.H, unit="A/m")
        shape = np.shape(self.H)
        if len(shape) not in (1, 4) or shape[0] != 3:
            raise ValueError(f"H must be a 3-vector or an array (3, nx, ny, nz) in A/m, got "
                             f"shape {shape}")

    def field(self, m, t, magnet):
        w = _weights(magnet, m)
        return as_field(self.H, m.shape[1:]).astype(m.dtype) * (self.waveform(t) * w)[None]

    def energy_density(self, m, t, magnet):
        return -MU0 * magnet.Ms * dot(m, self.field(m, t, magnet))


# Interfacial DMI: bond (i, i + e_a) along in-plane axis a carries the energy
#   -V (D / d_a) u_a · (m_i x m_j),   u_a = z x e_a  (u_x = +y, u_y = -x),
# whose continuum limit is D [(m·grad) m_z - m_z div m] and whose field is H_DMI of physics.md §3.
_DMI_AXES = ((0, jnp.array([0.0, 1.0, 0.0])), (1, jnp.array([-1.0, 0.0, 0.0])))


class InterfacialDMI(AbstractMicromagField):
    """Interfacial Dzyaloshinskii–Moriya interaction, constant `D` [J/m^2] (physics.md §3).

    Interior: central differences of

        H_DMI = -(2 D / (mu0 Ms)) [dmz/dx x + dmz/dy y - (dmx/dx + dmy/dy) z].

    Free surfaces (x and y faces, grid ends and mask edges): the Rohart–Thiaville condition
    dm/dn = (D / (2A)) (z x n) x m, imposed with a ghost cell m_g = m + d (D/(2A)) (z x n) x m
    in both the exchange and the DMI stencil. Because the exchange term of this package is
    written with Neumann ghosts (m_g = m), this term carries the whole difference the DMI ghost
    makes. Substituted into the two stencils it reduces, per free face with in-plane normal n,
    to the closed form (the O(D) parts of exchange and DMI cancel)

        H_face = (D^2 / (2 A mu0 Ms)) (u x m) x u,      u = z x n,

    i.e. a surface anisotropy of energy density -(D^2 / (4A)) |u x m|^2 in the boundary cell.
    Requires `magnet.A > 0` and an `Exchange` term with the same A.

    The surface term is a real energy of narrow strips (edge canting across the width lowers
    the energy by ~D^2/(4A) per volume), but on a face whose cells are much wider than the
    canting length it over-counts. A strip that is meant to be infinite (or unresolved) along y,
    e.g. a 1D mesh (nx, 1, 1), should set `edge_axes=(0,)`: its y faces then behave as if the
    film continued (Neumann, no edge canting across y).

    **Arguments:**

    - `D`: DMI constant [J/m^2], finite; positive D is the chirality of physics.md §3.
    - `edge_axes`: in-plane grid axes (0 = x, 1 = y) whose free faces get the Rohart–Thiaville
      condition (static; default both).
    """

    D: Float[Array, ""]
    edge_axes: tuple[int, ...] = eqx.field(static=True, default=(0, 1))

    def __check_init__(self):
        check_finite("D", self.D, unit="J/m^2")
        if not set(self.edge_axes) <= {0, 1} or len(set(self.edge_axes)) != len(self.edge_axes):
            raise ValueError(f"edge_axes = {self.edge_axes!r} must be distinct in-plane axes "
                             f"from (0, 1)")

    def field(self, m, t, magnet):
        w = _weights(magnet, m)
        h = jnp.zeros_like(m)
        surf = (self.D**2 / (2.0 * magnet.A * MU0 * magnet.Ms))
        for axis, u in _DMI_AXES:
            d = magnet.mesh.cell[axis]
            u = u.astype(m.dtype).reshape(3, 1, 1, 1)
            b_next, b_prev = bonds(w, axis)
            ax = axis + 1
            diff = b_next[None] * shift_next(m, ax) - b_prev[None] * shift_prev(m, ax)
            h = h + (self.D / (MU0 * magnet.Ms * d)) * cross(diff, u)
            if axis in self.edge_axes:
                faces = (w - b_next) + (w - b_prev)  # free faces of each magnetic cell, 0..2
                h = h + surf * faces[None] * cross(cross(u, m), u)
        return h

    def energy_density(self, m, t, magnet):
        w = _weights(magnet, m)
        e = jnp.zeros(m.shape[1:], m.dtype)
        surf = self.D**2 / (4.0 * magnet.A)
        for axis, u in _DMI_AXES:
            d = magnet.mesh.cell[axis]
            u = u.astype(m.dtype).reshape(3, 1, 1, 1)
            b_next, b_prev = bonds(w, axis)
            bond = -b_next * (self.D / d) * dot(u, cross(m, shift_next(m, axis + 1)))
            e = e + 0.5 * (bond + shift_prev(bond, axis))
            if axis in self.edge_axes:
                um = cross(u, m)
                e = e - surf * ((w - b_next) + (w - b_prev)) * dot(um, um)
        return e


# Zero-padded FFT convolution over the grid axes 1..k of a (3, n_1, ..., n_k) array. Padding
# is applied per axis as that axis is transformed, and the inverse crops per axis right after
# its transform, so no transform runs over rows that only hold padding (the forward real FFT
# along the last axis sees n_{k-1} rows, not 2 n_{k-1}; likewise the inverse). Each transform
# runs along the array's last (contiguous) axis, the axes being rotated there by swapaxes:
# measured on a 2-core CPU for a (3, 200, 50) film, forward + inverse take ~0.65-0.85 of
# `rfftn`/`irfftn` over the padded grid (which transform the leading axes in place).
def _pad_size(n):
    return 1 if n == 1 else 2 * n


def _fft_swaps(k):
    # (grid axis, array position swapped with the last one) for each complex transform.
    order, swaps = list(range(k)), []
    for g in reversed(range(k - 1)):
        p = order.index(g) + 1
        order[p - 1], order[k - 1] = order[k - 1], order[p - 1]
        swaps.append((g, p))
    return swaps, order


def _fft_order(k):
    """Grid axis held at array positions 1..k of the spectrum `_padded_fft` returns."""
    return _fft_swaps(k)[1]


def _padded_fft(x):
    k = x.ndim - 1
    f = jnp.fft.rfft(x, n=_pad_size(x.shape[k]), axis=k)
    grid = x.shape[1:]
    for g, p in _fft_swaps(k)[0]:
        f = jnp.fft.fft(jnp.swapaxes(f, p, k), n=_pad_size(grid[g]), axis=k)
    return f


def _padded_ifft(f, grid):
    k = len(grid)
    for g, p in reversed(_fft_swaps(k)[0]):
        f = jnp.swapaxes(jnp.fft.ifft(f, axis=k)[..., :grid[g]], p, k)
    return jnp.fft.irfft(f, n=_pad_size(grid[-1]), axis=k)[..., :grid[-1]]


class Demag(AbstractMicromagField):
    """Demagnetizing (stray) field by zero-padded FFT convolution with the Newell tensor.

    H_i(r) = -sum_r' N_ij(r - r') Ms m_j(r'), the cell-averaged field of uniformly magnetized
    cells (Newell, Williams & Dunlop, JGR 98, 9551 (1993)); open boundaries (no periodicity).
    The kernel is computed once per (shape, cell) in float64 numpy and cached
    (`spinjax.micromag.demag_kernel`); beyond `far_cells` cell sizes the point-dipole form
    replaces it. Energy density -(mu0 Ms / 2) m·H_demag.

    **Arguments:** `far_cells`: dipole cutoff in units of the largest cell size (static, > 2).
    """

    far_cells: float = eqx.field(static=True, default=FAR_CELLS)

    def __check_init__(self):
        if not self.far_cells > 2.0:
            raise ValueError(f"far_cells = {self.far_cells!r} is outside the allowed range "
                             f"(2, inf) cell sizes")

    def field(self, m, t, magnet):
        mesh = magnet.mesh
        axes = fft_axes(mesh.shape)
        grid = tuple(mesh.shape[a] for a in axes)
        # Real spectrum of the kernel (see `demag_kernel.kernel_spectrum`), cached per
        # (shape, cell, far_cells, dtype), in the axis order `_padded_fft` leaves.
        spec, comps = kernel_spectrum(mesh.shape, mesh.cell, float(self.far_cells),
                                      np.dtype(jnp.real(m).dtype).name)
        order = _fft_order(len(grid))
        spec = np.transpose(spec, (0,) + tuple(1 + g for g in order))
        w = None if mesh.mask is None else _weights(magnet, m)
        ms = magnet.Ms if w is None else magnet.Ms * w[None]
        # Single-cell axes are squeezed out: a film costs 2D transforms of (3, nx, ny).
        mk = _padded_fft((m * ms).reshape((3,) + grid))
        k = dict(zip(comps, jnp.asarray(spec)))

        def total(*pairs):  # sum of N_i * M_j over the kernel components that are kept
            terms = [k[i] * mk[j] for i, j in pairs if i in k]
            return sum(terms[1:], terms[0])

        # N ordered (xx, yy, zz, xy, xz, yz) = (0, 1, 2, 3, 4, 5).
        hk = jnp.stack([total((0, 0), (3, 1), (4, 2)),
                        total((3, 0), (1, 1), (5, 2)),
                        total((4, 0), (5, 1), (2, 2))])
        h = _padded_ifft(hk, grid).reshape(m.shape)
        return -h if w is None else -h * w[None]

    def energy_density(self, m, t, magnet):
        return -0.5 * MU0 * magnet.Ms * dot(m, self.field(m, t, magnet))
