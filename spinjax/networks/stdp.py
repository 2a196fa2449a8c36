"""Spike-timing-dependent plasticity and the synapses it programs (physics.md 7).

Pair-based STDP with traces: every input i keeps a pre-synaptic trace x_i and every neuron j
a post-synaptic trace y_j; a spike sets its trace to 1 (nearest-spike pairing) and traces decay
as exp(-1/tau) per time step. At a post spike, w_ij gains eta_+ (x_i - offset) f_+(w_ij); at a
pre spike it loses eta_- y_j f_-(w_ij). For one isolated pair this is the curve

    dw = +eta_+ exp(-dt/tau_+) f_+(w)   for dt = t_post - t_pre >= 0,
    dw = -eta_- exp(+dt/tau_-) f_-(w)   for dt < 0,

with f = 1 (additive) or the soft bounds f_+ = 1 - w, f_- = w (multiplicative, weight
dependent). Weights are normalised, w in [0, 1] <-> G = G_min + w (G_max - G_min).

Synapses turn a requested change dw into a device change:

- `MultiLevelSynapses`: 2**bits equally spaced conductances (physics.md 6: 4 bits, ratio 20),
  programmed in whole levels, with nearest or stochastic rounding of the requested change;
- `BinaryMTJSynapses`: single-bit SOT-MTJ synapses; the STDP curve value sets the probability
  that one programming pulse switches the junction (probabilistic STDP).

Each returns the programming energy it spent. Bulk random numbers (one per synapse per time
step) come from a counter-based hash seeded from `jax.random` keys: threefry on a 784 x 225
matrix every step costs ~0.8 s per image on CPU, the hash ~10 ms.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._checks import check_range
from ..surrogates import SwitchingSigmoid

_WEIGHT_RULES = ("additive", "multiplicative")


def hash_uniform(seed, shape) -> Float[Array, "..."]:
    """Uniform numbers in [0, 1) (float32 resolution 2^-24) from a uint32 `seed` and the
    element index: the murmur3 finaliser of (index * golden ratio) ^ seed.

    A counter-based generator for the per-step Bernoulli draws of large arrays; draw `seed`
    from `jax.random.bits` so that the randomness still comes from explicit keys.
    """
    n = 1
    for s in shape:
        n *= s
    h = jnp.arange(n, dtype=jnp.uint32).reshape(shape) * jnp.uint32(0x9E3779B1)
    h = h ^ jnp.asarray(seed, jnp.uint32)
    h = h ^ (h >> 16)
    h = h * jnp.uint32(0x85EBCA6B)
    h = h ^ (h >> 13)
    h = h * jnp.uint32(0xC2B2AE35)
    h = h ^ (h >> 16)
    return (h >> 8).astype(jnp.float32) * jnp.float32(1.0 / 16777216.0)


class STDP(eqx.Module):
    """Pair-based STDP with exponential traces (physics.md 7, Table II defaults).

    **Arguments:**

    - `eta_plus`, `eta_minus`: learning rates (dimensionless, fraction of the full weight
      range), >= 0 (Table II: 0.03, 0.01).
    - `tau_plus`, `tau_minus`: trace time constants [time steps], > 0 (Table II: 4.5, 5).
    - `weight_dependence`: `"multiplicative"` (soft bounds f_+ = 1 - w, f_- = w) or
      `"additive"` (f = 1; the synapse clips at the range ends). Static.
    - `offset`: subtracted from the pre trace at a post spike (Diehl & Cook's x_tar), in
      [0, 1]; > 0 depresses inputs that were silent before the post spike. 0 = the pure pair
      rule.
    """

    eta_plus: Float[Array, ""] = 0.03
    eta_minus: Float[Array, ""] = 0.01
    tau_plus: Float[Array, ""] = 4.5
    tau_minus: Float[Array, ""] = 5.0
    weight_dependence: str = eqx.field(static=True, default="multiplicative")
    offset: Float[Array, ""] = 0.0

    def __check_init__(self):
        check_range("eta_plus", self.eta_plus, low=0.0, low_inclusive=True, high=1.0,
                    high_inclusive=True)
        check_range("eta_minus", self.eta_minus, low=0.0, low_inclusive=True, high=1.0,
                    high_inclusive=True)
        check_range("tau_plus", self.tau_plus, low=0.0, unit="steps")
        check_range("tau_minus", self.tau_minus, low=0.0, unit="steps")
        check_range("offset", self.offset, low=0.0, low_inclusive=True, high=1.0,
                    high_inclusive=True)
        if self.weight_dependence not in _WEIGHT_RULES:
            raise ValueError(f"weight_dependence = {self.weight_dependence!r}; allowed: "
                             f"{', '.join(map(repr, _WEIGHT_RULES))}")

    def _f(self, w):
        if self.weight_dependence == "additive":
            return jnp.ones_like(w), jnp.ones_like(w)
        return 1.0 - w, w

    def curve(self, dt, w=0.5) -> Float[Array, "..."]:
        """Weight change of one isolated pre/post pair, dt = t_post - t_pre [time steps]
        (integers for the clock-driven engine; dt = 0 counts as pre before post)."""
        dt = jnp.asarray(dt, float)
        f_plus, f_minus = self._f(jnp.asarray(w, float))
        return jnp.where(dt >= 0, self.eta_plus * jnp.exp(-dt / self.tau_plus) * f_plus,
                         -self.eta_minus * jnp.exp(dt / self.tau_minus) * f_minus)

    def decay(self):
        """Per-step trace decay factors (pre, post), exp(-1/tau)."""
        return jnp.exp(-1.0 / self.tau_plus), jnp.exp(-1.0 / self.tau_minus)

    def advance(self, x_pre, y_post, pre, floor: float = 0.0):
        """Traces at a new time step: decay both, set the pre traces of this step's pre
        spikes to 1. **Returns:** `(x_pre, y_old)`; y_old (post traces before this step's post
        spikes) is what depression uses; set y_post = where(post, 1, y_old) after the step.
        Traces below `floor` become 0."""
        d_pre, d_post = self.decay()
        x = x_pre * d_pre
        y = y_post * d_post
        if floor > 0:
            x = jnp.where(x < floor, 0.0, x)
            y = jnp.where(y < floor, 0.0, y)
        return jnp.where(pre, 1.0, x), y

    def potentiation(self, w, x_pre) -> Float[Array, "n_in k"]:
        """Change of the columns `w` (n_in, k) of neurons that just spiked, given the pre
        traces `x_pre` (n_in,) (this step's pre spikes included)."""
        f_plus, f_minus = self._f(w)
        ltp = self.eta_plus * (x_pre - self.offset)[:, None] * jnp.ones_like(w)
        return jnp.where(ltp >= 0, ltp * f_plus, ltp * f_minus)

    def depression(self, w, y_post) -> Float[Array, "k n_out"]:
        """Change of the rows `w` (k, n_out) of inputs that just spiked, given the post
        traces `y_post` (n_out,) from before this step's post spikes."""
        return -self.eta_minus * y_post[None, :] * self._f(w)[1]

    def accumulated(self, w, a_ltp, n_post, a_ltd) -> Float[Array, "n_in n_out"]:
        """Summed change of a presentation at fixed `w`: `a_ltp` = sum_t x_pre(t) post(t)
        (n_in, n_out), `n_post` (n_out,) post spike counts (for the offset), `a_ltd` =
        sum_t pre(t) y_post(t) (n_in, n_out)."""
        f_plus, f_minus = self._f(w)
        ltp = self.eta_plus * (a_ltp - self.offset * n_post[None, :])
        return jnp.where(ltp >= 0, ltp * f_plus, ltp * f_minus) - self.eta_minus * a_ltd * f_minus

    def update(self, w, x_pre, y_post, pre, post) -> Float[Array, "n_in n_out"]:
        """Requested weight change of one time step.

        **Arguments:** `w` (n_in, n_out) in [0, 1]; `x_pre` (n_in,) pre traces already
        holding this step's pre spikes; `y_post` (n_out,) post traces *before* this step's
        post spikes (so a simultaneous pair counts once, as potentiation); `pre` (n_in,),
        `post` (n_out,) spikes (bool).
        """
        f_plus, f_minus = self._f(w)
        ltp = self.eta_plus * (x_pre - self.offset)[:, None] * post.astype(w.dtype)[None, :]
        ltd = self.eta_minus * pre.astype(w.dtype)[:, None] * y_post[None, :]
        # Soft bounds scale potentiation and depression; the offset's depression of silent
        # inputs is scaled like depression.
        return jnp.where(ltp >= 0, ltp * f_plus, ltp * f_minus) - ltd * f_minus


def simulate_pairs(stdp: STDP, pre, post, w0) -> Float[Array, "n_in n_out"]:
    """Run the online rule on given spike trains with analog weights (no device): the
    engine's order of operations (`SpikingLayer` with `plasticity="online"`), weights
    clipped to [0, 1].

    **Arguments:** `pre` (T, n_in) and `post` (T, n_out) bool spike trains; `w0` (n_in,
    n_out) initial weights. **Returns:** the final weights.
    """
    pre = jnp.asarray(pre, bool)
    post = jnp.asarray(post, bool)
    w0 = jnp.asarray(w0, float)

    def step(c, xs):
        w, x, y = c
        p, q = xs
        x, y_old = stdp.advance(x, y, p)
        w = jnp.clip(w + stdp.update(w, x, y_old, p, q), 0.0, 1.0)
        return (w, x, jnp.where(q, 1.0, y_old)), None

    init = (w0, jnp.zeros(pre.shape[1]), jnp.zeros(post.shape[1]))
    return jax.lax.scan(step, init, (pre, post))[0][0]


class AbstractSynapses(eqx.Module):
    """Interface of a synapse array programmed by STDP (weights w in [0, 1]).

    - `conductance(w)` -> G [S]; `init(key, shape, high)` -> initial weights on the device's
      states; `apply(w, dw, seed)` -> (new weights, programming energy [J]).
    """

    g_min: eqx.AbstractVar[Float[Array, ""]]
    g_max: eqx.AbstractVar[Float[Array, ""]]

    def conductance(self, w) -> Float[Array, "..."]:
        """Conductance G = G_min + w (G_max - G_min) [S] of normalised weights w."""
        return self.g_min + w * (self.g_max - self.g_min)

    def init(self, key, shape, high) -> Float[Array, "..."]:
        raise NotImplementedError

    def apply(self, w, dw, seed):
        raise NotImplementedError

    def normalize(self, w, target_mean, seed):
        """Program every column of `w` (n_in, n_out) towards the mean `target_mean` by
        scaling it (weight normalisation). **Returns:** (w_new, energy [J])."""
        mean = jnp.maximum(jnp.mean(w, axis=0), 1e-6)
        target = jnp.clip(w * (target_mean / mean)[None, :], 0.0, 1.0)
        return self.apply(w, target - w, seed)


def _check_conductances(g_min, g_max):
    check_range("g_min", g_min, low=0.0, unit="S")
    check_range("g_max", g_max, low=0.0, unit="S")
    if float(g_max) <= float(g_min):
        raise ValueError(f"g_max = {float(g_max):g} S must exceed g_min = {float(g_min):g} S")


def dw_level_energy(bits: int = 4, width=1e-9, synapse=None) -> Float[Array, ""]:
    """Energy [J] of the programming pulse that moves a domain-wall synapse (physics.md 5c,
    `spinjax.devices.DWSynapse`) by one of 2**bits - 1 levels in `width` [s]: the wall moves
    dx = mobility j t (linear SOT law, far below saturation), so I = dx w t_Pt / (mobility
    t) and E = I^2 R_HM t."""
    from ..devices import DWSynapse   # local: the device library is heavy to import

    syn = DWSynapse() if synapse is None else synapse
    dx = syn.length / (2**bits - 1)
    current = dx * syn.width * syn.hm_thickness / (syn.mobility() * width)
    return syn.programming_energy(current, width)


class MultiLevelSynapses(AbstractSynapses):
    """Deterministic multi-level synapses: 2**bits equally spaced conductances
    (physics.md 6: 4 bits, R_max = 3.7 MΩ, R_max / R_min = 20; e.g. the domain-wall synapse
    of 5c with the wall moved in whole levels).

    **Arguments:**

    - `g_min`, `g_max`: conductance range [S] (default 1/3.7 MΩ and 20x that).
    - `bits`: levels 2**bits (static), in [1, 16]; None = analog (no levels, the ideal
      reference).
    - `rounding`: how a requested change dw becomes whole levels (static): `"nearest"` (a
      change below half a level is lost) or `"stochastic"` (floor or ceil with probability
      given by the remainder: unbiased, as the thermally activated wall hop of a short pulse).
    - `energy_per_level`: programming energy of a one-level move [J], >= 0 (default
      `dw_level_energy(bits)`: the 5c synapse, 1 ns pulses). A move of k levels costs k.
    """

    g_min: Float[Array, ""] = 1.0 / 3.7e6
    g_max: Float[Array, ""] = 20.0 / 3.7e6
    bits: int | None = eqx.field(static=True, default=4)
    rounding: str = eqx.field(static=True, default="stochastic")
    energy_per_level: Float[Array, ""] | None = None

    def __check_init__(self):
        _check_conductances(self.g_min, self.g_max)
        if self.bits is not None and not (isinstance(self.bits, int) and 1 <= self.bits <= 16):
            raise ValueError(f"bits = {self.bits!r} must be an integer in [1, 16] or None")
        if self.rounding not in ("nearest", "stochastic"):
            raise ValueError(f"rounding = {self.rounding!r}; allowed: 'nearest', 'stochastic'")
        if self.energy_per_level is not None:
            check_range("energy_per_level", self.energy_per_level, low=0.0,
                        low_inclusive=True, unit="J")

    @property
    def n_levels(self) -> int | None:
        """Number of conductance levels (None for analog)."""
        return None if self.bits is None else 2**self.bits

    def _level_energy(self):
        if self.energy_per_level is not None:
            return self.energy_per_level
        return dw_level_energy(4 if self.bits is None else self.bits)

    def _round(self, u, seed):
        if self.rounding == "nearest":
            return jnp.round(u)
        return jnp.floor(u + hash_uniform(seed, u.shape).astype(u.dtype))

    def init(self, key, shape, high) -> Float[Array, "..."]:
        """Uniform random weights in [0, `high`], rounded (stochastically) to the levels."""
        w = jax.random.uniform(key, shape) * high
        if self.bits is None:
            return w
        steps = self.n_levels - 1
        return jnp.floor(w * steps + jax.random.uniform(jax.random.fold_in(key, 1), shape)) \
            / steps

    def apply(self, w, dw, seed):
        """Program the change `dw`: returns (w_new on the levels, energy [J])."""
        if self.bits is None:
            w_new = jnp.clip(w + dw, 0.0, 1.0)
            levels = jnp.abs(w_new - w) * 15.0          # analog: priced as 4-bit moves
            return w_new, jnp.sum(levels) * self._level_energy()
        steps = self.n_levels - 1
        k = jnp.clip(jnp.round(w * steps) + self._round(dw * steps, seed), 0, steps)
        moved = jnp.abs(k - jnp.round(w * steps))
        return k / steps, jnp.sum(moved) * self._level_energy()


class BinaryMTJSynapses(AbstractSynapses):
    """Probabilistic single-bit SOT-MTJ synapses (physics.md 7): a synapse is in G_min (0)
    or G_max (1); where STDP asks for a change dw towards the other state, one programming
    pulse switches it with probability P = min(`p_scale` |dw|, `p_max`). The pulse current
    is the one whose switching probability is P on the device's sigmoid, so each attempt
    costs I(P)^2 R_HM t_PW: a steeper STDP curve value costs more energy.

    **Arguments:**

    - `g_min`, `g_max`: the two conductances [S] (default the 4-bit range's ends, so
      accuracy compares like with like; an MgO junction alone has G_P / G_AP ≈ 2–3).
    - `p_scale`: switching probability per unit requested change, > 0.
    - `p_max`: the largest probability a pulse is driven to, in (0, 1).
    - `switching`: the programming pulse's `SwitchingSigmoid` (default the 5a stack, 0.5 ns:
      I50 = 57 µA, log-width 0.15).
    - `hm_resistance`: heavy-metal write path [Ohm], > 0 (5a: 400 Ω).
    """

    g_min: Float[Array, ""] = 1.0 / 3.7e6
    g_max: Float[Array, ""] = 20.0 / 3.7e6
    p_scale: Float[Array, ""] = 1.0
    p_max: Float[Array, ""] = 0.99
    switching: SwitchingSigmoid = SwitchingSigmoid(i50=57e-6, log_width=0.15,
                                                   pulse_width=0.5e-9, barrier_kT=21.0)
    hm_resistance: Float[Array, ""] = 400.0

    def __check_init__(self):
        _check_conductances(self.g_min, self.g_max)
        check_range("p_scale", self.p_scale, low=0.0)
        check_range("p_max", self.p_max, low=0.0, high=1.0)
        check_range("hm_resistance", self.hm_resistance, low=0.0, unit="Ohm")

    def pulse_current(self, p) -> Float[Array, "..."]:
        """Current [A] whose single-pulse switching probability is `p` (inverse sigmoid)."""
        p = jnp.clip(p, 1e-6, self.p_max)
        return self.switching.i50 * (p / (1.0 - p)) ** self.switching.log_width

    def attempt_energy(self, p) -> Float[Array, "..."]:
        """Joule energy of one programming pulse driven to probability `p` [J]."""
        return self.pulse_current(p) ** 2 * self.hm_resistance * self.switching.pulse_width

    def init(self, key, shape, high) -> Float[Array, "..."]:
        """Each synapse on (w = 1) with probability `high`."""
        return (jax.random.uniform(key, shape) < high).astype(float)

    def normalize(self, w, target_mean, seed):
        """Bring each column's fraction of on-synapses to `target_mean` in expectation:
        switch off-synapses on with probability (m - mean) / (1 - mean) when the column is
        below it, on-synapses off with probability (mean - m) / mean when above (scaling
        cannot turn a 0 on). **Returns:** (w_new, energy [J])."""
        mean = jnp.mean(w, axis=0)[None, :]
        up = jnp.clip((target_mean - mean) / jnp.maximum(1.0 - mean, 1e-6), 0.0, 1.0)
        down = jnp.clip((mean - target_mean) / jnp.maximum(mean, 1e-6), 0.0, 1.0)
        dw = jnp.where(w < 0.5, up, -down) / self.p_scale     # apply() multiplies by p_scale
        return self.apply(w, dw, seed)

    def apply(self, w, dw, seed):
        """Program `dw`: returns (w_new in {0, 1}, energy [J])."""
        want = ((dw > 0) & (w < 0.5)) | ((dw < 0) & (w > 0.5))
        p = jnp.where(want, jnp.minimum(self.p_scale * jnp.abs(dw), self.p_max), 0.0)
        flip = hash_uniform(seed, w.shape).astype(w.dtype) < p
        energy = jnp.sum(jnp.where(want & (p > 0), self.attempt_energy(p), 0.0))
        return jnp.where(flip, 1.0 - w, w), energy
