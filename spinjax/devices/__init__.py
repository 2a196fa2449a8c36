"""Spintronic devices: physics model in the loop, calibrated fast surrogate, energy per operation.

Each device is an `eqx.Module` written for one device; batches come from array-valued inputs
(N currents, N keys) or `jax.vmap`.
"""

from .sot_neuron import (NeuronStep, SOTMTJNeuron, SurrogateCalibration, agreement,
                         calibrate_neuron)
from .volatile_synapse import LeakCalibration, VolatileMTJSynapse, calibrate_leak
