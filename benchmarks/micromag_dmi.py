"""DMI standard problem (Cortés-Ortuño et al., New J. Phys. 20, 113015 (2018)) with spinjax.

The paper ("Proposal for a micromagnetic standard problem for materials with
Dzyaloshinskii–Moriya interaction") defines, for a Py-like material with interfacial (C_nv)
DMI, A = 13 pJ/m, D = 3 mJ/m^2, Ku = 0.4 MJ/m^3 (easy axis z), Ms = 0.86 MA/m, no demag:

1. 1D: a 100 nm wire along x, 1 nm cells, relaxed from m = +z. The DMI boundary condition
   dm/dx = (D / 2A) (z x n) x m tilts the ends; the continuum solution is
   tan(theta/2) = tan(theta_e/2) exp(-(L/2 - |x|) / Delta), Delta = sqrt(A/Ku),
   sin(theta_e) = D / (2 sqrt(A Ku)), i.e. m_z = 0.75320 at the ends.
2. 2D: a disk of 100 nm diameter, 2 nm thick, 2 nm x 2 nm x 2 nm cells, relaxed from m = +z
   for r < 25 nm and -z outside: a Néel skyrmion (core up, radial in-plane component m_r > 0
   in its wall for D > 0).

Reference numbers. The paper reports these results as profiles (its figures) computed with
OOMMF, MuMax3, Fidimag and a continuum ODE; the data files behind them are in the paper's
supplement repository, github.com/fangohr/paper-supplement-standard-problem-dmi,
notebooks/data/results_1d/result_1d_x-m{x,z}_interfacial_{oommf,mumax3,ODE}.txt and
notebooks/data/results_2d/result_2d_r-mz_interfacial_{oommf,mumax3,fidimag,ODE}.txt. The half
profiles nearest the edge / along the disk diameter are copied below; scalars (skyrmion radius
r(m_z = 0) by linear interpolation between cell centres, the same way for every code) are
derived from them here. The paper uses the same DMI sign convention as spinjax:
w = D [(m·grad) m_z - m_z div m] (MuMax3's input is Dind = -3 mJ/m^2 for it).

spinjax's free-surface treatment is the Rohart–Thiaville ghost cell (like MuMax3, unlike the
OOMMF/Fidimag runs, which drop the missing neighbours), so the 2D profile is expected closest
to MuMax3's. The 1D wire is one cell wide: its y faces are not edges of the problem
(`InterfacialDMI(edge_axes=(0,))`). The 3D FeGe cylinder of the paper uses bulk DMI, which
spinjax.micromag does not implement; it is not run.

Usage: python benchmarks/micromag_dmi.py [--fine] [--tol 1.0]
  --fine also relaxes the disk at 1 nm cells (convergence toward the continuum ODE; minutes).
Writes benchmarks/results/micromag_dmi_<backend>.json.
"""

import argparse
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from spinjax.micromag import (Exchange, InterfacialDMI, Mesh, Micromagnet,  # noqa: E402
                              UniaxialAnisotropy, disk_mask, relax)

A, D, KU, MS = 13e-12, 3e-3, 0.4e6, 0.86e6
ALPHA = 0.5  # irrelevant for relax (damping flow), required by Micromagnet

# --- reference data (paper supplement, see module docstring) ------------------------------------
# 1D, 1 nm cells: m_z and m_x at the 10 cell centres nearest the right end, x = 49.5, 48.5, ...
REF_1D_X_NM = 49.5 - np.arange(10)
REF_1D_MZ = {
    "OOMMF": [0.7897323, 0.8470659, 0.8897255, 0.9209940, 0.9436615, 0.9599623, 0.9716167,
              0.9799143, 0.9858042, 0.9899762],
    "MuMax3": [0.7897358, 0.8470689, 0.8897280, 0.9209961, 0.9436632, 0.9599637, 0.9716178,
               0.9799151, 0.9858049, 0.9899767],
}
REF_1D_MX_EDGE = {"OOMMF": 0.6134517}
REF_1D_MZ_END_ODE = 0.7531983  # continuum (ODE) m_z at x = L/2
# 2D, 2 nm cells: m_z along the diameter at r = 1, 3, ..., 49 nm (cell centres; the x < 0
# half of each published profile, mirrored; the two halves agree to ~1e-6).
REF_2D_R_NM = 1.0 + 2.0 * np.arange(25)
REF_2D_MZ = {
    "MuMax3": [0.9997414, 0.9986175, 0.9959007, 0.9904478, 0.9799398, 0.9598935, 0.9218955,
               0.8509408, 0.7231322, 0.5096008, 0.1987124, -0.1670265, -0.4978786, -0.7316520,
               -0.8693243, -0.9415898, -0.9768667, -0.9929494, -0.9991529, -0.9996174,
               -0.9953327, -0.9848024, -0.9635159, -0.9221593, -0.8436565],
    "OOMMF": [0.9997232, 0.9985199, 0.9956103, 0.9897668, 0.9784999, 0.9570007, 0.9162712,
              0.8403858, 0.7044483, 0.4798807, 0.1592681, -0.2076056, -0.5296862, -0.7517066,
              -0.8802811, -0.9470563, -0.9793972, -0.9939857, -0.9994190, -0.9994378,
              -0.9948114, -0.9839092, -0.9621242, -0.9200825, -0.8407198],
    "Fidimag": [0.9997230, 0.9985198, 0.9956102, 0.9897667, 0.9784999, 0.9570010, 0.9162721,
                0.8403879, 0.7044523, 0.4798877, 0.1592777, -0.2075954, -0.5296780, -0.7517014,
                -0.8802782, -0.9470548, -0.9793966, -0.9939855, -0.9994190, -0.9994378,
                -0.9948115, -0.9839093, -0.9621243, -0.9200826, -0.8407200],
}
# Continuum (ODE) solution: m_z = 0 at r = 22.030 nm (between the tabulated points
# (21.94389 nm, 0.0160043) and (22.04409 nm, -0.0025354)); m_z(50 nm) = -0.76052.
REF_2D_RADIUS_ODE_NM = 21.94389 + 0.10020 * 0.0160043 / (0.0160043 + 0.0025354)
REF_2D_MZ_EDGE_ODE = -0.7605242
# Fidimag's m_r on the ring r = r_sk (100 azimuths): between 0.983 and 1.000; 0.9872 at the
# azimuth nearest the +x axis (phi = 0.048 rad).
REF_2D_MR_AT_RADIUS = {"Fidimag": 0.9872}


def zero_crossing(r, mz):
    """First r where the sampled profile mz(r) changes sign, by linear interpolation."""
    r, mz = np.asarray(r, float), np.asarray(mz, float)
    i = int(np.argmax(mz < 0))
    if i == 0:
        raise ValueError("the profile has no sign change")
    return float(r[i - 1] + (r[i] - r[i - 1]) * mz[i - 1] / (mz[i - 1] - mz[i]))


# --- 1D -------------------------------------------------------------------------------------
def edge_profile(x, length=100e-9):
    """Continuum m_x, m_z of the right half of the 1D wire (semi-infinite edge solution)."""
    delta = np.sqrt(A / KU)
    theta_e = np.arcsin(D / (2 * np.sqrt(A * KU)))
    theta = 2 * np.arctan(np.tan(theta_e / 2) * np.exp(-(length / 2 - np.abs(x)) / delta))
    return np.sign(x) * np.sin(theta), np.cos(theta)


def problem_1d(cell=1e-9, length=100e-9, tol=1.0):
    n = int(round(length / cell))
    mesh = Mesh((n, 1, 1), (cell, cell, cell))
    system = Micromagnet(mesh, MS, A, ALPHA, fields=(
        Exchange(), UniaxialAnisotropy(KU), InterfacialDMI(D, edge_axes=(0,))))
    start = time.perf_counter()
    m, torque = relax(system, mesh.uniform((0.0, 0.0, 1.0)), tol=tol, t_max=1e-9,
                      return_torque=True)
    m = np.asarray(m)[:, :, 0, 0]
    seconds = time.perf_counter() - start
    x = (np.arange(n) + 0.5) * cell - length / 2
    mx_c, mz_c = edge_profile(x, length)
    # m_z at the end x = L/2 from a quadratic through the 4 outermost cell centres.
    mz_end = float(np.polyval(np.polyfit(x[-4:] - length / 2, m[2, -4:], 2), 0.0))
    out = dict(cells=n, cell_nm=cell * 1e9, relax_s=seconds, final_torque=float(torque),
               x_nm=(x * 1e9).tolist(), mx=m[0].tolist(), mz=m[2].tolist(),
               mz_edge_cell=float(m[2, -1]), mx_edge_cell=float(m[0, -1]),
               mz_end_extrapolated=mz_end,
               max_abs_dmz_vs_continuum=float(np.max(np.abs(m[2] - mz_c))),
               max_abs_dmx_vs_continuum=float(np.max(np.abs(m[0] - mx_c))),
               left_right_antisymmetry=float(np.max(np.abs(m[0] + m[0][::-1]))))
    if n == 100:
        for code, ref in REF_1D_MZ.items():
            out[f"max_abs_dmz_vs_{code}"] = float(np.max(np.abs(m[2, -10:][::-1] - ref)))
    return out


# --- 2D -------------------------------------------------------------------------------------
def disk_system(cell=2e-9, diameter=100e-9, thickness=2e-9, d=D):
    n = int(round(diameter / cell))
    shape, size = (n, n, 1), (cell, cell, thickness)
    mesh = Mesh(shape, size, mask=disk_mask(shape, size, diameter))
    return Micromagnet(mesh, MS, A, ALPHA,
                       fields=(Exchange(), UniaxialAnisotropy(KU), InterfacialDMI(d)))


def disk_initial_state(mesh, core_radius=25e-9):
    """m = +z for r < core_radius, -z elsewhere in the disk (the paper's initial state)."""
    x, y, _ = mesh.coordinates()
    cx, cy = mesh.size[0] / 2, mesh.size[1] / 2
    r = np.sqrt((x - cx) ** 2 + (y - cy) ** 2)
    mz = np.broadcast_to(np.where(r < core_radius, 1.0, -1.0), mesh.shape)
    return jnp.asarray(np.stack([np.zeros(mesh.shape), np.zeros(mesh.shape), mz]))


def radial_profile(mesh, m):
    """(r, m_z, m_r) along +x through the disk centre (average of the two central rows when
    the centre lies on a cell boundary), r > 0."""
    m = np.asarray(m)
    n = mesh.shape[1]
    rows = [n // 2 - 1, n // 2] if n % 2 == 0 else [n // 2]
    x = (np.arange(mesh.shape[0]) + 0.5) * mesh.cell[0] - mesh.size[0] / 2
    mz = m[2, :, rows, 0].mean(axis=0)
    mx = m[0, :, rows, 0].mean(axis=0)
    keep = x > 0
    return x[keep], mz[keep], mx[keep]


def skyrmion_metrics(mesh, m):
    """Radius r(m_z = 0) along the diameter, m_r there, and the chirality over the whole wall
    (cells with |m_z| < 0.5): mean and min of m_r, max |m_phi|."""
    r, mz, mx = radial_profile(mesh, m)
    radius = zero_crossing(r, mz)
    mr_at_radius = float(np.interp(radius, r, mx))  # m_r = m_x on the +x axis
    m = np.asarray(m)
    x, y, _ = mesh.coordinates()
    x = np.broadcast_to(x - mesh.size[0] / 2, mesh.shape)
    y = np.broadcast_to(y - mesh.size[1] / 2, mesh.shape)
    phi = np.arctan2(y, x)
    rr = np.hypot(x, y)
    wall = (np.abs(m[2]) < 0.5) & np.asarray(mesh.weights() > 0) & (rr < 40e-9)
    m_r = m[0] * np.cos(phi) + m[1] * np.sin(phi)
    m_phi = -m[0] * np.sin(phi) + m[1] * np.cos(phi)
    return dict(radius=radius, mr_at_radius=mr_at_radius, mr_wall_mean=float(m_r[wall].mean()),
                mr_wall_min=float(m_r[wall].min()),
                mphi_wall_max_abs=float(np.abs(m_phi[wall]).max()),
                wall_cells=int(wall.sum()))


def problem_2d(cell=2e-9, tol=1.0):
    system = disk_system(cell)
    mesh = system.mesh
    start = time.perf_counter()
    m, torque = relax(system, disk_initial_state(mesh), tol=tol, return_torque=True)
    m.block_until_ready()
    seconds = time.perf_counter() - start
    r, mz, mr = radial_profile(mesh, m)
    met = skyrmion_metrics(mesh, m)
    out = dict(cells=list(mesh.shape), cell_nm=cell * 1e9, relax_s=seconds,
               final_torque=float(torque), r_nm=(r * 1e9).tolist(), mz=mz.tolist(),
               radius_nm=met["radius"] * 1e9, mz_edge_cell=float(mz[-1]),
               energy_J=float(system.energy(0.0, m)), **{k: v for k, v in met.items()
                                                        if k != "radius"})
    if mesh.shape[0] == 50:
        for code, ref in REF_2D_MZ.items():
            out[f"max_abs_dmz_vs_{code}"] = float(np.max(np.abs(mz - np.asarray(ref))))
    return out


def reference_radii():
    """Skyrmion radius [nm] of each published 2 nm profile, and of the continuum ODE."""
    radii = {code: zero_crossing(REF_2D_R_NM, mz) for code, mz in REF_2D_MZ.items()}
    radii["ODE (continuum)"] = REF_2D_RADIUS_ODE_NM
    return radii


def dmi_table(fine=False, tol=1.0, verbose=True):
    """Run the 1D and 2D problems; return (rows, details).

    rows: dicts {problem, quantity, spinjax, reference, source, difference}; details: the raw
    per-problem results (profiles, timings)."""
    p1 = problem_1d(tol=tol)
    p2 = problem_2d(2e-9, tol=tol)
    details = {"1d": p1, "2d_2nm": p2}
    rows = []

    def add(problem, quantity, ours, ref, source):
        rows.append(dict(problem=problem, quantity=quantity, spinjax=ours, reference=ref,
                         source=source, difference=None if ref is None else ours - ref))

    w = "1D wire 100 nm, 1 nm cells"
    for code, ref in REF_1D_MZ.items():
        add(w, "m_z at edge cell (x = 49.5 nm)", p1["mz_edge_cell"], ref[0], code)
    add(w, "m_x at edge cell (x = 49.5 nm)", p1["mx_edge_cell"], REF_1D_MX_EDGE["OOMMF"],
        "OOMMF")
    for code in REF_1D_MZ:
        add(w, "max |m_z - ref| over 10 edge cells", p1[f"max_abs_dmz_vs_{code}"], 0.0, code)
    add(w, "m_z at the end (x = 50 nm, extrapolated)", p1["mz_end_extrapolated"],
        REF_1D_MZ_END_ODE, "analytic (Rohart-Thiaville)")
    add(w, "max |m_z - continuum| over all cells", p1["max_abs_dmz_vs_continuum"], 0.0,
        "analytic (Rohart-Thiaville)")
    d = "2D disk 100 nm, 2 nm cells"
    for code, radius in reference_radii().items():
        add(d, "skyrmion radius r(m_z = 0) [nm]", p2["radius_nm"], radius, code)
    for code in REF_2D_MZ:
        add(d, "max |m_z - ref| along the diameter", p2[f"max_abs_dmz_vs_{code}"], 0.0, code)
    add(d, "m_z at edge cell (r = 49 nm)", p2["mz_edge_cell"], REF_2D_MZ["MuMax3"][-1], "MuMax3")
    add(d, "m_z at edge cell (r = 49 nm)", p2["mz_edge_cell"], REF_2D_MZ["OOMMF"][-1], "OOMMF")
    add(d, "m_r at r_sk on the +x axis (Neel, outward)", p2["mr_at_radius"],
        REF_2D_MR_AT_RADIUS["Fidimag"], "Fidimag (ring at r_sk)")
    add(d, "min m_r over the wall (|m_z| < 0.5)", p2["mr_wall_min"], None, "> 0 for D > 0")
    add(d, "max |m_phi| in the wall", p2["mphi_wall_max_abs"], 0.0, "Neel: 0")
    add(d, "total energy [J]", p2["energy_J"], None, "(not published)")
    if fine:
        p3 = problem_2d(1e-9, tol=tol)
        details["2d_1nm"] = p3
        add("2D disk 100 nm, 1 nm cells", "skyrmion radius r(m_z = 0) [nm]", p3["radius_nm"],
            REF_2D_RADIUS_ODE_NM, "ODE (continuum)")
    if verbose:
        print_table(rows)
        print(f"relax: 1D {p1['relax_s']:.1f} s, 2D (2 nm) {p2['relax_s']:.1f} s"
              + (f", 2D (1 nm) {details['2d_1nm']['relax_s']:.1f} s" if fine else "")
              + " (first call, compile included)")
    return rows, details


def print_table(rows):
    print(f"{'problem':28s} {'quantity':42s} {'spinjax':>12s} {'reference':>12s} "
          f"{'diff':>10s}  source")
    for r in rows:
        ref = "" if r["reference"] is None else f"{r['reference']:12.6g}"
        diff = "" if r["difference"] is None else f"{r['difference']:10.3g}"
        print(f"{r['problem']:28s} {r['quantity']:42s} {r['spinjax']:12.6g} {ref:>12s} "
              f"{diff:>10s}  {r['source']}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fine", action="store_true", help="also the disk at 1 nm cells")
    parser.add_argument("--tol", type=float, default=1.0,
                        help="relaxation torque tolerance max|m x H| [A/m]")
    args = parser.parse_args()
    from _common import host_info, save

    rows, details = dmi_table(fine=args.fine, tol=args.tol)
    save(f"micromag_dmi_{jax.default_backend()}.json",
         dict(host=host_info(), material=dict(A=A, D=D, Ku=KU, Ms=MS), tol_A_per_m=args.tol,
              reference="Cortes-Ortuno et al., New J. Phys. 20, 113015 (2018); data: "
                        "github.com/fangohr/paper-supplement-standard-problem-dmi",
              rows=rows, details=details))


if __name__ == "__main__":
    main()
