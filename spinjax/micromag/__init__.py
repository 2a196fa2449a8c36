"""Finite-difference micromagnetics: mesh, field terms, spin torques and LLG solvers.

Magnetization and fields on a mesh are arrays (3, nx, ny, nz) (components first). SI units at
the interface; see each module for conventions.
"""

from .demag_kernel import demag_kernel, dipole_tensor, newell_tensor
from .fields import (AbstractMicromagField, Demag, Exchange, InterfacialDMI,
                     UniaxialAnisotropy, Zeeman)
from .llg import Micromagnet
from .mesh import Mesh, disk_mask, ellipse_mask
from .ovf import read_ovf, write_ovf
from .solve import MicromagTrajectory, project, relax, run, run_thermal
from .torques import AbstractMicromagTorque, SpinOrbitTorque, ZhangLiTorque
