"""Spintronic devices: physics model in the loop, calibrated fast surrogate, energy per operation.

Each device is an `eqx.Module` written for one device; batches come from array-valued inputs
(N currents, N keys) or `jax.vmap`.
"""

from .sot_neuron import (NeuronStep, SOTMTJNeuron, SurrogateCalibration, agreement,
                         calibrate_neuron)
from .volatile_synapse import LeakCalibration, VolatileMTJSynapse, calibrate_leak
from .irmen import (IRMENCell, IRMENSurrogate, ReadPulses, TransferCalibration,
                    TransferStatistics, boltzmann_moments, calibrate_surrogate, response_times,
                    transfer_monte_carlo)
from .dw_neuron import (DWMStepNeuron, StepEvaluation, StepNeuronSurrogate, calibrate_step_neuron,
                        hardest_case, resolution_monte_carlo)
from .dw_synapse import (DWIFNeuron, DWSynapse, IFCalibration, IFStep, IFSurrogate,
                         SynapseCalibration, SynapseSurrogate, calibrate_if_neuron,
                         calibrate_synapse, einstein_diffusion)
from .sot_family import (FamilyCalibration, SOTNeuronFamily, calibrate_neuron_family, fit_family)
