"""Field terms are minus the gradient of their energy; torques have the documented geometry."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spinjax as sj
from spinjax.constants import MU0

LAYER = sj.FreeLayer(sj.Material(Ms=8e5, alpha=0.02, anisotropy=3e5),
                     sj.EllipticCylinder(60e-9, 30e-9, 2e-9))
TERMS = [
    sj.UniaxialAnisotropy(K=4e5, axis=(0.3, -0.5, 0.8)),
    sj.UniaxialAnisotropy(axis=(0.0, 0.0, 1.0)),  # K from the material
    sj.ShapeAnisotropy(),
    sj.Zeeman(jnp.array([1e4, -2e4, 5e3]), sj.Pulse(1.0, 1e-9)),
]


@pytest.mark.parametrize("term", TERMS, ids=lambda t: type(t).__name__)
def test_field_is_minus_energy_gradient(term):
    m = jnp.array([0.36, 0.48, 0.8])
    t = 0.5e-9
    grad = jax.grad(lambda v: term.energy_density(sj.Vec3.from_array(v), t, LAYER))(m)
    field = term.field(sj.Vec3.from_array(m), t, LAYER).to_array()
    np.testing.assert_allclose(field, -grad / (MU0 * LAYER.Ms), rtol=1e-10)
    assert float(term.max_field(LAYER)) >= float(jnp.linalg.norm(field)) * (1 - 1e-12)


def test_sot_pulls_toward_polarization_and_has_documented_efficiency():
    system = sj.sot_mtj_neuron(current=100e-6, temperature=0.0)
    sot = system.torques[0]
    assert float(sot.efficiency(system.magnet)) == pytest.approx(0.3 * 40 / 2)
    assert float(sot.hm_resistance(system.magnet)) == pytest.approx(400.0)
    sigma = sot.polarization().to_array()
    np.testing.assert_allclose(sigma, [0.0, -1.0, 0.0])
    m = sj.Vec3.from_array(jnp.array([0.6, 0.0, 0.8]))
    torque = sot.torque(m, 0.0, system.magnet).to_array()
    # Damping-like torque moves m toward sigma: d(m·sigma)/dt > 0, and it is ⊥ m.
    assert float(jnp.dot(torque, sigma)) > 0
    assert float(jnp.dot(torque, m.to_array())) == pytest.approx(0.0, abs=1e-6 * float(jnp.linalg.norm(torque)))
