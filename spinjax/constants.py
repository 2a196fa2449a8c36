"""Physical constants in SI units (CODATA 2018 exact or recommended values)."""

MU0 = 1.25663706212e-6
"""Vacuum permeability mu_0 [T·m/A = N/A^2]."""

HBAR = 1.054571817e-34
"""Reduced Planck constant [J·s]."""

ELEMENTARY_CHARGE = 1.602176634e-19
"""Elementary charge q [C]."""

MU_B = 9.2740100783e-24
"""Bohr magneton [J/T = A·m^2]."""

K_B = 1.380649e-23
"""Boltzmann constant [J/K]."""

GAMMA = 2.0 * MU_B * MU0 / HBAR
"""Gyromagnetic ratio with mu_0 folded in, gamma = 2 mu_B mu_0 / hbar ≈ 2.21e5 [m/(A·s)].

Multiplying a field H in A/m gives an angular frequency in rad/s (physics.md §1).
"""
