"""Networks of spintronic devices: crossbar MLP / CNN with device neurons (non-spiking and
spiking over T steps), hardware-aware training with Optax, offline digit data."""

from .data import Split, digits, mnist5000, stratified_split
from .activations import (AbstractNeuron, IFNeuron, IRMENNeuron, StepNeuron,
                          StochasticMTJNeuron)
from .layers import CrossbarConv2d, CrossbarDense, average_pool
from .models import CrossbarNet, cnn, mlp
# Spiking layer with on-chip STDP (physics.md 7): stochastic MTJ neurons on a spintronic crossbar.
from .snn import (BiasRamp, Homeostasis, ImageRecord, LayerState, SpikingLayer, assign_labels,
                  check_images, classify, consolidate, images_per_second, respond,
                  row_drive_targets, train_stdp)
from .snn_neurons import (DEFAULT_IF_SURROGATE, DEFAULT_SWITCHING, AbstractSpikingNeuron,
                          DWIFSpikingNeuron, LIFSpikingNeuron, MTJSpikingNeuron, NeuronState,
                          SLLGSpikingNeuron)
from .stdp import (STDP, AbstractSynapses, BinaryMTJSynapses, MultiLevelSynapses,
                   dw_level_energy, hash_uniform, simulate_pairs)
from .train import clip_weights, cross_entropy, evaluate, train, trainable_filter
