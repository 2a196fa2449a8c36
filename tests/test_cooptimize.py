"""Co-optimisation of crossbar weights and device parameters (spinjax.networks.cooptimize).

Small shapes (a 64-12-10 MLP on sklearn's 8x8 digits) so that the file runs in well under a
minute; the Pareto fronts are in benchmarks/crossbar_cooptimization.py.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spinjax.circuits import CrossbarArray
from spinjax.networks import IRMENNeuron, StochasticMTJNeuron, digits, mlp
from spinjax.networks.cooptimize import (PARAMETER_RANGES, CoDesign, DeviceParameters,
                                         compare_fronts, cooptimize, evaluate_codesign,
                                         pareto_front)


@pytest.fixture(scope="module")
def data():
    return digits(test_fraction=0.25, seed=0)


@pytest.fixture(scope="module")
def mtj_model():
    net = mlp((64, 12, 10), key=jax.random.key(0), neuron=StochasticMTJNeuron.from_family(),
              crossbar=CrossbarArray(bits=4), input_shape=(8, 8), init_scale=3.0)
    return CoDesign.create(net, n_steps=4)


@pytest.fixture(scope="module")
def pretrained(mtj_model, data):
    """Weights trained at lambda = 0 on the default devices, and the energy reference."""
    e_ref = float(jnp.mean(mtj_model.energy_per_inference(data.x_train[:48])))
    model, _ = cooptimize(mtj_model, data.x_train, data.y_train, key=jax.random.key(1),
                          lam=0.0, energy_reference=e_ref, epochs=6, train_devices=False)
    return model, e_ref


def _fd_check(model, x, y, lam, e_ref, names):
    z0 = model.devices.z

    @jax.jit
    @jax.value_and_grad
    def loss(z):  # one compilation serves the gradient and the differences
        return eqx.tree_at(lambda m: m.devices.z, model, z).loss(x, y, lam, e_ref)[0]

    grad = loss(z0)[1]
    h = 1e-4
    for name in names:
        zp = dict(z0, **{name: z0[name] + h})
        zm = dict(z0, **{name: z0[name] - h})
        fd = (float(loss(zp)[0]) - float(loss(zm)[0])) / (2 * h)
        assert abs(fd) > 1e-8, name  # every device parameter matters
        np.testing.assert_allclose(float(grad[name]), fd, rtol=2e-3, atol=1e-9, err_msg=name)


def test_gradients_match_finite_differences(mtj_model, data):
    """d loss / d (thickness, pulse width, dV) of the SOT-MTJ net and d loss / d magnet
    length of an IRMEN net match central differences."""
    x, y = data.x_train[:48], data.y_train[:48]
    model = eqx.tree_at(lambda m: m.devices.z, mtj_model,
                        {k: v + 0.3 for k, v in mtj_model.devices.z.items()})  # off-default
    e_ref = float(jnp.mean(model.energy_per_inference(x)))
    _fd_check(model, x, y, 2.0, e_ref, ("thickness", "pulse_width", "read_voltage"))

    # IRMEN: the tabulated (bilinear) M-H moments are piecewise linear in (V / V_sat,
    # ln Delta); the length moves ln Delta only, 3e-5 per difference step against a 0.063 grid
    # spacing, so the central difference stays inside one cell.
    IRMENNeuron().mean(jnp.zeros(1))  # the moment table is built outside jit
    net = mlp((64, 6, 10), key=jax.random.key(2), neuron=IRMENNeuron(length=35e-9),
              input_shape=(8, 8), crossbar=CrossbarArray(bits=None), init_scale=3.0)
    irmen = CoDesign.create(net, parameters=("length",), length=35e-9)
    assert irmen.n_steps == 1 and irmen.devices.names() == ("length",)
    _fd_check(irmen, x, y, 2.0, 1e-14, ("length",))  # ~ its energy per inference [J]


def test_energy_terms_and_substitution(mtj_model, data):
    x = data.x_test[:48]
    terms = mtj_model.energy_terms(x)
    assert set(terms) == {"crossbar", "write", "read", "reset"}
    total = mtj_model.energy_per_inference(x)
    np.testing.assert_allclose(sum(terms.values()), total, rtol=1e-12)
    assert total.shape == (48,) and bool(jnp.all(total > 0))
    assert mtj_model.with_steps(8).n_steps == 8
    # the device leaves reach the network: dV on every array, t_PW as the read time
    net = mtj_model.network()
    for layer in net.layers:
        assert float(layer.crossbar.read_voltage) == pytest.approx(0.05, rel=1e-6)
        assert float(layer.crossbar.read_time) == pytest.approx(0.5e-9, rel=1e-6)
    assert float(net.layers[0].neuron.thickness) == pytest.approx(1.2e-9, rel=1e-6)
    # the expected crossbar energy of spike inputs: E(p) + sum p(1-p) A_ii equals the mean
    # over sampled spikes (Monte Carlo, 2000 samples)
    layer = net.layers[1]
    g = layer.conductances()
    p = jnp.linspace(0.05, 0.95, layer.n_in)
    from spinjax.networks.cooptimize import _energy_diagonal
    expected = layer.crossbar.energy(g, jnp.concatenate([p, jnp.ones(1)])) \
        + (p * (1 - p)) @ _energy_diagonal(layer.crossbar, g)
    s = (jax.random.uniform(jax.random.key(5), (2000, layer.n_in)) < p[None, :]).astype(float)
    mc = layer.crossbar.energy(g, jnp.concatenate([s, jnp.ones((2000, 1))], axis=1))
    assert abs(float(expected) - float(mc.mean())) < 4 * float(mc.std()) / np.sqrt(2000)


def test_parameters_stay_in_range(pretrained, data):
    model, e_ref = pretrained
    # an aggressive device learning rate and a large lambda push against the range ends
    out, hist = cooptimize(model, data.x_train[:256], data.y_train[:256],
                           key=jax.random.key(3), lam=50.0, energy_reference=e_ref, epochs=2,
                           device_learning_rate=3.0)
    for values in hist["devices"]:
        for name, v in values.items():
            lo, hi = out.devices.ranges[out.devices.names().index(name)][1:3]
            assert lo <= v <= hi, (name, v)
    # any unconstrained value maps inside the range
    far = eqx.tree_at(lambda d: d.z, out.devices, {k: jnp.asarray(s * 1e3) for k, s in
                                                   zip(out.devices.z, (1, -1, 1))})
    for (name, lo, hi, _), v in zip(far.ranges, far.values().values()):
        assert lo <= float(v) <= hi
    # range ends are accepted (stored just inside)
    d = DeviceParameters.create(read_voltage=0.1, length=17e-9)
    assert 0.0999 < float(d.value("read_voltage")) <= 0.1
    assert 17e-9 <= float(d.value("length")) < 17.02e-9


def test_energy_penalty_lowers_energy_at_equal_accuracy(pretrained, data):
    """A few co-optimisation steps with lambda > 0 lower the energy per inference (held-out
    images) while the relaxed test accuracy stays within 3 points (fixed seeds)."""
    model, e_ref = pretrained
    key = jax.random.key(6)  # the stochastic inference: T = 4 steps, every neuron sampled
    before = evaluate_codesign(model, data.x_test, data.y_test, key=key)
    out, hist = cooptimize(model, data.x_train, data.y_train, key=jax.random.key(4), lam=1.0,
                           energy_reference=e_ref, epochs=3)
    after = evaluate_codesign(out, data.x_test, data.y_test, key=key)
    print(before, after)
    assert before["accuracy"] > 0.75
    assert after["energy"] < 0.8 * before["energy"]
    assert after["accuracy"] > before["accuracy"] - 0.04
    assert after["devices"] != before["devices"]


def test_pareto_helpers():
    e = [1.0, 2.0, 3.0, 2.5, 0.5]
    a = [0.80, 0.90, 0.95, 0.85, 0.70]
    np.testing.assert_array_equal(pareto_front(e, a), [4, 0, 1, 2])
    cmp = compare_fronts([(2.0, 0.9)], [(1.0, 0.91), (3.0, 0.99)])
    assert cmp[0]["energy_ratio"] == 0.5 and cmp[0]["accuracy_gain"] == pytest.approx(0.01)
    assert compare_fronts([(0.1, 0.99)], [(1.0, 0.5)])[0] == {
        "energy": 0.1, "accuracy": 0.99, "energy_ratio": None, "accuracy_gain": None}


def test_bad_inputs_raise(mtj_model, data):
    x, y = data.x_train[:64], data.y_train[:64]
    with pytest.raises(ValueError, match=r"lam = -1 is outside the allowed range \[0, inf\)"):
        cooptimize(mtj_model, x, y, key=jax.random.key(0), lam=-1.0, energy_reference=1e-12)
    with pytest.raises(ValueError, match="energy_reference"):
        cooptimize(mtj_model, x, y, key=jax.random.key(0), lam=1.0, energy_reference=0.0)
    with pytest.raises(ValueError, match=r"thickness = 2e-09 m is outside the allowed range "
                                         r"\[8e-10, 1.5e-09\] m"):
        DeviceParameters.create(thickness=2e-9)
    with pytest.raises(ValueError, match=r"read_voltage = 0.5 V is outside the allowed range "
                                         r"\[0.01, 0.1\] V"):
        CoDesign.create(mtj_model.net, read_voltage=0.5)
    with pytest.raises(ValueError, match=r"pulse_width = 1e-10 s .*\[2e-10, 1e-09\] s"):
        CoDesign.create(mtj_model.net, pulse_width=0.1e-9)
    with pytest.raises(ValueError, match=r"length = 1e-07 m .*\[1.7e-08, 6e-08\] m"):
        DeviceParameters.create(length=100e-9)
    with pytest.raises(ValueError, match="unknown device parameter"):
        DeviceParameters.create(width=1e-9)
    with pytest.raises(ValueError, match="not among the co-optimised"):
        CoDesign.create(mtj_model.net, length=30e-9)
    with pytest.raises(ValueError, match="n_steps"):
        mtj_model.with_steps(0)
    with pytest.raises(ValueError, match="from_family"):
        CoDesign.create(mlp((64, 4, 10), key=jax.random.key(0), input_shape=(8, 8)))
    assert set(PARAMETER_RANGES) == {"thickness", "pulse_width", "read_voltage", "length"}
