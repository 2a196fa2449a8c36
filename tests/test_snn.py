"""Spiking layer with STDP (spinjax.networks.snn): plasticity rule, synapse levels, inhibition,
homeostasis, unsupervised learning of two synthetic classes, bad input."""

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spinjax.circuits import kirchhoff_currents
from spinjax.networks import (STDP, BiasRamp, BinaryMTJSynapses, DWIFSpikingNeuron, Homeostasis,
                              LayerState, LIFSpikingNeuron, MTJSpikingNeuron,
                              MultiLevelSynapses, SpikingLayer, assign_labels, classify,
                              consolidate, respond, row_drive_targets, simulate_pairs,
                              train_stdp)


# --- STDP rule ---------------------------------------------------------------------------------
def _pair(stdp, dt, w0=0.5, t0=5, steps=40):
    """Final weight change of one synapse after one pre spike at t0 and one post at t0 + dt."""
    pre = np.zeros((steps, 1), bool)
    post = np.zeros((steps, 1), bool)
    pre[t0, 0] = True
    post[t0 + dt, 0] = True
    return float(simulate_pairs(stdp, pre, post, jnp.full((1, 1), w0))[0, 0]) - w0


@pytest.mark.parametrize("rule", ["multiplicative", "additive"])
def test_stdp_pair_curve(rule):
    stdp = STDP(eta_plus=0.03, eta_minus=0.01, tau_plus=4.5, tau_minus=5.0,
                weight_dependence=rule)
    w0 = 0.3
    dts = np.arange(1, 12)
    ltp = np.array([_pair(stdp, int(d), w0) for d in dts])
    ltd = np.array([_pair(stdp, -int(d), w0, t0=20) for d in dts])
    assert np.all(ltp > 0) and np.all(ltd < 0)
    # Exponential dependence with the configured time constants: log-slope -1/tau.
    assert np.polyfit(dts, np.log(ltp), 1)[0] == pytest.approx(-1 / 4.5, rel=1e-6)
    assert np.polyfit(dts, np.log(-ltd), 1)[0] == pytest.approx(-1 / 5.0, rel=1e-6)
    f_plus, f_minus = (1 - w0, w0) if rule == "multiplicative" else (1.0, 1.0)
    assert ltp[0] == pytest.approx(0.03 * np.exp(-1 / 4.5) * f_plus, rel=1e-9)
    assert ltd[0] == pytest.approx(-0.01 * np.exp(-1 / 5.0) * f_minus, rel=1e-9)
    # A simultaneous pair counts once, as potentiation.
    assert _pair(stdp, 0, w0) == pytest.approx(0.03 * f_plus, rel=1e-9)


def test_image_mode_sums_the_online_updates():
    """Additive rule, no clipping: the per-image accumulation equals the online sum."""
    stdp = STDP(eta_plus=0.001, eta_minus=0.001, weight_dependence="additive", offset=0.05)
    rng = np.random.default_rng(0)
    pre = rng.random((60, 5)) < 0.2
    post = rng.random((60, 3)) < 0.1
    w0 = jnp.full((5, 3), 0.5)
    online = simulate_pairs(stdp, pre, post, w0) - w0
    x, y = jnp.zeros(5), jnp.zeros(3)
    a_ltp, a_ltd = jnp.zeros((5, 3)), jnp.zeros((5, 3))
    for p, q in zip(pre, post):
        x, y_old = stdp.advance(x, y, p)
        a_ltp = a_ltp + x[:, None] * q[None, :]
        a_ltd = a_ltd + p[:, None] * y_old[None, :]
        y = jnp.where(q, 1.0, y_old)
    summed = stdp.accumulated(w0, a_ltp, jnp.sum(post, axis=0), a_ltd)
    np.testing.assert_allclose(summed, online, atol=1e-12)


@eqx.filter_jit
def _apply(syn, w, dw, seed):
    return syn.apply(w, dw, seed)


def test_synapses_stay_on_their_levels():
    shape = (200, 100)
    w = MultiLevelSynapses().init(jax.random.key(0), shape, 0.3)
    dw = 0.5 * jax.random.normal(jax.random.key(1), shape)
    for syn in (MultiLevelSynapses(rounding="nearest"), MultiLevelSynapses()):
        w1, energy = _apply(syn, w, dw, jnp.uint32(12345))
        k = np.asarray(w1) * 15
        assert np.all((k >= 0) & (k <= 15))
        np.testing.assert_allclose(k, np.round(k), atol=1e-9)
        assert float(energy) > 0
    g = MultiLevelSynapses().conductance(w1)
    assert float(g.min()) >= 1 / 3.7e6 * (1 - 1e-12) and float(g.max()) <= 20 / 3.7e6 * (1 + 1e-12)
    b = BinaryMTJSynapses()
    wb, energy = _apply(b, b.init(jax.random.key(0), shape, 0.5), dw, jnp.uint32(7))
    assert set(np.unique(np.asarray(wb))) <= {0.0, 1.0} and float(energy) > 0
    # Stochastic rounding is unbiased: a change of 0.3 levels moves ~30 % of the synapses.
    w_mid = jnp.full(shape, 7 / 15)
    w2, _ = _apply(MultiLevelSynapses(), w_mid, jnp.full(shape, 0.3 / 15), jnp.uint32(99))
    assert float(jnp.mean(w2 > w_mid + 1e-9)) == pytest.approx(0.3, abs=0.015)  # ~7 sigma
    # Binary synapses switch with the probability the STDP curve asks for.
    wb2, _ = _apply(BinaryMTJSynapses(p_scale=2.0), jnp.zeros(shape), jnp.full(shape, 0.1),
                    jnp.uint32(5))
    assert float(jnp.mean(wb2)) == pytest.approx(0.2, abs=0.02)


# --- lateral inhibition ------------------------------------------------------------------------
def _two_neuron_layer(tau_inh):
    """Input 0 drives neuron 0 hard (fires at step 0); input 1 drives neuron 1 to half the
    threshold per step, so it fires on the first step after inhibition lets it integrate."""
    syn = MultiLevelSynapses(bits=None)
    w = jnp.array([[1.0, 0.0], [0.0, 0.3]])
    g = syn.conductance(w)
    i = kirchhoff_currents(g, jnp.array([0.5, 0.5]), 1 / 400)
    i_unit = float(i[0]) / 1.5
    assert 0.5 < float(i[1]) / i_unit < 1.0
    neuron = LIFSpikingNeuron(tau_mem=jnp.inf, i_unit=i_unit, refractory=10_000)
    layer = SpikingLayer(neuron=neuron, synapses=syn, homeostasis=Homeostasis(theta_plus=0.0),
                         n_steps=40, max_rate=1.0, pulse_steps=1, inhibition_steps=tau_inh,
                         row_voltage=0.5)
    state = LayerState(w=w, theta=jnp.zeros(2), gain=jnp.ones((2, 2)))
    return layer, state


@eqx.filter_jit
def _present(layer, state, image, key, record=False):
    return layer.present(state, image, key, record=record)


@pytest.mark.parametrize("tau_inh", [0, 7])
def test_inhibition_lasts_exactly_tau_inh_steps(tau_inh):
    layer, state = _two_neuron_layer(tau_inh)
    _, rec = _present(layer, state, jnp.ones(2), jax.random.key(0), record=True)
    spikes = np.asarray(rec.spikes)
    assert np.flatnonzero(spikes[:, 0]).tolist() == [0]
    # Neuron 1 integrated half-way at step 0, is held for tau_inh steps, fires right after.
    assert np.flatnonzero(spikes[:, 1]).tolist() == [tau_inh + 1]


# --- homeostasis -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dominant_run():
    """One MTJ neuron driven hard by the same image 30 times, STDP off."""
    def run(theta_plus):
        layer = SpikingLayer(stdp=STDP(eta_plus=0.0, eta_minus=0.0),
                             homeostasis=Homeostasis(theta_plus=jnp.asarray(theta_plus),
                                                     tau_theta=1e6),
                             n_steps=100, row_voltage=0.6, w_init=1.0)
        state = layer.init(jax.random.key(0), 64, 2)
        image = jnp.ones(64)
        state, hist = train_stdp(layer, state, np.tile(image, (30, 1)), jax.random.key(1),
                                 chunk=30, progress=False)
        return np.asarray(hist.counts).sum(1), state
    return run


def test_homeostasis_lowers_the_rate_of_a_dominant_neuron(dominant_run):
    counts, state = dominant_run(0.5e-6)
    assert counts[:3].mean() > 20                       # dominates: fires most steps
    assert counts[-5:].mean() < 0.5 * counts[:3].mean()
    assert float(jnp.max(state.theta)) > 0
    flat, _ = dominant_run(0.0)
    assert flat[-5:].mean() > 0.8 * flat[:3].mean()     # without homeostasis: no decline


def test_learning_rate_schedule_scales_each_epoch():
    layer = SpikingLayer(n_steps=30, row_voltage=0.6, w_init=0.5,
                         stdp=STDP(eta_plus=0.1, eta_minus=0.03, offset=0.1))
    state = layer.init(jax.random.key(0), 64, 2)
    x = np.asarray(jax.random.uniform(jax.random.key(1), (6, 64)))
    key = jax.random.key(2)

    def train(epochs, scale=None):
        return train_stdp(layer, state, x, key, epochs=epochs, chunk=6, progress=False,
                          learning_rate_scale=scale)[0].w

    one, two = train(1), train(2)
    assert not np.array_equal(one, two)
    np.testing.assert_array_equal(train(2, (1.0, 1.0)), two)      # same keys per epoch
    np.testing.assert_array_equal(train(2, (1.0, 0.0)), one)      # epoch 2 frozen
    with pytest.raises(ValueError, match="one per epoch"):
        train(2, (1.0,))
    with pytest.raises(ValueError, match="learning_rate_scale"):
        train(2, (1.0, -0.5))
    with pytest.raises(ValueError, match="eta_plus"):
        train(2, (1.0, 20.0))


# --- learning two classes without labels -------------------------------------------------------
def _patterns(key, n, side=10):
    """Class 0: left half bright; class 1: right half; 10 % of pixels flipped."""
    labels = np.asarray(jax.random.bernoulli(key, 0.5, (n,))).astype(int)
    col = np.arange(side * side) % side
    base = np.stack([(col < side // 2), (col >= side // 2)]).astype(float)
    flip = np.asarray(jax.random.bernoulli(jax.random.fold_in(key, 1), 0.1, (n, side * side)))
    return np.abs(base[labels] - flip), labels


def test_two_classes_are_separated_without_labels():
    layer = SpikingLayer(n_steps=120, row_voltage=0.5, w_init=0.5, min_spikes=3,
                         homeostasis=Homeostasis(theta_plus=0.3e-6),
                         stdp=STDP(eta_plus=0.1, eta_minus=0.03, offset=0.1))
    state = layer.init(jax.random.key(0), 100, 4)
    x, y = _patterns(jax.random.key(1), 40)
    state, hist = train_stdp(layer, state, x, jax.random.key(2), chunk=40, progress=False)
    assert np.all(np.isfinite(hist.energy)) and float(hist.energy_program.sum()) > 0
    k = np.asarray(state.w) * 15
    np.testing.assert_allclose(k, np.round(k), atol=1e-6)          # 4-bit levels
    r_train = respond(layer, state, x, jax.random.key(3))
    labels = assign_labels(r_train.counts, y, 2)
    assert {0, 1} <= set(labels.tolist())                           # both classes got neurons
    x_test, y_test = _patterns(jax.random.key(4), 40)
    r = respond(layer, state, x_test, jax.random.key(5))
    acc = np.mean(classify(r.counts, labels, 2) == y_test)
    assert acc >= 0.9, acc


# --- engine mechanics --------------------------------------------------------------------------
def test_replicas_vmap_and_other_neurons():
    layer = SpikingLayer(n_steps=20, row_voltage=0.8, variation=0.1)
    states = jax.vmap(lambda k: layer.init(k, 16, 3))(jax.random.split(jax.random.key(0), 2))
    x = np.linspace(0, 1, 16)[None].repeat(3, 0)
    both = respond(layer, states, x, jax.random.key(1))
    assert both.counts.shape == (2, 3, 3)
    one_state = jax.tree_util.tree_map(lambda a: a[1], states)
    one = respond(layer, one_state, x, jax.random.key(1))
    np.testing.assert_array_equal(both.counts[1], one.counts)
    # A blank image costs the neuron reads only: no spikes, no current, no synapse heat.
    blank = respond(layer, one_state, np.zeros_like(x), jax.random.key(2))
    assert int(blank.counts.sum()) == 0 and float(blank.energy_read.sum()) == 0.0
    e_read = float(layer.neuron.device.read_energy())
    np.testing.assert_allclose(blank.energy_neuron, 20 * 3 * e_read, rtol=1e-9)


@pytest.mark.parametrize("neuron", [DWIFSpikingNeuron(), LIFSpikingNeuron(i_unit=100e-6)],
                         ids=["dw-if", "lif"])
def test_other_neurons_spike_in_the_layer(neuron):
    layer = SpikingLayer(neuron=neuron, n_steps=30, row_voltage=1.0, w_init=1.0)
    state = layer.init(jax.random.key(0), 64, 3)
    rec = respond(layer, state, np.ones((2, 64)), jax.random.key(1))
    assert rec.counts.sum() > 0 and np.all(np.isfinite(rec.energy))


# --- inference operating point ------------------------------------------------------------------
def test_bias_ramp_steps_down_then_holds():
    ramp = BiasRamp(start=10e-6, rate=2e-6, burst=3e-6)
    b, searching = ramp.initial(jnp.float64)
    trace = []
    for spiked in [False, False, True, False, True]:
        b, searching = ramp.advance(b, searching, jnp.asarray(spiked))
        trace.append((float(b) * 1e6, bool(searching)))
    # 2 µA lower per step until the first spike, then 3 µA lower (burst) and held
    np.testing.assert_allclose([t[0] for t in trace], [8, 6, 3, 3, 3], atol=1e-9)
    assert [t[1] for t in trace] == [True, True, False, False, False]


def _fixed_layer_state(layer, n_in, theta):
    n_out = len(theta)
    return LayerState(w=jnp.ones((n_in, n_out)), theta=jnp.asarray(theta),
                      gain=jnp.ones((n_in, n_out)))


def test_bias_ramp_silences_until_it_reaches_the_column_current():
    """max_rate = 1: every row is on from step 0, so the column current I is constant; the
    neuron sees I - b(t) and P(I <= 0) = 0 exactly, so no spike can come before step
    (start - I) / rate; the ramp then finds every image (none silent)."""
    n_in, steps_silent, rate = 16, 25, 2e-6
    layer = SpikingLayer(n_steps=80, max_rate=1.0, row_voltage=0.3)
    state = _fixed_layer_state(layer, n_in, [0.0, 0.0])
    g = layer.conductance(state)
    i_col = float(kirchhoff_currents(g, jnp.full(n_in, 0.3), layer.neuron_conductance)[0])
    ramped = dataclasses.replace(layer, bias_ramp=BiasRamp(start=i_col + steps_silent * rate,
                                                            rate=rate))
    rec = ramped.present(state, jnp.ones(n_in), jax.random.key(0), record=True)[1]
    first = int(np.argmax(np.asarray(rec.spikes).any(1)))
    assert np.asarray(rec.spikes).any() and first > steps_silent
    r = respond(ramped, state, np.ones((20, n_in)), jax.random.key(1))
    assert np.all(r.counts.sum(1) > 0)


def test_inference_scale_of_learned_offsets():
    """Two identical neurons, the second with a large learned offset: silent at test time
    with the full offset (scale 1), back in the competition with scale 0."""
    hom = Homeostasis(theta_rest=10e-6)
    # 16 rows at 1 V on G_max = 5.4 µS: ~83 µA per column, P(83 - 10 µA) ~ 0.8 per step.
    layer = SpikingLayer(n_steps=60, max_rate=1.0, row_voltage=1.0, homeostasis=hom)
    state = _fixed_layer_state(layer, 16, [10e-6, 500e-6])
    for scale, second_fires in [(1.0, False), (0.0, True)]:
        lay = dataclasses.replace(layer, homeostasis=dataclasses.replace(
            hom, inference_scale=scale))
        counts = respond(lay, state, np.ones((30, 16)), jax.random.key(2)).counts
        assert counts[:, 0].sum() > 0 and (counts[:, 1].sum() > 0) == second_fires


def test_presentations_add_up():
    layer = SpikingLayer(n_steps=60, max_rate=1.0, row_voltage=1.0)
    state = _fixed_layer_state(layer, 16, [10e-6, 10e-6])
    x, key = np.ones((4, 16)), jax.random.key(3)
    three = respond(layer, state, x, key, presentations=3)
    parts = [respond(layer, state, x, k) for k in
             (key, jax.random.fold_in(key, 2**30 + 1), jax.random.fold_in(key, 2**30 + 2))]
    assert parts[0].counts.sum() > 0
    np.testing.assert_array_equal(three.counts, sum(p.counts for p in parts))
    np.testing.assert_allclose(three.energy, sum(p.energy for p in parts), rtol=1e-12)
    np.testing.assert_array_equal(three.max_p, np.max([p.max_p for p in parts], axis=0))


# --- nearest-prototype readout and consolidation ------------------------------------------------
def _prototype_pair(**kw):
    """Neuron 0 holds the prototype w = 1 on 16 rows, neuron 1 w = 0.5; rows at 1 V (max_rate
    1: always on); a bias ramp from 0 adds a common current until the first spike."""
    layer = SpikingLayer(n_steps=60, max_rate=1.0, row_voltage=1.0,
                         bias_ramp=BiasRamp(start=0.0, rate=2e-6), **kw)
    w = jnp.stack([jnp.ones(16), jnp.full(16, 0.5)], axis=1)
    return layer, LayerState(w=w, theta=jnp.zeros(2), gain=jnp.ones((16, 2)))


def test_prototype_bias_turns_the_readout_nearest_prototype():
    """Column currents favour the larger prototype (86 vs 45 µA). With prototype_bias = 2 V
    the prototypes are c = 2 w V: the image (1 V on every row) is nearest to c_1 = 1 V, and the
    offsets 2 V x (G_max - G_min) x sum w^2 / 2 (82 vs 21 µA) hand it to neuron 1."""
    layer, state = _prototype_pair()
    biased = dataclasses.replace(layer, prototype_bias=2.0)
    dg = layer.synapses.g_max - layer.synapses.g_min
    np.testing.assert_allclose(biased.inference_offsets(state),
                               [2.0 * dg * 16 / 2, 2.0 * dg * 4 / 2], rtol=1e-6)
    x, key = np.ones((8, 16)), jax.random.key(4)
    plain = respond(layer, state, x, key).counts.sum(0)
    near = respond(biased, state, x, key).counts.sum(0)
    assert plain[0] > 5 * plain[1] and near[1] > 5 * near[0]
    zero = respond(dataclasses.replace(layer, prototype_bias=0.0), state, x, key).counts
    np.testing.assert_array_equal(zero.sum(0), plain)


@pytest.mark.parametrize("bits", [None, 4])
def test_consolidate_programs_each_winner_to_its_images_mean(bits):
    """Two neurons tuned to the two halves of 16 inputs; ten images of each half. Each neuron
    wins its half and ends on the mean of its images' row-drive targets: exactly with analog
    synapses; on the 4-bit levels and within one level on average with stochastic rounding
    (unbiased; the column average's rounding noise is ~0.4 level for 8 rows)."""
    rng = np.random.default_rng(0)
    half = np.repeat(np.eye(2), 8, axis=1)                               # (2, 16)
    x = np.concatenate([half[0] * rng.uniform(0.3, 1.0, (10, 16)),
                        half[1] * rng.uniform(0.3, 1.0, (10, 16))])
    layer = SpikingLayer(n_steps=60, max_rate=0.2, pulse_steps=5, row_voltage=1.0,
                         column_mean=0.3, synapses=MultiLevelSynapses(bits=bits),
                         bias_ramp=BiasRamp(start=0.0, rate=2e-6))
    w = jnp.asarray(0.6 * half.T + 0.05)
    state = LayerState(w=w, theta=jnp.zeros(2), gain=jnp.ones((16, 2)))
    new, winners, energy = consolidate(layer, state, x, jax.random.key(5))
    np.testing.assert_array_equal(winners, np.repeat([0, 1], 10))
    targets = np.asarray(row_drive_targets(layer, x))
    means = np.stack([targets[:10].mean(0), targets[10:].mean(0)], axis=1)
    if bits is None:
        np.testing.assert_allclose(new.w, means, atol=1e-5)
    else:
        levels = np.asarray(new.w) * 15
        np.testing.assert_allclose(levels, np.round(levels), atol=1e-5)
        err = (np.asarray(new.w) - means)[half.T.astype(bool)].reshape(2, 8).mean(1)
        assert np.all(np.abs(err) < 1 / 15)
    assert energy > 0 and np.array_equal(new.theta, state.theta)


# --- bad input ---------------------------------------------------------------------------------
def test_bad_input_raises():
    layer = SpikingLayer(n_steps=10)
    state = layer.init(jax.random.key(0), 16, 2)
    with pytest.raises(ValueError, match="images has shape"):
        respond(layer, state, np.zeros((3, 15)), jax.random.key(0))
    with pytest.raises(ValueError, match="presentations"):
        respond(layer, state, np.zeros((3, 16)), jax.random.key(0), presentations=0)
    with pytest.raises(ValueError, match=r"images .*allowed range \[0, 1\]"):
        respond(layer, state, np.full((3, 16), 1.5), jax.random.key(0))
    with pytest.raises(ValueError, match=r"max_rate .*\[0, 1\]"):
        SpikingLayer(max_rate=1.2)
    with pytest.raises(ValueError, match="p_max"):
        BinaryMTJSynapses(p_max=1.5)
    with pytest.raises(ValueError, match="tau_plus"):
        STDP(tau_plus=-1.0)
    with pytest.raises(ValueError, match="tau_minus"):
        STDP(tau_minus=0.0)
    with pytest.raises(ValueError, match="tau_theta"):
        Homeostasis(tau_theta=-5.0)
    with pytest.raises(ValueError, match="tau_mem"):
        LIFSpikingNeuron(tau_mem=-2.0)
    with pytest.raises(ValueError, match="inhibition_steps"):
        SpikingLayer(inhibition_steps=-1)
    with pytest.raises(ValueError, match="refractory"):
        MTJSpikingNeuron(refractory=-1)
    with pytest.raises(ValueError, match="weight_dependence"):
        STDP(weight_dependence="cubic")
    with pytest.raises(ValueError, match="prototype_bias"):
        SpikingLayer(prototype_bias=-0.1)
    with pytest.raises(ValueError, match="replica"):
        consolidate(layer, jax.vmap(layer.init, (0, None, None))(
            jax.random.split(jax.random.key(0), 2), 16, 2), np.zeros((3, 16)),
            jax.random.key(0))
    with pytest.raises(ValueError, match=r"inference_scale .*\[0, 1\]"):
        Homeostasis(inference_scale=1.5)
    with pytest.raises(ValueError, match="rate"):
        BiasRamp(rate=-1e-6)
    with pytest.raises(ValueError, match="burst"):
        BiasRamp(burst=-1e-6)
