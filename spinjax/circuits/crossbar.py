"""Resistive crossbar arrays (physics.md 6): weights <-> conductances, column currents.

Rows carry input voltages, columns sum currents into neurons. A bipolar weight uses two rows
per input (`"differential"`: row i+ at +dV x_i and row i- at -dV x_i, a positive weight
programs G+ and leaves G- at the off state G_min) or one row per input and a reference column
of mid-level devices whose current is subtracted (`"offset"`). The neuron's input (write-path)
conductance G_s loads each column:

    I_j = sum_i G_ij V_i / (1 + gamma_j),    gamma_j = sum_i G_ij / G_s,

and with wire resistance the array is solved as a resistive network (`spinjax.circuits.ir_drop`).
Non-idealities are sampled explicitly from keys: device-to-device variation once per chip
(`CrossbarArray.chip`), read noise once per read (`CrossbarArray.currents(..., key=...)`).
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._checks import check_range, is_concrete
from .ir_drop import tiled_ir_drop_currents

WIRE_CAPACITANCE_PER_CELL = 0.04e-15
"""Row-wire capacitance per cross-point [F]: ~0.2 fF/µm of interconnect (NeuroSim's value)
over a ~0.2 µm cell pitch. A read pulse charges each driven row: C_row V^2 from the supply."""


def kirchhoff_currents(g, v, neuron_conductance) -> Float[Array, "... n_out"]:
    """Column currents of a crossbar with ideal wires into neurons of finite input conductance.

    **Arguments:**

    - `g`: conductances [S], shape (n_rows, n_out), >= 0.
    - `v`: row voltages [V], shape (..., n_rows).
    - `neuron_conductance`: G_s [S], scalar or (n_out,), > 0; `jnp.inf` for an ideal
      (virtual-ground) neuron input.

    **Returns:** I_j = sum_i g_ij v_i / (1 + gamma_j) [A], shape (..., n_out), with
    gamma_j = sum_i g_ij / G_s (the column node sits at V_j = I_j / G_s).
    """
    g = jnp.asarray(g)
    v = jnp.asarray(v)
    if g.ndim != 2:
        raise ValueError(f"g must be a (n_rows, n_out) conductance matrix, got shape {g.shape}")
    if v.shape[-1:] != g.shape[:1]:
        raise ValueError(f"v has shape {v.shape}: its last axis must have n_rows = "
                         f"{g.shape[0]} entries (one voltage per row of g)")
    return (v @ g) / _leading(1.0 + jnp.sum(g, axis=0) / neuron_conductance, v.ndim)


def _leading(x, ndim):
    """`x` reshaped to rank `ndim` by leading unit axes (explicit broadcasting)."""
    x = jnp.asarray(x)
    return x.reshape((1,) * (ndim - x.ndim) + x.shape)


def conductance_levels(g_min, g_max, bits: int) -> Float[Array, " levels"]:
    """The 2**bits equally spaced programmable conductances from `g_min` to `g_max` [S]."""
    _check_bits(bits)
    return jnp.linspace(g_min, g_max, 2**bits)


def quantize_conductance(g, g_min, g_max, bits: int | None) -> Float[Array, "..."]:
    """Nearest of the 2**bits levels in [g_min, g_max] [S] (clipped into the range first),
    with a straight-through gradient (d quantized / d g = 1 inside the range), so training
    sees the levels in the forward pass and still gets gradients. `bits=None`: only clipped."""
    g = jnp.clip(jnp.asarray(g), g_min, g_max)
    if bits is None:
        return g
    _check_bits(bits)
    steps = 2**bits - 1
    u = (g - g_min) / (g_max - g_min)
    q = jnp.round(u * steps) / steps
    u = u + jax.lax.stop_gradient(q - u)
    return g_min + u * (g_max - g_min)


def _check_bits(bits):
    if not (isinstance(bits, int) and 1 <= bits <= 16):
        raise ValueError(f"bits = {bits!r} must be an integer in [1, 16] (or None for analog "
                         f"conductances)")


class Conductances(eqx.Module):
    """Programmed conductances of one layer [S], each (n_in, n_out).

    `"differential"`: `plus` on rows i+, `minus` on rows i-. `"offset"`: `plus` holds the
    weight devices and `minus` the reference column's devices (every column the same).
    """

    plus: Float[Array, "n_in n_out"]
    minus: Float[Array, "n_in n_out"]


class CrossbarArray(eqx.Module):
    """Electrical settings of a resistive crossbar and the mapping of weights onto it.

    **Arguments:**

    - `r_max`: off-state (largest) synapse resistance [Ohm], > 0 (physics.md 6: 3.7 MΩ);
      G_min = 1 / r_max.
    - `on_off_ratio`: G_max / G_min = R_max / R_min, > 1 (physics.md 6: 20).
    - `read_voltage`: dV, the input voltage of a full-scale input [V], in (0, 1]
      (physics.md 5b/6: 10–100 mV). A float leaf: trainable.
    - `neuron_conductance`: G_s, the neuron's input (write-path) conductance [S], > 0;
      1/400 Ω for the SOT-MTJ neuron's heavy metal; `jnp.inf` for an ideal neuron input.
    - `bits`: conductance levels 2**bits per device (static; physics.md 6: 4); None = analog.
    - `scheme`: `"differential"` (G+/G- row pairs) or `"offset"` (one device per weight and
      a mid-level reference column), static.
    - `variation`: device-to-device variation, the sigma of a log-normal factor on each
      device's conductance (dimensionless, >= 0; 0.1 ≈ 10 %), sampled by `chip`.
    - `read_noise`: relative Gaussian noise of each device's read current, per read (>= 0).
    - `wire_resistance`: resistance of the wire segment between adjacent cross-points [Ohm],
      >= 0 (static: 0 selects the closed form, > 0 the nodal IR-drop solve).
    - `tile_rows`, `tile_cols`: size of one physical array (static; None = one array of
      any size). Matrices larger than a tile are split; the partial column currents of the
      row tiles join at the neuron's input node.
    - `max_tiles`: number of physical arrays available to the layer (static; None = any).
    - `read_time`: duration of one read (input) pulse [s], > 0, for the energy.
    - `wire_capacitance`: row-wire capacitance per cross-point [F], >= 0.

    **Example:**

    ```python
    xb = CrossbarArray(read_voltage=0.05, bits=4)
    g = xb.program(w, w_max=1.0)          # w: (n_in, n_out)
    i = xb.currents(xb.chip(g, key), x)   # x: (batch, n_in) in [-1, 1] -> (batch, n_out) [A]
    ```
    """

    r_max: Float[Array, ""] = 3.7e6
    on_off_ratio: Float[Array, ""] = 20.0
    read_voltage: Float[Array, ""] = 0.05
    neuron_conductance: Float[Array, ""] = 1.0 / 400.0
    bits: int | None = eqx.field(static=True, default=4)
    scheme: str = eqx.field(static=True, default="differential")
    variation: Float[Array, ""] = 0.0
    read_noise: Float[Array, ""] = 0.0
    wire_resistance: float = eqx.field(static=True, default=0.0)
    tile_rows: int | None = eqx.field(static=True, default=None)
    tile_cols: int | None = eqx.field(static=True, default=None)
    max_tiles: int | None = eqx.field(static=True, default=None)
    read_time: Float[Array, ""] = 1e-9
    wire_capacitance: Float[Array, ""] = WIRE_CAPACITANCE_PER_CELL

    def __check_init__(self):
        check_range("r_max", self.r_max, low=0.0, unit="Ohm")
        check_range("on_off_ratio", self.on_off_ratio, low=1.0)
        check_range("read_voltage", self.read_voltage, low=0.0, high=1.0, high_inclusive=True,
                    unit="V")
        if not (is_concrete(self.neuron_conductance)
                and bool(jnp.all(jnp.isinf(jnp.asarray(self.neuron_conductance))))):
            check_range("neuron_conductance", self.neuron_conductance, low=0.0, unit="S")
        if self.bits is not None:
            _check_bits(self.bits)
        if self.scheme not in ("differential", "offset"):
            raise ValueError(f"scheme = {self.scheme!r}; allowed: 'differential', 'offset'")
        check_range("variation", self.variation, low=0.0, low_inclusive=True, high=2.0)
        check_range("read_noise", self.read_noise, low=0.0, low_inclusive=True, high=2.0)
        check_range("wire_resistance", self.wire_resistance, low=0.0, low_inclusive=True,
                    high=1e6, unit="Ohm")
        for name in ("tile_rows", "tile_cols", "max_tiles"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int) and value >= 1):
                raise ValueError(f"{name} = {value!r} must be a positive integer or None")
        check_range("read_time", self.read_time, low=0.0, unit="s")
        check_range("wire_capacitance", self.wire_capacitance, low=0.0, low_inclusive=True,
                    unit="F")

    # --- ranges -------------------------------------------------------------------------
    @property
    def g_min(self) -> Float[Array, ""]:
        """Off-state conductance 1 / r_max [S]."""
        return 1.0 / jnp.asarray(self.r_max)

    @property
    def g_max(self) -> Float[Array, ""]:
        """On-state conductance on_off_ratio / r_max [S]."""
        return self.on_off_ratio / jnp.asarray(self.r_max)

    def levels(self) -> Float[Array, " levels"]:
        """The programmable conductances [S] (2**bits levels; needs `bits`)."""
        if self.bits is None:
            raise ValueError("levels() needs bits; this array has analog conductances")
        return conductance_levels(self.g_min, self.g_max, self.bits)

    def weight_scale(self, w_max) -> Float[Array, ""]:
        """Ideal-limit column current per unit weight and unit input [A]:
        dV (G_max - G_min) / w_max (differential); half that for the offset scheme, whose
        range G_max - G_min spans 2 w_max."""
        span = self.g_max - self.g_min
        if self.scheme == "offset":
            span = span / 2.0
        return self.read_voltage * span / w_max

    # --- tiles --------------------------------------------------------------------------
    def physical_rows(self, n_in: int) -> int:
        """Rows used by `n_in` inputs: 2 n_in (differential) or n_in (offset)."""
        return 2 * n_in if self.scheme == "differential" else n_in

    def physical_cols(self, n_out: int) -> int:
        """Columns used by `n_out` outputs (the offset scheme adds a reference column per
        tile column block)."""
        if self.scheme == "differential":
            return n_out
        per_tile = None if self.tile_cols is None else self.tile_cols - 1
        if per_tile is not None and per_tile < 1:
            raise ValueError("tile_cols must be >= 2 for the offset scheme (one reference "
                             "column per tile)")
        return n_out + (1 if per_tile is None else math.ceil(n_out / per_tile))

    def tiles_needed(self, n_in: int, n_out: int) -> int:
        """Number of physical arrays an (n_in, n_out) weight matrix occupies."""
        rows = self.physical_rows(n_in)
        cols = self.physical_cols(n_out)
        tr = rows if self.tile_rows is None else self.tile_rows
        tc = cols if self.tile_cols is None else self.tile_cols
        return math.ceil(rows / tr) * math.ceil(cols / tc)

    def check_fits(self, n_in: int, n_out: int):
        """Raise ValueError when an (n_in, n_out) layer does not fit in `max_tiles` arrays."""
        if self.max_tiles is not None:
            need = self.tiles_needed(n_in, n_out)
            if need > self.max_tiles:
                raise ValueError(
                    f"a ({n_in} x {n_out}) layer needs {need} arrays of "
                    f"{self.tile_rows or 'any'} x {self.tile_cols or 'any'} cross-points "
                    f"({self.physical_rows(n_in)} rows x {self.physical_cols(n_out)} columns), "
                    f"but max_tiles = {self.max_tiles}")

    # --- mapping ------------------------------------------------------------------------
    def program(self, weights, w_max, clip: bool = False) -> Conductances:
        """Map weights onto conductances [S], quantised to the levels (straight-through).

        **Arguments:**

        - `weights`: (n_in, n_out) array; entries must lie in [-w_max, w_max] unless `clip`.
        - `w_max`: the weight that maps to the full conductance range, > 0.
        - `clip`: saturate out-of-range weights at ±w_max (training) instead of raising.

        **Returns:** `Conductances`. Differential: G± = G_min + max(±w, 0)/w_max (G_max -
        G_min). Offset: G = G_min + (w/w_max + 1)/2 (G_max - G_min), reference (G_min +
        G_max)/2 (rounded to a level).
        """
        weights = jnp.asarray(weights)
        if weights.ndim != 2:
            raise ValueError(f"weights must be a (n_in, n_out) matrix, got shape "
                             f"{weights.shape}")
        check_range("w_max", w_max, low=0.0)
        self.check_fits(*weights.shape)
        if not clip:
            if is_concrete(weights) and is_concrete(w_max):
                worst = float(jnp.max(jnp.abs(weights)))
                if not worst <= float(w_max):
                    raise ValueError(
                        f"weights reach |w| = {worst:.6g}, outside the mappable range "
                        f"[-w_max, w_max] = [-{float(w_max):.6g}, {float(w_max):.6g}]; raise "
                        f"w_max or pass clip=True to saturate")
            else:
                weights = eqx.error_if(weights, jnp.any(jnp.abs(weights) > w_max),
                                       "weights outside the mappable range [-w_max, w_max]")
        u = jnp.clip(weights / w_max, -1.0, 1.0)
        span = self.g_max - self.g_min
        q = lambda g: quantize_conductance(g, self.g_min, self.g_max, self.bits)  # noqa: E731
        if self.scheme == "differential":
            return Conductances(q(self.g_min + jax.nn.relu(u) * span),
                                q(self.g_min + jax.nn.relu(-u) * span))
        ref = q(jnp.full_like(u, 0.5 * (self.g_min + self.g_max)))
        return Conductances(q(self.g_min + 0.5 * (u + 1.0) * span), ref)

    def chip(self, conductances: Conductances, key) -> Conductances:
        """One chip: every device's conductance times an independent log-normal factor
        exp(variation * N(0, 1)) (median-preserving). The same key gives the same chip."""
        kp, km = jax.random.split(key)
        factor = lambda k, g: g * jnp.exp(self.variation * jax.random.normal(k, g.shape,  # noqa
                                                                             g.dtype))
        minus = factor(km, conductances.minus)
        if self.scheme == "offset":  # one reference column per tile: the same devices
            minus = jnp.broadcast_to(minus[:, :1], minus.shape)
        return Conductances(factor(kp, conductances.plus), minus)

    # --- read ---------------------------------------------------------------------------
    def _rows(self, conductances: Conductances, x):
        v = self.read_voltage * x
        if self.scheme == "differential":
            return (jnp.concatenate([conductances.plus, conductances.minus], axis=0),
                    jnp.concatenate([v, -v], axis=-1))
        return conductances.plus, v

    def _column_currents(self, g, v):
        if self.wire_resistance == 0.0:
            return kirchhoff_currents(g, v, self.neuron_conductance)
        return tiled_ir_drop_currents(g, v, self.wire_resistance, self.neuron_conductance,
                                      self.tile_rows, self.tile_cols)

    def currents(self, conductances: Conductances, x, key=None) -> Float[Array, "... n_out"]:
        """Neuron input currents [A] for inputs `x` (..., n_in).

        `x` in [-1, 1]: analog inputs (voltage dV x) or binary spikes {0, 1}. With `key` and
        `read_noise` > 0, each device's read current gets relative Gaussian noise; the sum
        over a column is drawn directly (exact for independent Gaussian device noise).
        """
        x = jnp.asarray(x)
        n_in = conductances.plus.shape[0]
        if x.shape[-1:] != (n_in,):
            raise ValueError(f"x has shape {x.shape}; its last axis must have n_in = {n_in} "
                             f"entries")
        g, v = self._rows(conductances, x)
        i = self._column_currents(g, v)
        if self.scheme == "offset":
            ref = self._column_currents(conductances.minus[:, :1], v)
            i = i - ref
        if key is not None:
            # Column noise: var I_j = sum_i (sigma G_ij V_i)^2 / (1 + gamma_j)^2.
            gamma = jnp.sum(g, axis=0) / self.neuron_conductance
            sd = self.read_noise * jnp.sqrt((v**2) @ (g**2)) / _leading(1.0 + gamma, v.ndim)
            i = i + sd * jax.random.normal(key, i.shape, i.dtype)
        return i

    def energy(self, conductances: Conductances, x) -> Float[Array, "..."]:
        """Energy of one read of inputs `x` (..., n_in) [J]: Joule heat in the devices over
        `read_time`, sum_ij G_ij (V_i - V_j)^2 t (V_j = I_j / G_s the column node), plus
        charging each driven row, C_row V_i^2 with C_row = wire_capacitance x columns.
        (The neuron's own dissipation, I_j^2 / G_s, belongs to the neuron's write energy.)"""
        x = jnp.asarray(x)
        g, v = self._rows(conductances, x)
        if self.scheme == "offset":
            g = jnp.concatenate([g, conductances.minus[:, :1]], axis=1)
        i = kirchhoff_currents(g, v, self.neuron_conductance)
        v_col = i / self.neuron_conductance  # 0 for an ideal neuron input
        joule = ((v**2) @ jnp.sum(g, axis=1) - 2.0 * jnp.sum((v @ g) * v_col, axis=-1)
                 + (v_col**2) @ jnp.sum(g, axis=0))
        charge = self.wire_capacitance * g.shape[1] * jnp.sum(v**2, axis=-1)
        return joule * self.read_time + charge
