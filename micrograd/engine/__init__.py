"""The autograd engine: `Value` and the ops it records (`ops`), the reverse walk that applies the
chain rule, readable node names, the tape that replays a graph on a batch, and gradcheck.

Nothing here knows about layers, losses or training: those are built on top, in `micrograd.nn`
and `micrograd.training`.
"""

from .gradcheck import GradcheckReport, GraphCheckReport, check_graph, gradcheck
from .higher import Derivative, grad, hessian, hvp
from .tape import Tape
from .value import (
    Constant,
    Parameter,
    Value,
    apply_op,
    is_grad_enabled,
    no_grad,
    scope,
    topological_order,
    unary_op,
    weighted_sum,
)

__all__ = [
    "Constant",
    "Derivative",
    "GradcheckReport",
    "GraphCheckReport",
    "Parameter",
    "Tape",
    "Value",
    "apply_op",
    "check_graph",
    "grad",
    "gradcheck",
    "hessian",
    "hvp",
    "is_grad_enabled",
    "no_grad",
    "scope",
    "topological_order",
    "unary_op",
    "weighted_sum",
]
