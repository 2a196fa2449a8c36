"""Circuits around the devices: resistive crossbar arrays (weights <-> conductances, Kirchhoff
column currents, IR drop, variation, read noise, tiling, read energy)."""

from .crossbar import (WIRE_CAPACITANCE_PER_CELL, Conductances, CrossbarArray,
                       conductance_levels, kirchhoff_currents, quantize_conductance)
from .ir_drop import dense_nodal_currents, tile_column_currents, tiled_ir_drop_currents
