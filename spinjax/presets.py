"""Ready-made systems from physics.md §5.

Coordinates of the SOT-MTJ neuron (5a): the heavy-metal strip carries the write current along x;
the 100 nm long axis of the elliptic free layer (its easy axis) lies along y, transverse to the
current, so the spin-Hall polarization sigma = j x z = -y is collinear with the easy axis
(type-y SOT switching). Under the layer the strip is 40 nm long, 100 nm wide and 2 nm thick:
rho L / (W t) = 400 Ohm, the HM resistance of the source network, and the spin-injection
efficiency is theta_SH L / t_HM = 6. The pinned layer points along +y: P is m = +y, and a
positive write current drives the layer toward AP (m = -y).
"""

import jax.numpy as jnp

from .fields import ShapeAnisotropy
from .geometry import EllipticCylinder
from .llg import Macrospin
from .magnet import FreeLayer
from .materials import BETA_W, COFE, HeavyMetal, Material
from .torques import SpinOrbitTorque
from .waveforms import AbstractWaveform, Constant

NEURON_THICKNESS_BY_BARRIER = {10: 0.8e-9, 20: 1.2e-9, 30: 1.5e-9}
"""Free-layer thickness [m] of the 5a neuron for each nominal barrier [k_B T at 300 K]."""

P_STATE = (0.0, 1.0, 0.0)
"""Unit magnetization of the parallel (P) state of the 5a neuron."""


def sot_mtj_neuron(
    thickness: float = 1.2e-9,
    current: AbstractWaveform | float = 0.0,
    temperature: float = 300.0,
    length_x: float = 40e-9,
    length_y: float = 100e-9,
    material: Material = COFE,
    heavy_metal: HeavyMetal = BETA_W,
) -> Macrospin:
    """The SOT-MTJ stochastic neuron of physics.md 5a as a `Macrospin`.

    **Arguments:**

    - `thickness`: free-layer thickness [m] (0.8/1.2/1.5 nm give Delta ≈ 10/20/30 at 300 K).
    - `current`: heavy-metal charge current [A], a waveform or a constant.
    - `temperature`: T [K].
    - `length_x`, `length_y`: elliptic axes along and across the current [m].
    - `material`, `heavy_metal`: CoFe and beta-W by default.
    """
    if not isinstance(current, AbstractWaveform):
        current = Constant(jnp.asarray(current, float))
    layer = FreeLayer(material, EllipticCylinder(length_x, length_y, thickness))
    sot = SpinOrbitTorque(heavy_metal, current, current_axis=0)
    return Macrospin(layer, fields=(ShapeAnisotropy(),), torques=(sot,), temperature=temperature)
