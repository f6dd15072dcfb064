"""Models built from `Value`s: micrograd's `Neuron`, `Layer` and `MLP`, and the Keras-style
`Sequential` of `Dense` and `Dropout` layers, which trains with `micrograd.training`; and
Rosenblatt's `Perceptron`, which trains with its own rule.

A layer of a `Sequential` is a `SequentialLayer` (`layers.py`, the contract and the registry of
types); each type is one file (`dense.py`, `dropout.py`). `initializers.py` holds how weights start. `model_file.py` writes model files,
`saving.py` reads them."""

from ..engine import Parameter
from . import initializers
from .dense import DENSE_ACTIVATIONS, Dense
from .dropout import Dropout
from .layers import LAYER_TYPES, SequentialLayer
from .mlp import ACTIVATIONS, INITS, MLP, Layer, Module, Neuron, manual_seed
from .perceptron import NotSeparableWarning, Perceptron
from .saving import load_model
from .sequential import Sequential

__all__ = [
    "ACTIVATIONS",
    "DENSE_ACTIVATIONS",
    "INITS",
    "LAYER_TYPES",
    "MLP",
    "Dense",
    "Dropout",
    "Layer",
    "Module",
    "Neuron",
    "NotSeparableWarning",
    "Parameter",
    "Perceptron",
    "Sequential",
    "SequentialLayer",
    "initializers",
    "load_model",
    "manual_seed",
]
