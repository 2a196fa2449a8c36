"""Shared physics of SOT-written MTJs: thermal macrospin runs under pulse trains (private).

Both the spiking neuron (5a) and the volatile synapse are the physics.md 5a stack: an in-plane
CoFe ellipse on beta-W written by a current through the heavy metal. They differ in how pulses
are scheduled and read; `run_trains` is the one physics call both make.
"""

import equinox as eqx
import jax
import jax.numpy as jnp

from .. import presets
from ..solve import simulate
from ..waveforms import PulseTrain

PULSE_START = 10e-12
"""Half-maximum of the first rising edge [s] (as in `spinjax sweep`)."""


def run_trains(thickness, temperature, m0, amplitudes, widths, starts, *, t1, key, trial_index,
               dt):
    """m(t1) of N thermal trajectories of the 5a macrospin, trajectory i driven by the HM pulse
    train (amplitudes[i], widths[i], starts[i]) [A, s, s], each of shape (N, k).

    `m0`: (3,) or (N, 3). Trial i's noise depends only on (`key`, `trial_index[i]`).
    **Returns:** m(t1), shape (N, 3).
    """
    train = PulseTrain(amplitudes, widths, starts)
    system = presets.sot_mtj_neuron(thickness=thickness, current=train, temperature=temperature)
    axes = jax.tree_util.tree_map(lambda _: None, system)
    axes = eqx.tree_at(lambda s: (s.torques[0].current.amplitudes, s.torques[0].current.widths,
                                  s.torques[0].current.starts), axes, (0, 0, 0),
                       is_leaf=lambda x: x is None)
    return simulate(system, m0, t1=t1, dt=dt, key=key, trial_index=trial_index,
                    system_axes=axes).m


def easy_axis_component(m):
    """m · (P-state axis): +1 in P, -1 in AP; shape (N,) for m of shape (N, 3)."""
    m = jnp.asarray(m)
    return m @ jnp.asarray(presets.P_STATE, m.dtype)
