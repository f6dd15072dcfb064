"""micrograd-lab: a scalar autograd engine and the small neural-network library built on it.

The folders are the layers, each built only on the ones before it:
- `micrograd.engine`: `Value`, the ops it records, the backward walk, the tape, gradcheck;
- `micrograd.training`: losses, optimizers, metrics, callbacks and the training loop;
- `micrograd.nn`: micrograd's Neuron/Layer/MLP and the Keras-style Sequential;
- `micrograd.data`: small datasets made on the spot, and the 8×8 handwritten digits.
"""

from .engine import (
    Constant,
    GradcheckReport,
    Parameter,
    Tape,
    Value,
    grad,
    gradcheck,
    hessian,
    hvp,
    is_grad_enabled,
    no_grad,
    scope,
    topological_order,
)
from .nn import Dense, Dropout, Sequential, load_model, manual_seed
from .training.loop import TrainingDivergedError

__all__ = [
    "Constant",
    "Dense",
    "Dropout",
    "GradcheckReport",
    "Parameter",
    "Sequential",
    "Tape",
    "TrainingDivergedError",
    "Value",
    "grad",
    "gradcheck",
    "hessian",
    "hvp",
    "is_grad_enabled",
    "load_model",
    "manual_seed",
    "no_grad",
    "scope",
    "topological_order",
]
__version__ = "0.1.0"
