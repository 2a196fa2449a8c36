"""Named, documented material and heavy-metal parameter sets (physics.md §5).

Every set is an `eqx.Module`, so any float leaf can be batched with `vmap` or differentiated.
"""

import equinox as eqx
from jaxtyping import Array, Float

from ._checks import check_range


class Material(eqx.Module):
    """Magnetic material of a free layer.

    **Arguments:**

    - `Ms`: saturation magnetization [A/m], > 0.
    - `alpha`: Gilbert damping, dimensionless, in (0, 1).
    - `exchange`: exchange stiffness A [J/m], >= 0 (used by micromagnetics).
    - `anisotropy`: uniaxial crystalline/interface anisotropy K_u [J/m^3], any sign
      (its axis is chosen where the field term is built).
    """

    Ms: Float[Array, ""]
    alpha: Float[Array, ""]
    exchange: Float[Array, ""] = 0.0
    anisotropy: Float[Array, ""] = 0.0

    def __check_init__(self):
        check_range("Ms", self.Ms, low=0.0, unit="A/m")
        check_range("alpha", self.alpha, low=0.0, high=1.0)
        check_range("exchange", self.exchange, low=0.0, low_inclusive=True, unit="J/m")
        check_range("anisotropy", self.anisotropy, unit="J/m^3")


class HeavyMetal(eqx.Module):
    """Spin-Hall heavy-metal strip under the free layer (physics.md §2).

    **Arguments:**

    - `spin_hall_angle`: theta_SH, dimensionless; the sign sets the torque direction.
    - `thickness`: t_HM [m], > 0.
    - `resistivity`: rho_HM [Ohm·m], > 0.
    """

    spin_hall_angle: Float[Array, ""]
    thickness: Float[Array, ""]
    resistivity: Float[Array, ""]

    def __check_init__(self):
        check_range("spin_hall_angle", self.spin_hall_angle, low=-10.0, high=10.0)
        check_range("thickness", self.thickness, low=0.0, unit="m")
        check_range("resistivity", self.resistivity, low=0.0, unit="Ohm·m")

    def resistance(self, length, width):
        """Resistance of a strip of `length` (along the current) and `width` [m], in Ohm."""
        return self.resistivity * length / (width * self.thickness)


COFE = Material(Ms=1.0e6, alpha=0.0122)
"""In-plane CoFe free layer of the SOT-MTJ neuron (physics.md 5a): Ms = 1000 kA/m, alpha = 0.0122."""

PERMALLOY = Material(Ms=8.0e5, alpha=0.02, exchange=1.3e-11)
"""Permalloy as in muMAG standard problem 4: Ms = 800 kA/m, A = 13 pJ/m, alpha = 0.02."""

IRMEN_MAGNET = Material(Ms=1.7e6, alpha=0.01, anisotropy=4.5e4)
"""Nanomagnet of the IRMEN magnetoelectric cell (physics.md 5d): Ms = 1.7 MA/m, alpha = 0.01,
K = 4.5e4 J/m^3 along its length."""

BETA_W = HeavyMetal(spin_hall_angle=0.3, thickness=2e-9, resistivity=200e-8)
"""beta-tungsten spin-Hall layer of the SOT-MTJ neuron (physics.md 5a): theta_SH = 0.3,
t_HM = 2 nm, rho = 200 µOhm·cm."""
