"""spinjax: differentiable, stochastic simulation of spintronic devices in JAX."""

from . import constants, materials, noise, presets
from ._vector import Vec3
from .domainwall import (AbstractPinning, DomainWallStrip, HarmonicPinning, PeriodicPinning,
                         WallTrajectory, solve_wall, solve_wall_thermal, wall_displacement)
from .fields import AbstractField, ShapeAnisotropy, UniaxialAnisotropy, Zeeman
from .geometry import AbstractGeometry, EllipticCylinder, Rectangle
from .llg import Macrospin
from .magnet import FreeLayer
from .materials import BETA_W, COFE, IRMEN_MAGNET, PERMALLOY, HeavyMetal, Material
from .presets import sot_mtj_neuron
from .solve import Trajectory, simulate, vary
from .torques import AbstractTorque, SlonczewskiTorque, SpinOrbitTorque
from .waveforms import AbstractWaveform, Constant, Pulse, PulseTrain, write_reset_train

__version__ = "0.1.0"
