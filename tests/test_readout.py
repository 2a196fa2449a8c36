"""MTJ read-out: resistance versus angle and bias, divider threshold, read energy."""

import jax.numpy as jnp
import pytest

from spinjax.readout import MagneticTunnelJunction, divider_read

P, AP, PERP = jnp.array([0.0, 1.0, 0.0]), jnp.array([0.0, -1.0, 0.0]), jnp.array([1.0, 0.0, 0.0])


def test_resistance_limits_and_bias_dependence():
    mtj = MagneticTunnelJunction()  # 1.21 MΩ / 2.5 MΩ (physics.md 5a)
    assert float(mtj.resistance(P)) == pytest.approx(1.21e6)
    assert float(mtj.resistance(AP)) == pytest.approx(2.5e6)
    # theta = 90°: conductance is the mean of G_P and G_AP.
    assert float(1 / mtj.resistance(PERP)) == pytest.approx(0.5 * (1 / 1.21e6 + 1 / 2.5e6))
    # TMR halves at V = v_half.
    r_ap = float(mtj.resistance(AP, bias=mtj.v_half))
    assert (r_ap - 1.21e6) / 1.21e6 == pytest.approx(0.5 * float(mtj.tmr))


def test_divider_fires_only_in_ap_and_energy_is_v2_over_r():
    mtj = MagneticTunnelJunction()
    v_p, fired_p, e_p = divider_read(mtj, P, v_supply=1.0, read_time=1e-9)
    v_ap, fired_ap, e_ap = divider_read(mtj, AP, v_supply=1.0, read_time=1e-9)
    assert not bool(fired_p) and bool(fired_ap) and float(v_ap) > float(v_p)
    assert float(e_p) == pytest.approx(1.0 / (1.21e6 + 2.5e6) * 1e-9)
    assert float(e_ap) > 0 and float(e_ap) < float(e_p)
    with pytest.raises(ValueError, match="v_supply = -1"):
        divider_read(mtj, P, v_supply=-1.0)
    with pytest.raises(ValueError, match="r_parallel = 0 Ohm"):
        MagneticTunnelJunction(r_parallel=0.0)
