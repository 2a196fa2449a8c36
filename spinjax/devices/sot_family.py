"""A differentiable device *family* surrogate of the SOT-MTJ neuron (physics.md 5a).

`SOTNeuronFamily` maps the two design parameters of the neuron, the free-layer thickness
t_FL [m] and the write pulse width t_PW [s], to the `SwitchingSigmoid` P(I) of a neuron
starting from Boltzmann rest states (what `SOTMTJNeuron.firing_probability` and
`calibrate_neuron` measure). Both sigmoid parameters are low-order polynomials in
x = t_FL / 1 nm and y = ln(t_PW / 1 ns):

    ln(i50 / 1 µA) = sum_k a_k x^i_k y^j_k,      ln(log_width) = sum_k b_k x^i_k y^j_k,

fitted by weighted least squares to per-point `calibrate_neuron` runs on a grid
(`calibrate_neuron_family`), the basis chosen as the smallest that fits the grid within its
Monte Carlo errors (extended only by terms the data support, `fit_polynomial`). Everything
is smooth in (t_FL, t_PW), so a network can make the device parameters trainable leaves and
differentiate i50, log_width, P(I), the barrier and the write energy with respect to them.
Inputs outside the calibrated box raise (also under `jit`).

The calibrated family shipped with the package (`SOTNeuronFamily.load_default()`) was made by
`benchmarks/sot_neuron_family.py`.
"""

import dataclasses
import functools
import json
import math
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._checks import check_range
from ..statistics import fit_logistic
from ..surrogates import SwitchingSigmoid
from .sot_neuron import SOTMTJNeuron, SurrogateCalibration, calibrate_neuron

DEFAULT_PATH = Path(__file__).parent / "data" / "sot_neuron_family.json"
"""The calibrated family shipped with the package."""

FORMAT = "spinjax.SOTNeuronFamily/1"

# Candidate bases: monomials x^i y^j as (i, j) with x = thickness / 1 nm,
# y = ln(pulse_width / 1 ns); `fit_polynomial` keeps the smallest adequate one.
_L = ((0, 0), (1, 0), (0, 1))
CANDIDATE_TERMS = (
    _L,                                                      # linear
    _L + ((1, 1),), _L + ((2, 0),), _L + ((0, 2),),          # + one quadratic term
    _L + ((1, 1), (0, 2)), _L + ((1, 1), (2, 0)), _L + ((2, 0), (0, 2)),
    _L + ((1, 1), (0, 2), (2, 0)),                           # full quadratic
    _L + ((1, 1), (0, 2), (2, 0), (2, 1), (1, 2)),           # + mixed cubic
    _L + ((1, 1), (0, 2), (2, 0), (2, 1), (1, 2), (3, 0), (0, 3)),  # full cubic
)

# Range checks accept values within this relative distance of the calibrated box, so that a
# float32 copy of a grid end point (half an ulp ~ 6e-8 away) is still inside.
_RANGE_SLACK = 2e-7


def _poly(coeffs, terms, x, y):
    out = 0.0
    for k, (i, j) in enumerate(terms):
        out = out + coeffs[k] * x**i * y**j
    return out


@functools.partial(jax.jit, static_argnums=1)
def _barrier(thickness, temperature):
    # One compiled graph instead of op-by-op construction of the macrospin (seconds eager).
    return jnp.vectorize(lambda t: SOTMTJNeuron(thickness=t, temperature=temperature)
                         .barrier())(thickness)


@jax.jit
def _write_energy(current, pulse_width):
    # tree_at (not the constructor) so that a traced pulse width passes: SOTMTJNeuron's
    # step-time check needs a concrete pulse width and is irrelevant for the energy.
    neuron = eqx.tree_at(lambda n: n.pulse_width, SOTMTJNeuron(), pulse_width)
    return neuron.write_energy(current)


def _design(terms, x, y) -> np.ndarray:
    return np.stack([x**i * y**j for i, j in terms], axis=-1)


class SOTNeuronFamily(eqx.Module):
    """Switching sigmoid of the 5a SOT-MTJ neuron as a smooth function of its design.

    P(I; t_FL, t_PW) = 1 / (1 + (i50 / I)^(1 / log_width)) for a neuron at rest (Boltzmann
    states around P at `temperature`), with ln(i50 / 1 µA) and ln(log_width) polynomials in
    x = t_FL / 1 nm and y = ln(t_PW / 1 ns) (see the module docstring). Build one with
    `calibrate_neuron_family` or load the shipped calibration with `load_default()`.

    **Arguments:**

    - `i50_coeffs`: coefficients of ln(i50 / 1 µA), one per monomial of `i50_terms`.
    - `log_width_coeffs`: coefficients of ln(log_width), one per monomial of `log_width_terms`.
    - `i50_terms`, `log_width_terms` (static): the monomials as exponent pairs (i, j) of x^i y^j.
    - `thickness_range` (static): calibrated (min, max) free-layer thickness [m].
    - `pulse_width_range` (static): calibrated (min, max) write pulse width [s].
    - `rms_error`, `max_error` (static): RMS and largest |P_family - P_MonteCarlo| over all
      calibration currents of all grid points (probability units; includes the Monte Carlo
      noise of the calibration data).
    - `temperature` (static): the temperature of the calibration [K] (5a: 300 K).

    The coefficients are array leaves; a network that trains only the device parameters
    should keep them out of its optimiser (e.g. `eqx.partition` or `jax.lax.stop_gradient`).

    **Example:**

    ```python
    family = SOTNeuronFamily.load_default()
    sig = family.sigmoid(1.1e-9, 0.7e-9)          # a SwitchingSigmoid
    di50 = jax.grad(family.i50, argnums=(0, 1))(1.1e-9, 0.7e-9)   # [A/m], [A/s]
    ```
    """

    i50_coeffs: Float[Array, " p"]
    log_width_coeffs: Float[Array, " q"]
    i50_terms: tuple[tuple[int, int], ...] = eqx.field(static=True)
    log_width_terms: tuple[tuple[int, int], ...] = eqx.field(static=True)
    thickness_range: tuple[float, float] = eqx.field(static=True)
    pulse_width_range: tuple[float, float] = eqx.field(static=True)
    rms_error: float = eqx.field(static=True, default=0.0)
    max_error: float = eqx.field(static=True, default=0.0)
    temperature: float = eqx.field(static=True, default=300.0)

    def __check_init__(self):
        for name, coeffs, terms in (("i50_coeffs", self.i50_coeffs, self.i50_terms),
                                    ("log_width_coeffs", self.log_width_coeffs,
                                     self.log_width_terms)):
            if np.shape(coeffs) != (len(terms),):
                raise ValueError(f"{name} has shape {np.shape(coeffs)}; expected "
                                 f"({len(terms)},), one coefficient per monomial")
        for name, (lo, hi) in (("thickness_range", self.thickness_range),
                               ("pulse_width_range", self.pulse_width_range)):
            if not 0 < lo <= hi:
                raise ValueError(f"{name} = ({lo:g}, {hi:g}) must satisfy 0 < min <= max")
        check_range("temperature", self.temperature, low=0.0, low_inclusive=True, unit="K")

    # --- validation -------------------------------------------------------------------------
    def _check_thickness(self, thickness):
        lo, hi = self.thickness_range
        return check_range("thickness", thickness, low=lo * (1 - _RANGE_SLACK),
                           high=hi * (1 + _RANGE_SLACK), low_inclusive=True,
                           high_inclusive=True, unit="m")

    def _check_pulse_width(self, pulse_width):
        lo, hi = self.pulse_width_range
        return check_range("pulse_width", pulse_width, low=lo * (1 - _RANGE_SLACK),
                           high=hi * (1 + _RANGE_SLACK), low_inclusive=True,
                           high_inclusive=True, unit="s")

    def _xy(self, thickness, pulse_width):
        thickness = self._check_thickness(thickness)
        pulse_width = self._check_pulse_width(pulse_width)
        return jnp.asarray(thickness) * 1e9, jnp.log(jnp.asarray(pulse_width) * 1e9)

    # --- the surrogate ----------------------------------------------------------------------
    def i50(self, thickness, pulse_width) -> Float[Array, "..."]:
        """Current of 50 % switching probability.

        **Arguments:**

        - `thickness`: free-layer thickness t_FL [m], inside `thickness_range`.
        - `pulse_width`: write pulse width t_PW [s], inside `pulse_width_range`.

        Arrays broadcast against each other.

        **Returns:** i50 [A].
        """
        x, y = self._xy(thickness, pulse_width)
        return 1e-6 * jnp.exp(_poly(self.i50_coeffs, self.i50_terms, x, y))

    def log_width(self, thickness, pulse_width) -> Float[Array, "..."]:
        """Logistic scale of P(I) in ln I.

        **Arguments:** `thickness` [m] and `pulse_width` [s], as for `i50`.

        **Returns:** log_width (dimensionless, > 0).
        """
        x, y = self._xy(thickness, pulse_width)
        return jnp.exp(_poly(self.log_width_coeffs, self.log_width_terms, x, y))

    def barrier(self, thickness) -> Float[Array, "..."]:
        """Thermal stability E_B / (k_B T) of the free layer at `temperature`.

        Exact (the macrospin's `thermal_stability`, via `SOTMTJNeuron(thickness=...).barrier()`),
        not fitted, so it is not restricted to the calibrated range (only to SOTMTJNeuron's
        (0, 10 nm)); differentiable in `thickness`.

        **Arguments:** `thickness`: free-layer thickness(es) [m], in (0, 10 nm).

        **Returns:** Delta (dimensionless), the shape of `thickness`.
        """
        thickness = check_range("thickness", thickness, low=0.0, high=10e-9, unit="m")
        return _barrier(jnp.asarray(thickness, float), self.temperature)

    def sigmoid(self, thickness, pulse_width) -> SwitchingSigmoid:
        """The single-pulse surrogate of the neuron with this design.

        **Arguments:** `thickness` [m] and `pulse_width` [s] (scalars), inside the calibrated
        ranges.

        **Returns:** a `SwitchingSigmoid` (i50 [A], log_width, pulse_width [s], barrier_kT),
        differentiable with respect to both inputs.
        """
        return SwitchingSigmoid(i50=self.i50(thickness, pulse_width),
                                log_width=self.log_width(thickness, pulse_width),
                                pulse_width=jnp.asarray(pulse_width, float),
                                barrier_kT=self.barrier(thickness))

    def probability(self, current, thickness, pulse_width) -> Float[Array, "..."]:
        """Probability that one write pulse fires a neuron at rest.

        **Arguments:**

        - `current`: write current(s) I [A], >= 0 (P = 0 at I = 0).
        - `thickness` [m], `pulse_width` [s]: inside the calibrated ranges.

        All three broadcast against each other.

        **Returns:** P(fire) in [0, 1].
        """
        current = jnp.asarray(check_range("current", current, low=0.0, low_inclusive=True,
                                          unit="A"))
        i50 = self.i50(thickness, pulse_width)
        width = self.log_width(thickness, pulse_width)
        positive = current > 0
        safe = jnp.where(positive, current, 1.0)
        p = jax.nn.sigmoid((jnp.log(safe) - jnp.log(i50)) / width)
        return jnp.where(positive, p, 0.0)

    def write_energy(self, current, pulse_width) -> Float[Array, "..."]:
        """Joule energy of one write pulse in the heavy metal, I^2 R_HM t_PW [J].

        Computed by `SOTMTJNeuron.write_energy` (trapezoid pulse with the same edges as the
        Monte Carlo; R_HM = 400 Ohm for 5a), exact rather than fitted; differentiable in
        both inputs.

        **Arguments:**

        - `current`: write current(s) [A], >= 0.
        - `pulse_width`: write pulse width [s], inside `pulse_width_range`.

        **Returns:** energy [J], the shape of `current`.
        """
        current = check_range("current", current, low=0.0, low_inclusive=True, unit="A")
        pulse_width = self._check_pulse_width(pulse_width)
        return _write_energy(jnp.asarray(current, float), jnp.asarray(pulse_width, float))

    # --- serialisation ----------------------------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-ready description (coefficients, monomials, ranges, errors)."""
        return {
            "format": FORMAT,
            "variables": "x = thickness / 1 nm, y = ln(pulse_width / 1 ns)",
            "ln_i50_uA": {"terms": [list(t) for t in self.i50_terms],
                          "coeffs": np.asarray(self.i50_coeffs, float).tolist()},
            "ln_log_width": {"terms": [list(t) for t in self.log_width_terms],
                             "coeffs": np.asarray(self.log_width_coeffs, float).tolist()},
            "thickness_range_m": list(self.thickness_range),
            "pulse_width_range_s": list(self.pulse_width_range),
            "rms_error": self.rms_error,
            "max_error": self.max_error,
            "temperature_K": self.temperature,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "SOTNeuronFamily":
        """Inverse of `to_dict` (also accepts a whole `FamilyCalibration` JSON document)."""
        d = d.get("family", d)
        if d.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} document (format = {d.get('format')!r})")
        return cls(
            i50_coeffs=jnp.asarray(d["ln_i50_uA"]["coeffs"], float),
            log_width_coeffs=jnp.asarray(d["ln_log_width"]["coeffs"], float),
            i50_terms=tuple(tuple(int(v) for v in t) for t in d["ln_i50_uA"]["terms"]),
            log_width_terms=tuple(tuple(int(v) for v in t)
                                  for t in d["ln_log_width"]["terms"]),
            thickness_range=tuple(float(v) for v in d["thickness_range_m"]),
            pulse_width_range=tuple(float(v) for v in d["pulse_width_range_s"]),
            rms_error=float(d["rms_error"]), max_error=float(d["max_error"]),
            temperature=float(d["temperature_K"]))

    def to_json(self, path) -> Path:
        """Write `to_dict()` to `path`. **Returns:** the path."""
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2))
        return path

    @classmethod
    def from_json(cls, path) -> "SOTNeuronFamily":
        """Read a family written by `to_json` or `FamilyCalibration.to_json`."""
        return cls.from_dict(json.loads(Path(path).read_text()))

    @classmethod
    def load_default(cls) -> "SOTNeuronFamily":
        """The family calibrated by `benchmarks/sot_neuron_family.py`, shipped with spinjax
        (`spinjax/devices/data/sot_neuron_family.json`)."""
        return cls.from_json(DEFAULT_PATH)


@dataclasses.dataclass(frozen=True)
class FamilyCalibration:
    """A fitted `SOTNeuronFamily` with the grid calibrations it was fitted to.

    - `family`: the `SOTNeuronFamily`;
    - `thickness`, `pulse_width`: the grid points [m], [s], flattened (P,);
    - `calibrations`: the per-point `SurrogateCalibration`s of `calibrate_neuron` (P,);
    - `ln_i50_err`, `ln_log_width_err`: Monte Carlo standard errors of ln i50 and
      ln log_width at each point (inverse Fisher information of the logistic fit, times
      sqrt(deviance / dof) where that exceeds 1) (P,);
    - `fit`: fit report: for each of `ln_i50` and `ln_log_width` the chosen monomials,
      chi^2, dof and the residuals (in units of the point's standard error and absolute),
      plus the chi^2 of every candidate order tried; and the binomial deviance of the family
      against all calibration counts.
    """

    family: SOTNeuronFamily
    thickness: np.ndarray
    pulse_width: np.ndarray
    calibrations: tuple[SurrogateCalibration, ...]
    ln_i50_err: np.ndarray
    ln_log_width_err: np.ndarray
    fit: dict

    def to_dict(self) -> dict:
        points = []
        for t, pw, cal, ei, ew in zip(self.thickness, self.pulse_width, self.calibrations,
                                      self.ln_i50_err, self.ln_log_width_err):
            sig = cal.surrogate
            points.append({
                "thickness_m": float(t), "pulse_width_s": float(pw),
                "barrier_kT": float(sig.barrier_kT),
                "i50_A": float(sig.i50), "ln_i50_err": float(ei),
                "log_width": float(sig.log_width), "ln_log_width_err": float(ew),
                "currents_A": np.asarray(cal.inputs, float).tolist(),
                "k": np.asarray(cal.k).astype(int).tolist(),
                "n": np.asarray(cal.n).astype(int).tolist(),
                "rms_error": cal.rms_error, "max_error": cal.max_error,
                "deviance": cal.deviance, "dof": cal.dof,
            })
        return {"family": self.family.to_dict(), "fit": self.fit, "points": points}

    def to_json(self, path) -> Path:
        """Write the family, fit report and grid data to `path`. **Returns:** the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1))
        return path

    @classmethod
    def from_json(cls, path) -> "FamilyCalibration":
        """Read a document written by `to_json`."""
        d = json.loads(Path(path).read_text())
        family = SOTNeuronFamily.from_dict(d)
        cals = []
        for p in d["points"]:
            sig = SwitchingSigmoid(i50=jnp.asarray(p["i50_A"]),
                                   log_width=jnp.asarray(p["log_width"]),
                                   pulse_width=jnp.asarray(p["pulse_width_s"]),
                                   barrier_kT=jnp.asarray(p["barrier_kT"]))
            cals.append(SurrogateCalibration(
                surrogate=sig, inputs=np.asarray(p["currents_A"], float),
                k=np.asarray(p["k"]), n=np.asarray(p["n"]), rms_error=float(p["rms_error"]),
                max_error=float(p["max_error"]), deviance=float(p["deviance"]),
                dof=int(p["dof"])))
        col = lambda name: np.asarray([p[name] for p in d["points"]], float)  # noqa: E731
        return cls(family=family, thickness=col("thickness_m"),
                   pulse_width=col("pulse_width_s"), calibrations=tuple(cals),
                   ln_i50_err=col("ln_i50_err"), ln_log_width_err=col("ln_log_width_err"),
                   fit=d["fit"])

    @classmethod
    def load_default(cls) -> "FamilyCalibration":
        """The calibration shipped with spinjax (see `SOTNeuronFamily.load_default`)."""
        return cls.from_json(DEFAULT_PATH)


def fit_polynomial(x, y, z, sigma, candidates=CANDIDATE_TERMS) -> dict:
    """Weighted least-squares fit of z(x, y) with the lowest adequate polynomial basis.

    Fits every basis of `candidates` (sequences of monomial exponents (i, j)); a basis is
    adequate when its chi^2 = sum((z - fit) / sigma)^2 is within 3 standard deviations of its
    expectation, chi^2 <= dof + 3 sqrt(2 dof), i.e. it fits the data within their
    statistical errors. Among the adequate bases the one of least Akaike criterion
    chi^2 + 2 (number of terms) is kept: the smallest adequate basis unless a larger one
    lowers chi^2 by more than 2 per extra term (fewest terms on ties). If none is adequate,
    the one of least chi^2 / dof is kept and `accepted` is False.

    **Arguments:** `x`, `y`, `z`, `sigma`: 1-D arrays of equal length (`sigma` > 0, the
    standard errors of `z`).

    **Returns:** dict with `terms`, `coeffs`, `chi2`, `dof`, `accepted`, `residuals` (z - fit),
    `pulls` (residuals / sigma) and `candidates` (terms, chi2, dof of every basis tried).
    """
    x, y, z, sigma = (np.asarray(a, float) for a in (x, y, z, sigma))
    if np.any(~(sigma > 0)):
        raise ValueError("sigma must be > 0 at every point")
    results = []
    for terms in candidates:
        terms = tuple(tuple(int(v) for v in t) for t in terms)
        dof = len(z) - len(terms)
        if dof < 1:
            continue
        a = _design(terms, x, y) / sigma[:, None]
        coeffs, *_ = np.linalg.lstsq(a, z / sigma, rcond=None)
        resid = z - _design(terms, x, y) @ coeffs
        chi2 = float(np.sum((resid / sigma) ** 2))
        results.append(dict(terms=terms, coeffs=coeffs, chi2=chi2, dof=dof,
                            accepted=bool(chi2 <= dof + 3 * math.sqrt(2 * dof)),
                            residuals=resid, pulls=resid / sigma))
    if not results:
        raise ValueError(f"{len(z)} points are too few for any candidate basis")
    accepted = [r for r in results if r["accepted"]]
    if accepted:
        best = min(accepted, key=lambda r: (r["chi2"] + 2 * len(r["terms"]), len(r["terms"])))
    else:
        best = min(results, key=lambda r: r["chi2"] / r["dof"])
    best = dict(best, candidates=[{"terms": [list(t) for t in r["terms"]], "chi2": r["chi2"],
                                   "dof": r["dof"], "accepted": r["accepted"]}
                                  for r in results])
    return best


def _binomial_deviance(p, k, n) -> float:
    p = np.clip(np.asarray(p, float), 1e-15, 1 - 1e-15)
    k, n = np.asarray(k, float), np.asarray(n, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(k > 0, k * np.log(k / (n * p)), 0.0) + np.where(
            n - k > 0, (n - k) * np.log((n - k) / (n * (1 - p))), 0.0)
    return float(2 * np.sum(terms))


def fit_family(thickness, pulse_width, calibrations, *, temperature: float = 300.0,
               i50_terms=None, log_width_terms=None, candidates=CANDIDATE_TERMS
               ) -> FamilyCalibration:
    """Fit a `SOTNeuronFamily` to per-point calibrations (see `calibrate_neuron_family`).

    **Arguments:**

    - `thickness`, `pulse_width`: the design of each calibration [m], [s] (P,).
    - `calibrations`: P `SurrogateCalibration`s from `calibrate_neuron`.
    - `i50_terms`, `log_width_terms`: fixed monomial bases; by default the lowest adequate
      basis of `candidates` is chosen for each (`fit_polynomial`).

    **Returns:** a `FamilyCalibration`.
    """
    thickness = np.asarray(thickness, float).ravel()
    pulse_width = np.asarray(pulse_width, float).ravel()
    calibrations = tuple(calibrations)
    if not len(thickness) == len(pulse_width) == len(calibrations):
        raise ValueError("thickness, pulse_width and calibrations must have equal lengths")
    x, y = thickness * 1e9, np.log(pulse_width * 1e9)
    ln_i50, ln_w, err_i50, err_w = [], [], [], []
    for cal in calibrations:
        # The same maximum-likelihood fit calibrate_neuron made, for its standard errors.
        f = fit_logistic(np.log(cal.inputs), cal.k, cal.n)
        ln_i50.append(f["x50"] - math.log(1e-6))
        ln_w.append(math.log(f["width"]))
        # Where the log-logistic misfits the curve (deviance > dof, seen at the thinnest
        # layers), the standard errors are scaled by sqrt(deviance / dof) (quasi-likelihood
        # dispersion), so the polynomial order is judged against honest errors.
        inflate = math.sqrt(max(1.0, f["deviance"] / max(f["dof"], 1)))
        err_i50.append(f["x50_err"] * inflate)
        err_w.append(f["width_err"] / f["width"] * inflate)
    ln_i50, ln_w, err_i50, err_w = map(np.asarray, (ln_i50, ln_w, err_i50, err_w))
    fits = {}
    for name, z, err, terms in (("ln_i50", ln_i50, err_i50, i50_terms),
                                ("ln_log_width", ln_w, err_w, log_width_terms)):
        fits[name] = fit_polynomial(x, y, z, err, candidates if terms is None else (terms,))
    family = SOTNeuronFamily(
        i50_coeffs=jnp.asarray(fits["ln_i50"]["coeffs"]),
        log_width_coeffs=jnp.asarray(fits["ln_log_width"]["coeffs"]),
        i50_terms=fits["ln_i50"]["terms"], log_width_terms=fits["ln_log_width"]["terms"],
        thickness_range=(float(thickness.min()), float(thickness.max())),
        pulse_width_range=(float(pulse_width.min()), float(pulse_width.max())),
        temperature=float(temperature))
    resid, dev, n_obs = [], 0.0, 0
    for t, pw, cal in zip(thickness, pulse_width, calibrations):
        p_fam = np.asarray(family.probability(cal.inputs, t, pw))
        resid.append(p_fam - cal.k / cal.n)
        dev += _binomial_deviance(p_fam, cal.k, cal.n)
        n_obs += len(cal.inputs)
    resid = np.concatenate(resid)
    family = dataclasses.replace(family, rms_error=float(np.sqrt(np.mean(resid**2))),
                                 max_error=float(np.max(np.abs(resid))))
    report = {
        name: {"terms": [list(t) for t in f["terms"]], "coeffs": f["coeffs"].tolist(),
               "chi2": f["chi2"], "dof": f["dof"], "accepted": f["accepted"],
               "pulls": f["pulls"].tolist(), "residuals": f["residuals"].tolist(),
               "rms_residual": float(np.sqrt(np.mean(f["residuals"] ** 2))),
               "max_abs_residual": float(np.max(np.abs(f["residuals"]))),
               "candidates": f["candidates"]}
        for name, f in fits.items()}
    report["probability"] = {
        "rms_error": family.rms_error, "max_error": family.max_error,
        "deviance_family": dev,
        "deviance_per_point_fits": float(sum(c.deviance for c in calibrations)),
        "n_observations": n_obs,
        "dof_family": n_obs - len(family.i50_terms) - len(family.log_width_terms)}
    return FamilyCalibration(family=family, thickness=thickness, pulse_width=pulse_width,
                             calibrations=calibrations, ln_i50_err=err_i50,
                             ln_log_width_err=err_w, fit=report)


def calibrate_neuron_family(key, thicknesses, pulse_widths, *, n_trials: int = 500,
                            pilot_trials: int = 64, temperature: float = 300.0,
                            i50_terms=None, log_width_terms=None, callback=None
                            ) -> FamilyCalibration:
    """Calibrate the neuron on the grid thicknesses x pulse_widths and fit the family.

    At each grid point `calibrate_neuron(SOTMTJNeuron(thickness, pulse_width, temperature),
    ...)` runs the sLLG Monte Carlo (pilot scan with `pilot_trials`, then 12 currents across
    the transition with `n_trials` each; the key of point p is `fold_in(key, p)`), then
    `fit_family` fits the polynomials.

    **Arguments:**

    - `key`: PRNG key.
    - `thicknesses`: free-layer thicknesses [m] (1-D, >= 2 distinct values).
    - `pulse_widths`: write pulse widths [s] (1-D, >= 2 distinct values).
    - `n_trials`, `pilot_trials`: Monte Carlo trials per current (see `calibrate_neuron`).
    - `temperature`: [K].
    - `i50_terms`, `log_width_terms`: fixed monomial bases (default: chosen by the data).
    - `callback`: called as `callback(thickness, pulse_width, calibration, seconds)` after
      each grid point (progress reports).

    **Returns:** a `FamilyCalibration` (`.family`, `.calibrations`, fit report).
    """
    thicknesses = np.asarray(thicknesses, float).ravel()
    pulse_widths = np.asarray(pulse_widths, float).ravel()
    if len(np.unique(thicknesses)) < 2 or len(np.unique(pulse_widths)) < 2:
        raise ValueError("need at least 2 distinct thicknesses and 2 distinct pulse widths")
    grid_t, grid_pw, cals = [], [], []
    for p, (t, pw) in enumerate((t, pw) for t in thicknesses for pw in pulse_widths):
        start = time.perf_counter()
        neuron = SOTMTJNeuron(thickness=t, pulse_width=pw, temperature=temperature)
        cal = calibrate_neuron(neuron, jax.random.fold_in(key, p), n_trials=n_trials,
                               pilot_trials=pilot_trials)
        grid_t.append(t)
        grid_pw.append(pw)
        cals.append(cal)
        if callback is not None:
            callback(t, pw, cal, time.perf_counter() - start)
    return fit_family(grid_t, grid_pw, cals, temperature=temperature, i50_terms=i50_terms,
                      log_width_terms=log_width_terms)
