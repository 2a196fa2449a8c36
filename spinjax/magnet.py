"""A single-domain free layer: material + geometry, and the quantities derived from them."""

import equinox as eqx
from jaxtyping import Array, Float

from .constants import MU0, MU_B
from .geometry import AbstractGeometry
from .materials import Material


class FreeLayer(eqx.Module):
    """Single-domain magnet: a `Material` shaped by an `AbstractGeometry`.

    Derived quantities (volume, moment, number of spins) are properties, never stored.
    """

    material: Material
    geometry: AbstractGeometry

    @property
    def Ms(self) -> Float[Array, ""]:
        """Saturation magnetization [A/m]."""
        return self.material.Ms

    @property
    def alpha(self) -> Float[Array, ""]:
        """Gilbert damping (dimensionless)."""
        return self.material.alpha

    @property
    def volume(self) -> Float[Array, ""]:
        """Volume V [m^3]."""
        return self.geometry.volume

    @property
    def moment(self) -> Float[Array, ""]:
        """Magnetic moment Ms V [A·m^2]."""
        return self.material.Ms * self.geometry.volume

    @property
    def n_spins(self) -> Float[Array, ""]:
        """Number of spins N_s = Ms V / mu_B (dimensionless)."""
        return self.moment / MU_B

    @property
    def mu0_moment(self) -> Float[Array, ""]:
        """mu_0 Ms V [J/(A/m)]: converts a field in A/m into an energy in J."""
        return MU0 * self.moment
