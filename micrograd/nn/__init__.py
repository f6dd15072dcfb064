"""Models built from `Value`s: micrograd's `Neuron`, `Layer` and `MLP`, and the Keras-style
`Sequential` of `Dense` and `Dropout` layers, which trains with `micrograd.training`."""

from ..engine import Parameter
from .mlp import ACTIVATIONS, INITS, MLP, Layer, Module, Neuron, manual_seed
from .saving import load_model
from .sequential import Dense, Dropout, Sequential

__all__ = [
    "ACTIVATIONS",
    "INITS",
    "MLP",
    "Dense",
    "Dropout",
    "Layer",
    "Module",
    "Neuron",
    "Parameter",
    "Sequential",
    "load_model",
    "manual_seed",
]
