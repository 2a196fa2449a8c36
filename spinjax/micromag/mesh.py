"""Regular finite-difference mesh of rectangular cells, with an optional shape mask.

Magnetization and field arrays on a mesh are shaped (3, nx, ny, nz): components first, then the
cell index along x, y, z. Cell (i, j, k) is centred at ((i + 1/2) dx, (j + 1/2) dy, (k + 1/2) dz).
"""

import math

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool

from .._checks import is_concrete


def _check_shape(shape):
    if not isinstance(shape, (tuple, list)) or len(shape) != 3:
        raise ValueError(f"shape = {shape!r} must be a 3-tuple (nx, ny, nz) of cell counts >= 1")
    for name, n in zip("xyz", shape):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"shape[{'xyz'.index(name)}] (n{name}) = {n!r} must be an "
                             f"integer >= 1")
    return tuple(int(n) for n in shape)


def _check_cell(cell):
    if not isinstance(cell, (tuple, list)) or len(cell) != 3:
        raise ValueError(f"cell = {cell!r} must be a 3-tuple (dx, dy, dz) of cell sizes in m")
    out = []
    for axis, d in zip("xyz", cell):
        try:
            d = float(d)
        except TypeError as err:
            raise ValueError(f"cell size d{axis} = {d!r} must be a number in m") from err
        if not (math.isfinite(d) and d > 0.0):
            raise ValueError(f"cell size d{axis} = {d:g} m is outside the allowed range "
                             f"(0, inf) m")
        out.append(d)
    return tuple(out)


class Mesh(eqx.Module):
    """A regular grid of `shape = (nx, ny, nz)` cells of size `cell = (dx, dy, dz)` [m].

    **Arguments:**

    - `shape`: number of cells per axis (static Python ints >= 1); 1D and 2D problems use 1 for
      the unused axes.
    - `cell`: cell sizes [m] (static Python floats > 0; the demag kernel is computed from them
      once, in numpy, and cached).
    - `mask`: optional boolean array of shape `shape`, True where there is magnetic material
      (default: everywhere). Cells outside the mask carry no magnetization, no field and no
      energy; their faces are free surfaces.

    **Example:**

    ```python
    mesh = Mesh((64, 64, 1), (2e-9, 2e-9, 1e-9))
    disk = Mesh(mesh.shape, mesh.cell, mask=disk_mask(mesh.shape, mesh.cell, 60e-9))
    ```
    """

    shape: tuple[int, int, int] = eqx.field(static=True)
    cell: tuple[float, float, float] = eqx.field(static=True)
    mask: Bool[Array, "nx ny nz"] | None = None

    def __init__(self, shape, cell, mask=None):
        self.shape = _check_shape(shape)
        self.cell = _check_cell(cell)
        if mask is not None:
            mask = jnp.asarray(mask)
            if mask.shape != self.shape:
                raise ValueError(f"mask has shape {mask.shape}, but the mesh shape is "
                                 f"{self.shape}: they must match")
            if mask.dtype != jnp.bool_:
                raise ValueError(f"mask must be a boolean array, got dtype {mask.dtype}")
            if is_concrete(mask) and not bool(jnp.any(mask)):
                raise ValueError("mask is empty (no cell is True): the mesh would hold no "
                                 "magnetic material")
        self.mask = mask

    @property
    def n_cells(self) -> int:
        """Total number of grid cells nx * ny * nz (masked-out cells included)."""
        return math.prod(self.shape)

    @property
    def cell_volume(self) -> float:
        """Volume of one cell dx dy dz [m^3]."""
        return self.cell[0] * self.cell[1] * self.cell[2]

    @property
    def size(self) -> tuple[float, float, float]:
        """Extent of the grid (nx dx, ny dy, nz dz) [m]."""
        return tuple(n * d for n, d in zip(self.shape, self.cell))

    def weights(self, dtype=None) -> Array:
        """Occupation of each cell, 1.0 inside the mask and 0.0 outside, shape (nx, ny, nz)."""
        dtype = dtype or jnp.result_type(float)
        if self.mask is None:
            return jnp.ones(self.shape, dtype)
        return self.mask.astype(dtype)

    def volume(self):
        """Magnetic volume (number of masked-in cells x cell volume) [m^3]."""
        return jnp.sum(self.weights()) * self.cell_volume

    def coordinates(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cell-centre coordinates (x, y, z) [m] as broadcastable numpy arrays."""
        return _centres(self.shape, self.cell)

    def uniform(self, direction, dtype=None) -> Array:
        """Unit magnetization along `direction` (a 3-vector, normalised here) in every
        magnetic cell, shape (3, nx, ny, nz); zero outside the mask."""
        d = jnp.asarray(direction, dtype or jnp.result_type(float))
        if d.shape != (3,):
            raise ValueError(f"direction must be a 3-vector, got shape {d.shape}")
        if is_concrete(d) and not float(jnp.linalg.norm(d)) > 0.0:
            raise ValueError("direction = (0, 0, 0) has no direction: give a non-zero 3-vector")
        d = d / jnp.linalg.norm(d)
        return d[:, None, None, None] * self.weights(d.dtype)[None]

    def check_field_shape(self, name: str, x):
        """Raise a ValueError unless `x` has shape (3, nx, ny, nz)."""
        expected = (3,) + self.shape
        if tuple(np.shape(x)) != expected:
            raise ValueError(f"{name} has shape {tuple(np.shape(x))}; expected (3, nx, ny, nz) "
                             f"= {expected} for this mesh")


def _centres(shape, cell):
    axes = [(np.arange(n) + 0.5) * d for n, d in zip(shape, cell)]
    x, y, z = np.meshgrid(*axes, indexing="ij", sparse=True)
    return x, y, z


def ellipse_mask(shape, cell, diameter_x: float, diameter_y: float) -> np.ndarray:
    """Boolean mask of an elliptic cylinder centred in the grid, through all z layers.

    **Arguments:** `shape`, `cell` as for `Mesh`; `diameter_x`, `diameter_y` the ellipse's full
    axes along x and y [m] (> 0). A cell is inside when its centre is.

    **Returns:** numpy bool array of shape `shape`.
    """
    shape, cell = _check_shape(shape), _check_cell(cell)
    for name, d in (("diameter_x", diameter_x), ("diameter_y", diameter_y)):
        if not (math.isfinite(d) and d > 0):
            raise ValueError(f"{name} = {d:g} m is outside the allowed range (0, inf) m")
    x, y, _ = _centres(shape, cell)
    cx, cy = shape[0] * cell[0] / 2, shape[1] * cell[1] / 2
    inside = ((x - cx) / (diameter_x / 2)) ** 2 + ((y - cy) / (diameter_y / 2)) ** 2 <= 1.0
    mask = np.broadcast_to(inside, shape).copy()
    if not mask.any():
        raise ValueError(f"the ellipse {diameter_x:g} m x {diameter_y:g} m contains no cell "
                         f"centre of a grid with cells {cell} m: the mask would be empty")
    return mask


def disk_mask(shape, cell, diameter: float) -> np.ndarray:
    """Boolean mask of a disk (circular cylinder) of `diameter` [m] centred in the grid."""
    return ellipse_mask(shape, cell, diameter, diameter)
