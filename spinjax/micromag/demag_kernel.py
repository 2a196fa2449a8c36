"""Newell demagnetizing tensor of a regular grid (numpy, float64, cached).

N(r) is the mean field over a target cell produced by a uniformly magnetized source cell at
offset r, H_i = -sum_j N_ij M_j (Newell, Williams & Dunlop, J. Geophys. Res. 98, 9551 (1993)):

    N_xx(X) = (1 / (4 pi dx dy dz)) sum_e w(e) f(X + e * d),   e in {-1, 0, 1}^3, X = (X, Y, Z)

with w(e) = prod_axes (2 if e_a = 0 else -1) (a second difference along every axis) and the
off-diagonal N_xy the same stencil over g. N_yy, N_zz, N_xz, N_yz follow by permuting arguments.

Far field. The stencil is a sixth difference of functions that grow like r^5, so its rounding
error grows like eps (r / d)^6 while N decays like (d / r)^3. Beyond `FAR_CELLS` cell sizes
(measured with the largest of dx, dy, dz) the tensor of a point dipole,
N = V/(4 pi r^3) (I - 3 r r^T / r^2), is used instead: its relative truncation error is of order
(d / r)^2 <= 6e-4 there, on a kernel entry below ~1e-5 of the self term. For 5 x 5 x 3 nm
cells the two forms agree to 1e-4..5e-4 between 30 and 50 cells (the Newell form's rounding error
reaches ~1e-3 at 100 cells); the tests compare them at the cutoff.
"""

import functools

import numpy as np

FAR_CELLS = 40.0
"""Offsets farther than this many (largest) cell sizes use the point-dipole tensor."""


def _asinh_ratio(a, b):
    # asinh(a / b), 0 where b == 0 (the terms that use it are multiplied by a vanishing factor).
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, np.arcsinh(a / np.where(b > 0, b, 1.0)), 0.0)


def _atan_ratio(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, np.arctan(a / np.where(b > 0, b, 1.0)), 0.0)


def newell_f(x, y, z):
    """Newell's f(x, y, z) [m^5], even in each argument."""
    x, y, z = np.abs(x), np.abs(y), np.abs(z)
    x2, y2, z2 = x * x, y * y, z * z
    r = np.sqrt(x2 + y2 + z2)
    out = (2.0 * x2 - y2 - z2) * r / 6.0
    out = out + y / 2.0 * (z2 - x2) * _asinh_ratio(y, np.sqrt(x2 + z2))
    out = out + z / 2.0 * (y2 - x2) * _asinh_ratio(z, np.sqrt(x2 + y2))
    out = out - x * y * z * _atan_ratio(y * z, x * r)
    return out


def newell_g(x, y, z):
    """Newell's g(x, y, z) [m^5], odd in x and y, even in z."""
    sx, sy = np.sign(x), np.sign(y)
    x, y, z = np.abs(x), np.abs(y), np.abs(z)
    x2, y2, z2 = x * x, y * y, z * z
    r = np.sqrt(x2 + y2 + z2)
    out = -x * y * r / 3.0
    out = out + x * y * z * _asinh_ratio(z, np.sqrt(x2 + y2))
    out = out + y / 6.0 * (3.0 * z2 - y2) * _asinh_ratio(x, np.sqrt(y2 + z2))
    out = out + x / 6.0 * (3.0 * z2 - x2) * _asinh_ratio(y, np.sqrt(x2 + z2))
    out = out - z * z2 / 6.0 * _atan_ratio(x * y, z * r)
    out = out - z * y2 / 2.0 * _atan_ratio(x * z, y * r)
    out = out - z * x2 / 2.0 * _atan_ratio(y * z, x * r)
    return sx * sy * out


def _stencil(fn, x, y, z, dx, dy, dz):
    total = np.zeros(np.broadcast(x, y, z).shape)
    for ex in (-1, 0, 1):
        for ey in (-1, 0, 1):
            for ez in (-1, 0, 1):
                w = (2 if ex == 0 else -1) * (2 if ey == 0 else -1) * (2 if ez == 0 else -1)
                total += w * fn(x + ex * dx, y + ey * dy, z + ez * dz)
    return total


def newell_tensor(x, y, z, dx, dy, dz):
    """Six components (xx, yy, zz, xy, xz, yz) of the Newell tensor at offsets (x, y, z) [m]."""
    c = 1.0 / (4.0 * np.pi * dx * dy * dz)
    nxx = _stencil(newell_f, x, y, z, dx, dy, dz)
    nyy = _stencil(newell_f, y, x, z, dy, dx, dz)
    nzz = _stencil(newell_f, z, y, x, dz, dy, dx)
    nxy = _stencil(newell_g, x, y, z, dx, dy, dz)
    nxz = _stencil(newell_g, x, z, y, dx, dz, dy)
    nyz = _stencil(newell_g, y, z, x, dy, dz, dx)
    return [c * n for n in (nxx, nyy, nzz, nxy, nxz, nyz)]


def dipole_tensor(x, y, z, dx, dy, dz):
    """Point-dipole approximation of the same six components (valid for r >> cell size)."""
    v = dx * dy * dz
    r2 = x * x + y * y + z * z
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.sqrt(r2)
        c = v / (4.0 * np.pi * r2 * r)
        out = [c * (1.0 - 3.0 * a * b / r2) if a is b else c * (-3.0 * a * b / r2)
               for a, b in ((x, x), (y, y), (z, z), (x, y), (x, z), (y, z))]
    return out


def _padded(shape):
    return tuple(1 if n == 1 else 2 * n for n in shape)


def _kernel_space(shape, cell, far_cells):
    """The six components of N on the padded grid, in wrap-around order (0, 1, ..., -1)."""
    padded = _padded(shape)
    offs = []
    for n, p, d in zip(shape, padded, cell):
        idx = np.arange(p)
        idx = np.where(idx < n, idx, idx - p)  # wrap-around order: 0, 1, ..., -1
        offs.append(idx * d)
    x, y, z = np.meshgrid(*offs, indexing="ij")
    near = np.sqrt(x * x + y * y + z * z) <= far_cells * max(cell)
    comps = newell_tensor(x, y, z, *cell)
    if not near.all():
        far = dipole_tensor(x, y, z, *cell)
        comps = [np.where(near, a, b) for a, b in zip(comps, far)]
    return comps


@functools.lru_cache(maxsize=16)
def demag_kernel(shape, cell, far_cells=FAR_CELLS):
    """FFT of the zero-padded Newell kernel for a grid `shape` of cells `cell` [m].

    **Returns:** numpy complex128 array of shape (6, Px, Py, Pz) except that the last of
    `fft_axes(shape)` is halved to P // 2 + 1: the `rfftn` over those axes of the kernel on the
    padded grid (Px, Py, Pz) = (2 nx, 2 ny, 2 nz), or 1 on an axis with a single cell (not
    transformed). Components ordered (xx, yy, zz, xy, xz, yz). Read-only; cached per
    (shape, cell, far_cells).
    """
    comps = _kernel_space(shape, cell, far_cells)
    axes = fft_axes(shape)
    kernel = np.stack([np.fft.rfftn(c, axes=axes) for c in comps])
    kernel.setflags(write=False)
    return kernel


@functools.lru_cache(maxsize=16)
def kernel_spectrum(shape, cell, far_cells, dtype):
    """The demag kernel's spectrum in the layout `Demag.field` uses (private helper).

    Same convolution as `demag_kernel`, with two exact simplifications:

    - the kernel on the padded grid is set to zero at the offsets +-n (index n of an axis of
      2n points), which the cropped convolution never uses (source and target offsets lie in
      (-n, n)). The kernel is then even or odd along every axis (N_xx even in x, y, z; N_xy
      odd in x and y, even in z; ...), so each component's spectrum is real: stored as
      `dtype` (float32 or float64), half the memory and a third of the arithmetic of a
      complex product;
    - on a single-layer grid (nz = 1) N_xz and N_yz vanish identically (odd in z, evaluated
      at z = 0); their stencil sums are rounding noise (~1e-12 of N_zz) and are dropped.

    **Returns:** `(spectrum, components)`: a read-only numpy array (k, *S) with S the
    half-spectrum shape over `fft_axes(shape)` only (single-cell axes squeezed out), and the
    tuple of the k kept component indices into (xx, yy, zz, xy, xz, yz).
    """
    comps = _kernel_space(shape, cell, far_cells)
    padded = _padded(shape)
    for c in comps:
        for a, (n, p) in enumerate(zip(shape, padded)):
            if p == 2 * n:
                c[(slice(None),) * a + (n,)] = 0.0
    keep = (0, 1, 2, 3) if shape[2] == 1 else (0, 1, 2, 3, 4, 5)
    axes = fft_axes(shape)
    squeeze = tuple(a for a in range(3) if a not in axes)
    spec = np.stack([np.fft.rfftn(comps[i], axes=axes).real.squeeze(squeeze) for i in keep])
    spec = spec.astype(dtype)
    spec.setflags(write=False)
    return spec, keep


def fft_axes(shape):
    """Grid axes the demag convolution transforms: those with more than one cell (x if none).

    Axes of a single cell need no padding and no transform (a 2D film costs a 2D FFT).
    """
    return tuple(a for a in range(3) if shape[a] > 1) or (0,)
