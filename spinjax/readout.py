"""MTJ read-out (physics.md §4): angle- and bias-dependent resistance, divider, read energy."""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._checks import check_range
from ._vector import as_vec3


class MagneticTunnelJunction(eqx.Module):
    """Resistance of an MTJ whose free layer makes angle theta with its pinned layer.

        R(theta) = [cos^2(theta/2) / R_P + sin^2(theta/2) / R_AP(V)]^-1,
        R_AP(V) = R_P (1 + TMR(V)),  TMR(V) = TMR_0 / (1 + (V / V_h)^2).

    **Arguments:**

    - `r_parallel`, `r_antiparallel`: zero-bias resistances R_P < R_AP [Ohm] (5a: 1.21 MΩ and
      2.5 MΩ).
    - `v_half`: bias at which the TMR halves [V], > 0 (0.5 V is typical of MgO junctions).
    - `pinned`: unit direction of the pinned layer (5a: +y).
    """

    r_parallel: Float[Array, ""] = 1.21e6
    r_antiparallel: Float[Array, ""] = 2.5e6
    v_half: Float[Array, ""] = 0.5
    pinned: Float[Array, "3"] = (0.0, 1.0, 0.0)

    def __check_init__(self):
        check_range("r_parallel", self.r_parallel, low=0.0, unit="Ohm")
        check_range("r_antiparallel", self.r_antiparallel, low=0.0, unit="Ohm")
        check_range("v_half", self.v_half, low=0.0, unit="V")

    @property
    def tmr(self) -> Float[Array, ""]:
        """Zero-bias TMR = (R_AP - R_P) / R_P (dimensionless)."""
        return (self.r_antiparallel - self.r_parallel) / self.r_parallel

    def resistance(self, m, bias=0.0) -> Float[Array, "..."]:
        """R [Ohm] for unit magnetization `m` (array (..., 3)) at bias voltage `bias` [V]."""
        m = jnp.asarray(m)
        cos_theta = m @ jnp.asarray(as_vec3(self.pinned).normalized().to_array(), m.dtype)
        tmr = self.tmr / (1.0 + (bias / self.v_half) ** 2)
        r_ap = self.r_parallel * (1.0 + tmr)
        cos2 = 0.5 * (1.0 + cos_theta)  # cos^2(theta/2)
        return 1.0 / (cos2 / self.r_parallel + (1.0 - cos2) / r_ap)


def divider_read(neuron: MagneticTunnelJunction, m, v_supply=1.0, reference_resistance=None,
                 read_time=1e-9, threshold=None):
    """Read the neuron MTJ through a divider with a reference MTJ fixed in AP (physics.md §4).

    Supply -> reference -> node -> neuron -> ground: the node voltage
    V_node = V R / (R + R_ref) rises when the neuron goes P -> AP; the inverter fires when it
    crosses `threshold` [V] (default: midway between the zero-bias P and AP node voltages).

    **Returns:** `(v_node [V], fired (bool), energy [J])` with the read energy
    E = V^2 / (R + R_ref) * t_read. The bias across the neuron is its share of the supply
    (one fixed-point pass of the bias-dependent TMR).
    """
    check_range("v_supply", v_supply, low=0.0, high=10.0, unit="V")
    check_range("read_time", read_time, low=0.0, unit="s")
    r_ref = neuron.r_antiparallel if reference_resistance is None else reference_resistance
    r0 = neuron.resistance(m)
    r = neuron.resistance(m, v_supply * r0 / (r0 + r_ref))
    v_node = v_supply * r / (r + r_ref)
    if threshold is None:
        v_p = neuron.r_parallel / (neuron.r_parallel + r_ref)
        v_ap = neuron.r_antiparallel / (neuron.r_antiparallel + r_ref)
        threshold = 0.5 * (v_p + v_ap) * v_supply
    energy = v_supply**2 / (r + r_ref) * read_time
    return v_node, v_node > threshold, energy
