"""micrograd-lab: a scalar autograd engine and the small neural-network library built on it."""

from .engine import Constant, Value, is_grad_enabled, no_grad, scope, topological_order
from .gradcheck import GradcheckReport, gradcheck
from .nn import Dense, Dropout, Parameter, Sequential, load_model, manual_seed
from .sequential import TrainingDivergedError
from .tape import Tape

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
    "gradcheck",
    "is_grad_enabled",
    "load_model",
    "manual_seed",
    "no_grad",
    "scope",
    "topological_order",
]
__version__ = "0.1.0"
