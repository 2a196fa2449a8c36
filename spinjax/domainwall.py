"""Collective-coordinate (q, phi) model of a domain wall in a PMA strip on a heavy metal.

The wall of a perpendicular (z) strip lying along x is described by its position `q` [m] and
the in-plane angle `phi` [rad] of the magnetization at its centre (phi = 0: along +x, a Néel
wall; phi = ±pi/2: a Bloch wall). It is the rigid Walker profile

    theta(x) = 2 arctan exp(Q (x - q) / Delta),
    m = (sin theta cos phi, sin theta sin phi, cos theta)

with `Q = wall_type` = +1 for an up/down wall (m_z = +1 at x < q) and -1 for down/up.
Projecting the Gilbert-form LLG of `spinjax.micromag` (T = -gamma m x H_eff + spin torques)
onto q and phi (Malozemoff & Slonczewski; Thiaville et al., EPL 100, 57002 (2012); Emori et
al., Nat. Mater. 12, 611 (2013); Martinez et al., APL 103, 072406 (2013) and JAP 115, 213909
(2014)) gives, with sigma(q, phi) the wall energy per unit cross-section [J/m^2]:

    Q q' - alpha Delta phi' = (gamma / (2 mu0 Ms)) d sigma/d phi + Q u                  =: R1
    Q phi' + alpha q'/Delta = -(gamma / (2 mu0 Ms)) d sigma/d q + beta u / Delta
                              - (pi/2) gamma Q H_SH cos(phi)                            =: R2

i.e.  q'   = (Q R1 + alpha Delta R2) / (1 + alpha^2),
      phi' = (Q R2 - alpha R1 / Delta) / (1 + alpha^2),

    sigma = 2 Delta K_D cos^2 phi - Q pi D cos phi - pi Delta mu0 Ms (Hx cos phi + Hy' sin phi)
            - 2 Q mu0 Ms Hz q + V_pin(q) / S,

so that, written out (Q = +1 gives the familiar form of Thiaville/Emori/Martinez),

    R1 = gamma Delta [ (pi/2)(Q H_DMI + Hx) sin phi - (H_K/2) sin 2 phi - (pi/2) Hy' cos phi ] + Q u
    R2 = gamma Q Hz - gamma V_pin'(q) / (2 mu0 Ms S) + beta u / Delta - (pi/2) gamma Q H_SH cos phi

Symbols (SI):

- Delta = sqrt(A / K_eff), K_eff = Ku - mu0 Ms^2 / 2 (thin-film shape anisotropy) or given.
- H_DMI = D / (mu0 Ms Delta) (Thiaville 2012; Emori 2013); the field that enters the equations
  is (pi/2) H_DMI = pi D / (2 mu0 Ms Delta), like an in-plane Hx. D > 0 is the sign of
  `spinjax.micromag.InterfacialDMI` (energy density D [(m.grad) m_z - m_z div m]): its wall
  energy -Q pi D cos phi favours phi = 0 for an up/down wall and phi = pi for a down/up one.
- H_K = 2 K_D / (mu0 Ms), the wall's Bloch–Néel hard-axis field, K_D = (E_Néel - E_Bloch) /
  (2 Delta w t) from the exact magnetostatic energies of the two wall profiles (uniform across
  the strip's w x t section) in Fourier space (see `wall_anisotropy`); `shape_anisotropy`
  overrides it. Wide films give the thin-film K_D = (mu0 Ms^2 / 2) t ln 2 / (pi Delta)
  (Tarasenko et al., JMMM 189, 19 (1998)); narrow strips (w < ~2 pi Delta) favour Néel walls
  (K_D < 0). The often-used demag factors of a pi Delta x w x t prism (Mougin et al., EPL 78,
  57007 (2007); `prism_wall_anisotropy`) are off by a factor ~2 for wide strips and get the
  sign wrong for narrow ones, compared with spinjax.micromag's Newell demag (tested).
- H_SH = hbar theta_SH j / (2 q_e mu0 Ms t_FM): the damping-like spin-orbit field of
  `spinjax.micromag.SpinOrbitTorque` (sigma = j x z) for a current density j along +x.
  The field-like part (ratio xi) is a transverse field, Hy' = Hy - xi H_SH.
- u = -(P mu_B / (q_e Ms)) j: the Zhang–Li drift velocity of `spinjax.micromag.ZhangLiTorque`
  (along the electron flow), beta the non-adiabatic parameter.
- S = w t the strip cross-section; V_pin(q) [J] the pinning potential (`AbstractPinning`).

Analytic anchors (tested): field-driven steady velocity below Walker gamma Delta Hz / alpha;
Zhang–Li steady velocity (beta/alpha) u; the SOT-driven chiral wall (K_D = 0)

    v = -(pi/2) gamma Delta H_SH (H_DMI + Q Hx) / sqrt(alpha^2 (H_DMI + Q Hx)^2 + H_SH^2),

which saturates at |v_D| = (pi/2) gamma Delta |H_DMI + Q Hx| (= pi gamma D / (2 mu0 Ms) at
Hx = 0); the walls move against j for D theta_SH > 0, with either wall type.

Thermal noise. With c = 2 mu0 Ms S / gamma the equations read M X' = -grad E + f, X = (q, phi),
E = S sigma, M = c [[alpha/Delta, Q], [-Q, alpha Delta]]: a symmetric friction
Gamma = c alpha diag(1/Delta, Delta) plus a gyrotropic antisymmetric part. The thermal forces
have <f_i(t) f_j(t')> = 2 k_B T Gamma_ij delta(t - t'), which is exactly the projection of
Brown's per-cell field of `spinjax.micromag` onto the rigid profile (the stochastic 1D model
of Martinez et al., PRB 75, 174409 (2007), and JAP 115, 213909 (2014)) and makes
exp(-E / k_B T) stationary. In field units: a random Hz in R2 with
<H H> = 2 alpha k_B T / (gamma mu0 Ms V_w) delta(t - t'), i.e. Brown's field for the wall volume
V_w = 2 Delta w t, and its counterpart on phi in R1.
The noise is additive (constant M), so Heun converges to the (Itô = Stratonovich) solution.

Approximations: a rigid profile (Delta fixed, no tilt across the width), no Oersted field, no
canting of the domains by the SOT (H_SH << H_K,eff = 2 K_eff / (mu0 Ms)). benchmarks/dw_motion.py
measures the cost against micromagnetics: < 1 % below j_D, 5 % at 4 j_D for the Pt/Co set.

Strip ends. q is confined to [0, L]: after every solver step q is clipped to the strip, so a
wall driven into an end stays there (phi keeps evolving) until a reverse drive takes it back.
A device that needs the wall to annihilate detects q = 0 or q = L.

Time and length units. Solvers integrate in ns and nm (a velocity in m/s is then nm/ns, and
float32 carries all quantities at O(1..1e3)); inputs and outputs are SI.
"""

import abc
import math

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
from jaxtyping import Array, Float

from ._checks import check_finite, check_range, is_concrete
from .constants import ELEMENTARY_CHARGE, GAMMA, HBAR, K_B, MU0, MU_B
from .geometry import Rectangle
from .solve import TIME_UNIT, Renormalised
from .waveforms import AbstractWaveform, Constant, Pulse, PulseTrain

LENGTH_UNIT = 1e-9
"""Internal length unit of the solvers [m] (q is integrated in nm)."""


# --- wall magnetostatics --------------------------------------------------------------------
def _gauss_legendre(n):
    x, w = np.polynomial.legendre.leggauss(n)
    return (x + 1.0) / 2.0, w / 2.0


def _kd_nodes():
    s, ws = _gauss_legendre(64)                     # s in [0, 20]: sech^2 < 2e-17 beyond
    xv, wv = _gauss_legendre(16)                    # 16 nodes per period of sin^2 v
    periods = 64
    v = ((np.arange(periods)[:, None] + xv[None, :]) * np.pi).ravel()
    wv = np.tile(wv * np.pi, periods)
    xu, wu = _gauss_legendre(64)                    # tail v = V1 / u, u in (0, 1]
    return 20.0 * s, 20.0 * ws, v, wv, periods * np.pi, xu, wu


_KD_NODES = _kd_nodes()


def _wall_demag_anisotropy(Ms, delta, width, thickness):
    # K_D of `DomainWallStrip.wall_anisotropy` (formula there).
    s, ws, v, wv, v1, xu, wu = (np.asarray(a) for a in _KD_NODES)
    dtype = jnp.result_type(Ms, delta, width, thickness, float)
    kx = (2.0 / (jnp.pi * delta)) * jnp.asarray(s, dtype)[:, None]

    def f(ky):
        kp2 = kx**2 + ky**2
        a = jnp.sqrt(kp2) * thickness
        g = 1.0 - (-jnp.expm1(-a)) / a
        return (kx**2 - ky**2) / kp2 * g

    v = jnp.asarray(v, dtype)[None, :]
    inner = jnp.sum(jnp.asarray(wv, dtype)[None, :] * jnp.sinc(v / jnp.pi) ** 2
                    * f(2.0 * v / width), axis=1)
    vt = v1 / jnp.asarray(xu, dtype)[None, :]
    tail = jnp.sum(jnp.asarray(wu, dtype)[None, :] * f(2.0 * vt / width), axis=1) / (2.0 * v1)
    total = jnp.sum(jnp.asarray(ws, dtype) / jnp.cosh(jnp.asarray(s, dtype)) ** 2
                    * (inner + tail))
    return 0.5 * MU0 * Ms**2 * (2.0 / jnp.pi) * total


# --- pinning ---------------------------------------------------------------------------------
class AbstractPinning(eqx.Module):
    """A pinning potential V(q) [J] acting on the wall position q [m]."""

    @abc.abstractmethod
    def energy(self, q) -> Float[Array, ""]:
        """V(q) [J]."""

    @abc.abstractmethod
    def force(self, q) -> Float[Array, ""]:
        """-dV/dq [N]."""


class HarmonicPinning(AbstractPinning):
    """Harmonic well V(q) = (1/2) `stiffness` (q - `center`)^2.

    **Arguments:**

    - `stiffness`: k [J/m^2] = [N/m], >= 0. At temperature T the wall's position fluctuates
      with variance k_B T / k (Boltzmann).
    - `center`: well position [m], finite.
    """

    stiffness: Float[Array, ""]
    center: Float[Array, ""] = 0.0

    def __check_init__(self):
        check_range("stiffness", self.stiffness, low=0.0, low_inclusive=True, unit="J/m^2")
        check_finite("center", self.center, unit="m")

    def energy(self, q):
        return 0.5 * self.stiffness * (q - self.center) ** 2

    def force(self, q):
        return -self.stiffness * (q - self.center)


class PeriodicPinning(AbstractPinning):
    """Periodic potential V(q) = `amplitude` sin^2(pi (q - `offset`) / `period`).

    Minima at q = offset + n period, barriers of height `amplitude` between them. The largest
    restoring force is pi amplitude / period, i.e. a depinning field
    H_dep = pi amplitude / (2 mu0 Ms S period) (see `depinning_field`).

    **Arguments:**

    - `amplitude`: barrier height V0 [J], >= 0.
    - `period`: [m], > 0.
    - `offset`: position of a minimum [m], finite.
    """

    amplitude: Float[Array, ""]
    period: Float[Array, ""]
    offset: Float[Array, ""] = 0.0

    def __check_init__(self):
        check_range("amplitude", self.amplitude, low=0.0, low_inclusive=True, unit="J")
        check_range("period", self.period, low=0.0, unit="m")
        check_finite("offset", self.offset, unit="m")

    def energy(self, q):
        return self.amplitude * jnp.sin(jnp.pi * (q - self.offset) / self.period) ** 2

    def force(self, q):
        k = jnp.pi / self.period
        return -self.amplitude * k * jnp.sin(2.0 * k * (q - self.offset))

    def depinning_field(self, strip: "DomainWallStrip") -> Float[Array, ""]:
        """Static depinning field pi V0 / (2 mu0 Ms S period) [A/m] for `strip`."""
        return (jnp.pi * self.amplitude
                / (2.0 * MU0 * strip.Ms * strip.cross_section() * self.period))


# --- the model -------------------------------------------------------------------------------
class DomainWallStrip(eqx.Module):
    """One domain wall in a PMA strip on a spin-Hall heavy metal: the (q, phi) model.

    Equations, sources and sign conventions: see the module docstring. All float arguments
    are pytree leaves (batch with `jax.vmap`, differentiate with `jax.grad`).

    **Arguments:**

    - `Ms`: saturation magnetization [A/m], > 0.
    - `A`: exchange stiffness [J/m], > 0.
    - `alpha`: Gilbert damping, in (0, 10).
    - `D`: interfacial DMI [J/m^2], finite (sign as `spinjax.micromag.InterfacialDMI`).
    - `length`, `width`, `thickness`: strip length L (q lives in [0, L]), width w and
      ferromagnet thickness t_FM [m], all > 0.
    - `Ku`: uniaxial (perpendicular) anisotropy [J/m^3]; K_eff = Ku - mu0 Ms^2 / 2.
    - `K_eff`: effective anisotropy [J/m^3], > 0, used instead of `Ku` (give exactly one).
    - `shape_anisotropy`: wall hard-axis constant K_D [J/m^3] (> 0 favours Bloch walls),
      finite; None (default) computes it from the demagnetizing factors of a pi Delta x w x t
      prism.
    - `current`: charge current density j(t) along +x [A/m^2], an `AbstractWaveform`
      (default zero). It drives the SOT (as the heavy-metal current density) and the Zhang–Li
      torque (as the current density in the magnet).
    - `spin_hall_angle`: theta_SH, in [-1, 1].
    - `field_like_ratio`: xi of the field-like SOT, in (-100, 100).
    - `polarization`: Zhang–Li spin polarization P, in [0, 1].
    - `beta`: non-adiabatic Zhang–Li parameter, finite.
    - `Hx`, `Hy`, `Hz`: constant applied field [A/m], finite.
    - `pinning`: tuple of `AbstractPinning` potentials (summed).
    - `temperature`: T [K], >= 0 (used by `solve_wall_thermal`).
    - `wall_type`: +1 for an up/down wall (m_z = +1 on the left), -1 for down/up (static).

    **Example:**

    ```python
    strip = DomainWallStrip(Ms=1.1e6, A=1.6e-11, alpha=0.3, D=1.2e-3, length=500e-9,
                            width=20e-9, thickness=0.8e-9, Ku=1.21e6, spin_hall_angle=0.1,
                            current=Pulse(1e12, 1e-9))
    traj = solve_wall(strip, 2e-9, q0=250e-9)
    strip.dmi_saturation_velocity()      # ≈ 300 m/s
    ```
    """

    Ms: Float[Array, ""]
    A: Float[Array, ""]
    alpha: Float[Array, ""]
    D: Float[Array, ""]
    length: Float[Array, ""]
    width: Float[Array, ""]
    thickness: Float[Array, ""]
    Ku: Float[Array, ""] | None = None
    K_eff: Float[Array, ""] | None = None
    shape_anisotropy: Float[Array, ""] | None = None
    current: AbstractWaveform = Constant(0.0)
    spin_hall_angle: Float[Array, ""] = 0.0
    field_like_ratio: Float[Array, ""] = 0.0
    polarization: Float[Array, ""] = 0.0
    beta: Float[Array, ""] = 0.0
    Hx: Float[Array, ""] = 0.0
    Hy: Float[Array, ""] = 0.0
    Hz: Float[Array, ""] = 0.0
    pinning: tuple[AbstractPinning, ...] = ()
    temperature: Float[Array, ""] = 0.0
    wall_type: int = eqx.field(static=True, default=1)

    def __check_init__(self):
        check_range("Ms", self.Ms, low=0.0, unit="A/m")
        check_range("A", self.A, low=0.0, unit="J/m")
        check_range("alpha", self.alpha, low=0.0, high=10.0)
        check_finite("D", self.D, unit="J/m^2")
        check_range("length", self.length, low=0.0, unit="m")
        check_range("width", self.width, low=0.0, unit="m")
        check_range("thickness", self.thickness, low=0.0, unit="m")
        if (self.Ku is None) == (self.K_eff is None):
            raise ValueError("give exactly one of Ku (uniaxial anisotropy, J/m^3; K_eff = Ku - "
                             "mu0 Ms^2/2) and K_eff (effective anisotropy, J/m^3)")
        if self.K_eff is not None:
            check_range("K_eff", self.K_eff, low=0.0, unit="J/m^3")
        else:
            check_finite("Ku", self.Ku, unit="J/m^3")
            check_range("K_eff = Ku - mu0 Ms^2/2 (perpendicular anisotropy needed)",
                        self.effective_anisotropy(), low=0.0, unit="J/m^3")
        if self.shape_anisotropy is not None:
            check_finite("shape_anisotropy", self.shape_anisotropy, unit="J/m^3")
        if not isinstance(self.current, AbstractWaveform):
            raise TypeError(f"current must be a spinjax.waveforms.AbstractWaveform (current "
                            f"density in A/m^2), got {type(self.current).__name__}")
        check_range("spin_hall_angle", self.spin_hall_angle, low=-1.0, high=1.0,
                    low_inclusive=True, high_inclusive=True)
        check_range("field_like_ratio", self.field_like_ratio, low=-100.0, high=100.0)
        check_range("polarization", self.polarization, low=0.0, high=1.0, low_inclusive=True,
                    high_inclusive=True)
        check_finite("beta", self.beta)
        for name in ("Hx", "Hy", "Hz"):
            check_finite(name, getattr(self, name), unit="A/m")
        check_range("temperature", self.temperature, low=0.0, low_inclusive=True, unit="K")
        if not isinstance(self.pinning, tuple) or not all(
                isinstance(p, AbstractPinning) for p in self.pinning):
            raise TypeError("pinning must be a tuple of AbstractPinning potentials "
                            "(HarmonicPinning, PeriodicPinning, ...)")
        if self.wall_type not in (1, -1):
            raise ValueError(f"wall_type = {self.wall_type!r} is not allowed: +1 (up/down) or "
                             f"-1 (down/up)")

    # --- derived quantities ------------------------------------------------------------------
    def effective_anisotropy(self) -> Float[Array, ""]:
        """K_eff [J/m^3]: `K_eff` if given, else Ku - mu0 Ms^2 / 2 (thin film)."""
        if self.K_eff is not None:
            return jnp.asarray(self.K_eff)
        return self.Ku - 0.5 * MU0 * self.Ms**2

    def wall_width(self) -> Float[Array, ""]:
        """Delta = sqrt(A / K_eff) [m]."""
        return jnp.sqrt(self.A / self.effective_anisotropy())

    def cross_section(self) -> Float[Array, ""]:
        """S = width x thickness [m^2]."""
        return self.width * self.thickness

    def wall_anisotropy(self) -> Float[Array, ""]:
        """Bloch–Néel anisotropy K_D [J/m^3] (> 0: Bloch walls are favoured).

        `shape_anisotropy` if given; else K_D = (E_Néel - E_Bloch) / (2 Delta w t) with the
        magnetostatic energies E = (mu0/2) ∫ d^3k/(2 pi)^3 |k·M(k)|^2 / k^2 of the profiles
        m_x (Néel) or m_y (Bloch) = sech((x - q)/Delta), uniform over the w x t section.
        Integrating k_z analytically and substituting k_x = 2 s / (pi Delta),
        k_y = 2 v / w:

            K_D = (mu0 Ms^2 / 2) (2 / pi) ∫_0^∞ ds sech^2(s) ∫_0^∞ dv (sin v / v)^2
                  (k_x^2 - k_y^2) / k^2 · g(k t),     g(a) = 1 - (1 - e^-a) / a,

        k^2 = k_x^2 + k_y^2, by Gauss–Legendre quadrature (64 periods of sin^2 v resolved, the
        rest with sin^2 -> 1/2). Accurate to ~1e-3 (w -> ∞, t -> 0 gives Tarasenko's
        t ln 2 / (pi Delta) to 8e-4) and differentiable in Ms, A, K_eff, w, t.
        """
        if self.shape_anisotropy is not None:
            return jnp.asarray(self.shape_anisotropy)
        return _wall_demag_anisotropy(self.Ms, self.wall_width(), self.width, self.thickness)

    def with_wall_anisotropy(self) -> "DomainWallStrip":
        """This model with K_D evaluated once and stored in `shape_anisotropy`.

        The solvers call it before integrating, so the quadrature of `wall_anisotropy` runs
        once per solve, not at every right-hand-side evaluation (gradients still flow).
        """
        if self.shape_anisotropy is not None:
            return self
        return eqx.tree_at(lambda m: m.shape_anisotropy, self, self.wall_anisotropy(),
                           is_leaf=lambda x: x is None)

    def prism_wall_anisotropy(self) -> Float[Array, ""]:
        """K_D [J/m^3] of the prism approximation, (mu0 Ms^2 / 2)(N_x - N_y) of a
        pi Delta x w x t prism (Aharoni factors; Mougin et al. 2007). For comparison only:
        see the module docstring."""
        n = Rectangle(jnp.pi * self.wall_width(), self.width, self.thickness).demag_factors()
        return 0.5 * MU0 * self.Ms**2 * (n[0] - n[1])

    def hard_axis_field(self) -> Float[Array, ""]:
        """H_K = 2 K_D / (mu0 Ms) [A/m]."""
        return 2.0 * self.wall_anisotropy() / (MU0 * self.Ms)

    def dmi_field(self) -> Float[Array, ""]:
        """H_DMI = D / (mu0 Ms Delta) [A/m] (Thiaville et al. 2012)."""
        return self.D / (MU0 * self.Ms * self.wall_width())

    def dmi_saturation_velocity(self) -> Float[Array, ""]:
        """|v_D| = (pi/2) gamma Delta |H_DMI + Q Hx| [m/s]: SOT saturation velocity."""
        return 0.5 * jnp.pi * GAMMA * self.wall_width() * jnp.abs(
            self.dmi_field() + self.wall_type * self.Hx)

    def spin_hall_field(self, j) -> Float[Array, "..."]:
        """H_SH = hbar theta_SH j / (2 q_e mu0 Ms t_FM) [A/m] for current density j [A/m^2]."""
        return (HBAR * self.spin_hall_angle * j
                / (2.0 * ELEMENTARY_CHARGE * MU0 * self.Ms * self.thickness))

    def spin_drift_velocity(self, j) -> Float[Array, "..."]:
        """Zhang–Li u = -(P mu_B / (q_e Ms)) j [m/s] for current density j [A/m^2]."""
        return -self.polarization * MU_B * j / (ELEMENTARY_CHARGE * self.Ms)

    def sot_velocity(self, j) -> Float[Array, "..."]:
        """Closed-form steady SOT velocity [m/s] of the chiral wall, exact for K_D = 0.

        v = -(pi/2) gamma Delta H_SH h / sqrt(alpha^2 h^2 + H_SH^2), h = H_DMI + Q Hx
        (Thiaville 2012; Emori 2013), at current density j [A/m^2], with no Hz, Zhang–Li or
        pinning. With K_D != 0 use `steady_state`.
        """
        h = self.dmi_field() + self.wall_type * self.Hx
        hsh = self.spin_hall_field(j)
        return (-0.5 * jnp.pi * GAMMA * self.wall_width() * hsh * h
                / jnp.sqrt((self.alpha * h) ** 2 + hsh**2))

    def sot_saturation_current_density(self) -> Float[Array, ""]:
        """j_D [A/m^2] at which H_SH = alpha |H_DMI + Q Hx|: |v| = v_D / sqrt(2) there.

        The SOT-driven chiral wall has no Walker breakdown: v rises as
        v_D (j/j_D) / sqrt(1 + (j/j_D)^2) (K_D = 0) and saturates at v_D.
        """
        h = jnp.abs(self.dmi_field() + self.wall_type * self.Hx)
        return (2.0 * ELEMENTARY_CHARGE * MU0 * self.Ms * self.thickness * self.alpha * h
                / (HBAR * jnp.abs(self.spin_hall_angle)))

    def _torque_profile(self, phi, hy):
        # f(phi) = R1 / (gamma Delta) without Zhang-Li [A/m].
        h = self.wall_type * self.dmi_field() + self.Hx
        return (0.5 * jnp.pi * h * jnp.sin(phi) - 0.5 * self.hard_axis_field()
                * jnp.sin(2.0 * phi) - 0.5 * jnp.pi * hy * jnp.cos(phi))

    def walker_field(self) -> Float[Array, ""]:
        """Walker breakdown field H_W [A/m] for Hz (no current, no pinning).

        H_W = alpha max_phi |f(phi)|, f = (pi/2)(Q H_DMI + Hx) sin phi - (H_K/2) sin 2 phi
        - (pi/2) Hy cos phi (the smaller of the thresholds for the two signs of Hz);
        alpha H_K / 2 without DMI and in-plane fields.
        """
        phi = jnp.linspace(-jnp.pi, jnp.pi, 4097)
        f = self.with_wall_anisotropy()._torque_profile(phi, self.Hy)
        return self.alpha * jnp.minimum(jnp.max(f), -jnp.min(f))

    def zhang_li_walker_current_density(self) -> Float[Array, ""]:
        """Walker current density [A/m^2] of Zhang–Li STT alone: |u_W| = gamma Delta max|f| /
        |1 - beta/alpha|; inf for beta = alpha or P = 0."""
        phi = jnp.linspace(-jnp.pi, jnp.pi, 4097)
        f = self.with_wall_anisotropy()._torque_profile(phi, self.Hy)
        u_w = GAMMA * self.wall_width() * jnp.minimum(jnp.max(f), -jnp.min(f)) / jnp.abs(
            1.0 - self.beta / self.alpha)
        return u_w * ELEMENTARY_CHARGE * self.Ms / (self.polarization * MU_B)

    # --- energy and equations of motion ------------------------------------------------------
    def energy(self, q, phi, t=0.0) -> Float[Array, ""]:
        """Wall energy E(q, phi) = S sigma [J] at time `t` [s], up to a constant.

        Includes the wall anisotropy, DMI, applied and field-like SOT fields and pinning;
        the damping-like SOT and Zhang–Li torques are not conservative and have no energy.
        """
        q_ = self.wall_type
        delta = self.wall_width()
        hy = self.Hy - self.field_like_ratio * self.spin_hall_field(self.current(t))
        sigma = (2.0 * delta * self.wall_anisotropy() * jnp.cos(phi) ** 2
                 - q_ * jnp.pi * self.D * jnp.cos(phi)
                 - jnp.pi * delta * MU0 * self.Ms * (self.Hx * jnp.cos(phi) + hy * jnp.sin(phi))
                 - 2.0 * q_ * MU0 * self.Ms * self.Hz * q)
        e = self.cross_section() * sigma
        for p in self.pinning:
            e = e + p.energy(q)
        return e

    def pinning_force(self, q) -> Float[Array, ""]:
        """Total pinning force -dV/dq [N] at wall position q [m]."""
        f = jnp.zeros_like(jnp.asarray(q, float))
        for p in self.pinning:
            f = f + p.force(q)
        return f

    def _r(self, t, q, phi):
        # R1 [m/s] and R2 [1/s] of the module docstring (pinning included when q is given).
        q_ = self.wall_type
        delta = self.wall_width()
        j = self.current(t)
        hsh = self.spin_hall_field(j)
        u = self.spin_drift_velocity(j)
        hy = self.Hy - self.field_like_ratio * hsh
        r1 = GAMMA * delta * self._torque_profile(phi, hy) + q_ * u
        r2 = (GAMMA * q_ * self.Hz + self.beta * u / delta
              - 0.5 * jnp.pi * GAMMA * q_ * hsh * jnp.cos(phi))
        if q is not None and self.pinning:
            r2 = r2 + GAMMA * self.pinning_force(q) / (2.0 * MU0 * self.Ms * self.cross_section())
        return r1, r2

    def _velocities(self, r1, r2):
        q_ = self.wall_type
        delta = self.wall_width()
        a = self.alpha
        qdot = (q_ * r1 + a * delta * r2) / (1.0 + a**2)
        phidot = (q_ * r2 - a * r1 / delta) / (1.0 + a**2)
        return qdot, phidot

    def rates(self, t, q, phi) -> tuple[Float[Array, ""], Float[Array, ""]]:
        """Deterministic (dq/dt [m/s], dphi/dt [rad/s]) at time `t` [s], position `q` [m]."""
        return self._velocities(*self._r(t, q, phi))

    def noise_amplitudes(self) -> tuple[Float[Array, ""], Float[Array, ""]]:
        """Thermal amplitudes (a1 [m/s^(1/2)], a2 [s^(-1/2)]) of R1 and R2.

        R1 dt gains a1 dW1 and R2 dt gains a2 dW2 (independent Wiener increments) with
        a1 = sqrt(gamma alpha k_B T Delta / (mu0 Ms S)), a2 = sqrt(gamma alpha k_B T /
        (mu0 Ms S Delta)): the forces of <f f> = 2 k_B T Gamma (module docstring).
        """
        c = GAMMA * self.alpha * K_B * self.temperature / (MU0 * self.Ms * self.cross_section())
        delta = self.wall_width()
        return jnp.sqrt(c * delta), jnp.sqrt(c / delta)

    # --- static and steady states ------------------------------------------------------------
    def rest_angle(self) -> Float[Array, ""]:
        """phi [rad] minimising the wall energy with no current and Hz = 0 (in (-pi, pi])."""
        return _rest_angle(self)

    def _rest_angle(self):
        self = self.with_wall_anisotropy()
        phi = jnp.linspace(-jnp.pi, jnp.pi, 721)[1:]
        rest = eqx.tree_at(lambda s: s.current, self, Constant(0.0))
        e = jax.vmap(lambda p: rest.energy(0.0, p))(phi)
        p = phi[jnp.argmin(e)]
        d1 = jax.grad(rest.energy, argnums=1)
        d2 = jax.grad(d1, argnums=1)
        for _ in range(3):
            p = p - d1(0.0, p) / jnp.where(d2(0.0, p) > 0, d2(0.0, p), jnp.inf)
        return p

    def steady_state(self, t=0.0) -> tuple[Float[Array, ""], Float[Array, ""]]:
        """Steady wall motion for the drives frozen at time `t` [s] (pinning ignored).

        Solves dphi/dt = 0 for the stable root phi* nearest the rest angle (a grid over
        (-pi, pi] then Newton steps, so the result is differentiable), and returns
        (v [m/s], phi* [rad]). Both are NaN above Walker breakdown (no steady state).
        """
        return _steady_state(self, jnp.asarray(t, float))

    def _steady_state(self, t):
        self = self.with_wall_anisotropy()
        phi_ref = jax.lax.stop_gradient(self.rest_angle())

        def h(p):
            return self._velocities(*self._r(t, None, p))[1]

        grid = phi_ref + jnp.linspace(-jnp.pi, jnp.pi, 1441)
        hg = jax.vmap(h)(grid)
        stable = (hg[:-1] > 0) & (hg[1:] <= 0)
        frac = hg[:-1] / jnp.where(stable, hg[:-1] - hg[1:], 1.0)
        roots = grid[:-1] + frac * (grid[1] - grid[0])
        dist = jnp.where(stable, jnp.abs(roots - phi_ref), jnp.inf)
        k = jnp.argmin(dist)
        p = jax.lax.stop_gradient(roots[k])
        dh = jax.grad(h)
        for _ in range(3):
            p = p - h(p) / dh(p)
        p = jnp.where(jnp.isfinite(dist[k]), p, jnp.nan)
        v = self._velocities(*self._r(t, None, p))[0]
        return v, p


# Jitted once per model structure: eagerly, the grids and Newton steps would dispatch (and
# compile) every small operation separately.
_rest_angle = eqx.filter_jit(DomainWallStrip._rest_angle)
_steady_state = eqx.filter_jit(DomainWallStrip._steady_state)


# --- solvers ---------------------------------------------------------------------------------
class WallTrajectory(eqx.Module):
    """Result of `solve_wall` / `solve_wall_thermal`.

    - `ts`: save times [s], shape (n_save,).
    - `q`: wall position [m] at the save times, in [0, L].
    - `phi`: wall angle [rad] at the save times (not wrapped).
    - `n_steps`: number of solver steps taken.
    """

    ts: Float[Array, " n_save"]
    q: Float[Array, " n_save"]
    phi: Float[Array, " n_save"]
    n_steps: Array


def _vector_field(model):
    def f(tau, y, args):
        qdot, phidot = model.rates(tau * TIME_UNIT, y[0] * LENGTH_UNIT, y[1])
        # nm/ns = m/s; rad/ns = TIME_UNIT rad/s.
        return jnp.stack([qdot * (TIME_UNIT / LENGTH_UNIT), phidot * TIME_UNIT])
    return f


def _clip_to_strip(y, length_nm):
    return y.at[0].set(jnp.clip(y[0], 0.0, length_nm))


def _edge_times(waveform):
    # Corners of trapezoidal pulses, so the adaptive controller never steps over an edge.
    if isinstance(waveform, Pulse):
        starts, widths = jnp.atleast_1d(waveform.start), jnp.atleast_1d(waveform.width)
    elif isinstance(waveform, PulseTrain):
        starts, widths = waveform.starts, waveform.widths
    else:
        return None
    half = 0.5 * waveform.rise_time
    edges = jnp.concatenate([starts - half, starts + half, starts + widths - half,
                             starts + widths + half])
    return jnp.sort(edges) / TIME_UNIT


_SOLVERS = {"tsit5": dfx.Tsit5, "dopri5": dfx.Dopri5}


@eqx.filter_jit
def _solve(model, y0, t1_ns, ts_ns, solver, rtol, atol, max_steps, adjoint):
    model = model.with_wall_anisotropy()
    length_nm = model.length / LENGTH_UNIT
    y0 = _clip_to_strip(y0, length_nm)
    forward = isinstance(adjoint, dfx.ForwardMode)
    inner = _SOLVERS[solver](scan_kind="lax") if forward else _SOLVERS[solver]()
    project = jtu.Partial(_clip_to_strip, length_nm=length_nm)
    controller = dfx.PIDController(rtol=rtol, atol=atol, jump_ts=_edge_times(model.current))
    sol = dfx.diffeqsolve(
        dfx.ODETerm(_vector_field(model)), Renormalised(inner, project), t0=0.0, t1=t1_ns,
        dt0=None, y0=y0, saveat=dfx.SaveAt(ts=ts_ns, fn=lambda t, y, a: project(y)),
        stepsize_controller=controller, max_steps=max_steps, adjoint=adjoint)
    ys = eqx.error_if(sol.ys, ~jnp.all(jnp.isfinite(sol.ys)),
                      "the domain-wall solve produced NaN or inf: check the parameters")
    return ys, sol.stats["num_steps"]


def _initial_state(model, q0, phi0):
    check_range("q0", q0, low=0.0, low_inclusive=True, unit="m")
    if is_concrete((q0, model.length)) and np.any(np.asarray(q0) > np.asarray(model.length)):
        raise ValueError(f"q0 = {float(np.max(q0)):g} m is outside the allowed range "
                         f"[0, length = {float(np.max(model.length)):g}] m")
    phi0 = model.rest_angle() if phi0 is None else check_finite("phi0", phi0, unit="rad")
    q0 = jnp.asarray(q0, jnp.result_type(float))
    return jnp.stack([q0 / LENGTH_UNIT, jnp.asarray(phi0, q0.dtype)])


def _check_model(model):
    if not isinstance(model, DomainWallStrip):
        raise TypeError(f"model must be a DomainWallStrip, got {type(model).__name__}")
    # Python floats would be static under filter_jit (one compile per value): make them arrays.
    return jtu.tree_map(
        lambda x: jnp.asarray(x, float) if isinstance(x, (float, int)) and not isinstance(
            x, bool) else x, model)


def solve_wall(model: DomainWallStrip, t1, q0, phi0=None, save_at=None, *,
               solver: str = "tsit5", rtol: float = 1e-7, atol: float = 1e-7,
               max_steps: int = 100_000,
               adjoint: dfx.AbstractAdjoint | None = None) -> WallTrajectory:
    """Deterministic wall dynamics over [0, `t1`] (temperature ignored).

    Adaptive Tsit5 (or Dopri5) with a PID controller in (nm, ns) units; the corners of
    `Pulse`/`PulseTrain` current waveforms are passed to the controller as jump times.
    Differentiable with `jax.grad` (default adjoint) w.r.t. any float leaf of `model`,
    `q0`, `phi0`; vmap over models (`jax.vmap` / `eqx.filter_vmap`) to batch walls.

    **Arguments:**

    - `model`: a `DomainWallStrip`.
    - `t1`: end time [s], > 0 (a Python float; it sets the solve, not traced).
    - `q0`: initial position [m], in [0, L]. `phi0`: initial angle [rad]; default
      `model.rest_angle()`.
    - `save_at`: save times [s] in [0, t1]; default 101 equally spaced points.
    - `solver`: "tsit5" or "dopri5". `rtol`, `atol`: tolerances on (q [nm], phi [rad]).
    - `max_steps`: step limit. `adjoint`: a diffrax adjoint (default
      `RecursiveCheckpointAdjoint`; `diffrax.ForwardMode()` for jvp/jacfwd).

    **Returns:** a `WallTrajectory`.
    """
    model = _check_model(model)
    t1 = float(t1)
    if not (math.isfinite(t1) and t1 > 0.0):
        raise ValueError(f"t1 = {t1:g} s is outside the allowed range (0, inf) s")
    if solver not in _SOLVERS:
        raise ValueError(f"solver = {solver!r} is not one of {sorted(_SOLVERS)}")
    ts = jnp.linspace(0.0, t1, 101) if save_at is None else jnp.asarray(save_at, float)
    if ts.ndim != 1 or ts.size == 0:
        raise ValueError(f"save_at must be a non-empty 1D array of times in s, got shape "
                         f"{ts.shape}")
    if is_concrete(ts) and (float(ts.min()) < 0.0 or float(ts.max()) > t1 * (1 + 1e-12)):
        raise ValueError(f"save_at spans [{float(ts.min()):g}, {float(ts.max()):g}] s, outside "
                         f"the allowed range [0, t1 = {t1:g}] s")
    y0 = _initial_state(model, q0, phi0)
    f = lambda x: jnp.asarray(x, float)  # noqa: E731  (traced: no recompilation)
    ys, n = _solve(model, y0, f(t1 / TIME_UNIT), ts / TIME_UNIT, solver, f(rtol), f(atol),
                   int(max_steps), dfx.RecursiveCheckpointAdjoint() if adjoint is None
                   else adjoint)
    return WallTrajectory(ts=ts, q=ys[:, 0] * LENGTH_UNIT, phi=ys[:, 1], n_steps=n)


def wall_displacement(model: DomainWallStrip, t1, q0, phi0=None, **kwargs) -> Float[Array, ""]:
    """Displacement q(t1) - q0 [m] (e.g. after a current pulse in `model.current`).

    One deterministic solve saving only t1: cheap, differentiable and vmappable. Below the
    SOT saturation the displacement of a pulse is ≈ v(j) x width, i.e. ∝ j t. Keyword
    arguments go to `solve_wall`.
    """
    traj = solve_wall(model, t1, q0, phi0, jnp.asarray([float(t1)]), **kwargs)
    return traj.q[-1] - jnp.asarray(q0, traj.q.dtype)


@eqx.filter_jit
def _solve_thermal(model, y0, dt_ns, n_blocks, save_every, key):
    model = model.with_wall_anisotropy()
    length_nm = model.length / LENGTH_UNIT
    y0 = _clip_to_strip(y0, length_nm)
    f = _vector_field(model)
    a1, a2 = model.noise_amplitudes()
    delta, alpha, q_ = model.wall_width(), model.alpha, model.wall_type
    sqrt_dt = jnp.sqrt(dt_ns * TIME_UNIT)

    def step(y, k):
        z = jax.random.normal(jax.random.fold_in(key, k), (2,), y.dtype) * sqrt_dt
        n1, n2 = a1 * z[0], a2 * z[1]  # R1 dt, R2 dt noise [m], [1]
        noise = jnp.stack([(q_ * n1 + alpha * delta * n2) / ((1.0 + alpha**2) * LENGTH_UNIT),
                           (q_ * n2 - alpha * n1 / delta) / (1.0 + alpha**2)])
        tau = k * dt_ns
        k0 = f(tau, y, None) * dt_ns + noise
        k1 = f(tau + dt_ns, y + k0, None) * dt_ns + noise
        return _clip_to_strip(y + 0.5 * (k0 + k1), length_nm), None

    def block(y, b):
        y, _ = jax.lax.scan(step, y, b * save_every + jnp.arange(save_every))
        return y, y

    _, ys = jax.lax.scan(block, y0, jnp.arange(n_blocks))
    return ys


def solve_wall_thermal(model: DomainWallStrip, t1, dt, key, q0, phi0=None, *,
                       save_every: int = 1) -> WallTrajectory:
    """Stochastic wall dynamics at `model.temperature`, Heun at fixed step `dt`.

    The thermal forces (module docstring) are additive, so Heun (the noise held over the
    step) converges to the unique solution; weak order 1 in dt, error ~ (rate x dt) for the
    fastest relaxation rate of q or phi. Step k's noise is a pure function of (`key`, k)
    (`jax.random.fold_in`), so `jax.vmap` over keys or models gives each wall the same path
    as a single run. q is clipped to [0, L] after every step.

    **Arguments:**

    - `model`: a `DomainWallStrip` (its `temperature` [K] sets the noise).
    - `t1`: duration [s], `dt`: step [s], both > 0 (Python floats; t1/dt steps, rounded
      down to a multiple of `save_every`).
    - `key`: a `jax.random` key.
    - `q0`, `phi0`: initial state as in `solve_wall`.
    - `save_every`: steps between saved states.

    **Returns:** a `WallTrajectory` with states after every `save_every` steps.
    """
    model = _check_model(model)
    t1, dt = float(t1), float(dt)
    if not (math.isfinite(t1) and t1 > 0.0):
        raise ValueError(f"t1 = {t1:g} s is outside the allowed range (0, inf) s")
    if not (math.isfinite(dt) and dt > 0.0):
        raise ValueError(f"dt = {dt:g} s is outside the allowed range (0, inf) s")
    if int(save_every) < 1:
        raise ValueError(f"save_every = {save_every!r} is outside the allowed range [1, inf)")
    n_blocks = int(t1 / dt * (1.0 + 1e-12)) // int(save_every)
    if n_blocks < 1:
        raise ValueError(f"t1 = {t1:g} s holds fewer than save_every = {save_every} steps of "
                         f"dt = {dt:g} s")
    y0 = _initial_state(model, q0, phi0)
    ys = _solve_thermal(model, y0, jnp.asarray(dt / TIME_UNIT, y0.dtype), n_blocks,
                        int(save_every), key)
    ts = jnp.arange(1, n_blocks + 1) * int(save_every) * dt
    return WallTrajectory(ts=ts, q=ys[:, 0] * LENGTH_UNIT, phi=ys[:, 1],
                          n_steps=jnp.asarray(n_blocks * int(save_every)))
