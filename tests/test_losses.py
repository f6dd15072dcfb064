"""Every loss against PyTorch (float64): value and gradient, including extreme inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from micrograd import Value, gradcheck, topological_order
from micrograd.engine.ops import OPS
from micrograd.training.losses import (
    EPSILON,
    LOSSES,
    Loss,
    as_loss,
    binary_cross_entropy,
    categorical_cross_entropy,
    cross_entropy,
    get_loss,
    hinge,
    huber,
    kl_divergence,
    log_softmax,
    mae,
    mse,
    multiclass_hinge,
    softmax,
)

REL, ABS = 1e-12, 1e-13


def close(a: float, b: float, rel: float = REL, abs_: float = ABS) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def run_ours(loss, pred_data, *args, **kwargs):
    """(loss value, gradient w.r.t. each prediction) from micrograd."""
    pred = [Value(x) for x in pred_data]
    out = loss(pred, *args, **kwargs)
    out.backward()
    return out.data, [p.grad for p in pred]


def run_torch(loss, pred_data):
    """(loss value, gradient) from PyTorch; `loss` maps a float64 tensor to a scalar tensor."""
    pred = torch.tensor(pred_data, dtype=torch.float64, requires_grad=True)
    out = loss(pred)
    out.backward()
    return out.item(), pred.grad.tolist()


def assert_matches(ours, theirs, rel=REL, abs_=ABS):
    (value, grads), (t_value, t_grads) = ours, theirs
    assert math.isfinite(value)
    assert close(value, t_value, rel, abs_), (value, t_value)
    assert len(grads) == len(t_grads)
    for g, tg in zip(grads, t_grads):
        assert close(g, tg, rel, abs_), (grads, t_grads)


def t(x):
    return torch.tensor(x, dtype=torch.float64)


# -- regression ------------------------------------------------------------------------------------

REGRESSION_CASES = [
    ([0.3, -1.2, 2.5], [0.1, 0.4, 2.5]),
    ([1e6, -1e6], [-1e6, 1e6]),
    ([0.7], [0.2]),
]


@pytest.mark.parametrize("pred, target", REGRESSION_CASES)
def test_mse_matches_torch(pred, target):
    assert_matches(run_ours(mse, pred, target), run_torch(lambda p: F.mse_loss(p, t(target)), pred))


@pytest.mark.parametrize("pred, target", REGRESSION_CASES)
def test_mae_matches_torch(pred, target):
    # the third element of the first case is exactly on target: slope 0 in both
    assert_matches(run_ours(mae, pred, target), run_torch(lambda p: F.l1_loss(p, t(target)), pred))


@pytest.mark.parametrize("delta", [1.0, 0.5, 3.0])
@pytest.mark.parametrize(
    "pred, target",
    [([0.3, -1.2, 2.5, 4.0], [0.1, 0.4, 2.5, -1.0]), ([0.5, -0.5, 1000.0], [0.0, 0.0, -1000.0])],
)
def test_huber_matches_torch(pred, target, delta):
    ours = run_ours(huber, pred, target, delta=delta)
    assert_matches(ours, run_torch(lambda p: F.huber_loss(p, t(target), delta=delta), pred))


def test_single_value_and_number_targets():
    p = Value(0.7)
    loss = mse(p, 0.2)
    loss.backward()
    assert close(loss.data, 0.25) and close(p.grad, 1.0)
    # a one-output list, a NumPy target and a 0-d array all mean the same thing
    assert mse([Value(0.7)], np.float64(0.2)).data == loss.data
    assert mse(Value(0.7), np.array(0.2)).data == loss.data
    assert mse(Value(0.7), np.array([0.2])).data == loss.data


# -- binary cross-entropy ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pred, target",
    [([0.2, 0.9, 0.5], [1.0, 0.0, 1.0]), ([0.3, 0.6], [0.25, 0.8]), ([1e-6, 1 - 1e-6], [1.0, 0.0])],
)
def test_binary_cross_entropy_on_probabilities_matches_torch(pred, target):
    ours = run_ours(binary_cross_entropy, pred, target)
    assert_matches(ours, run_torch(lambda p: F.binary_cross_entropy(p, t(target)), pred), rel=1e-10)


@pytest.mark.parametrize("pred", [[0.0, 1.0, 0.0, 1.0], [1e-300, 1 - 1e-17, 5e-8, 0.99999999]])
def test_binary_cross_entropy_at_probabilities_0_and_1_is_keras_clipping(pred):
    # Documented choice: clip to [EPSILON, 1 - EPSILON] like Keras; PyTorch's equivalent is
    # binary_cross_entropy on torch.clamp(p, EPSILON, 1 - EPSILON), value and gradient.
    target = [1.0, 0.0, 0.0, 1.0]
    ours = run_ours(binary_cross_entropy, pred, target)
    clipped = lambda p: torch.clamp(p, EPSILON, 1 - EPSILON)  # noqa: E731
    theirs = run_torch(lambda p: F.binary_cross_entropy(clipped(p), t(target)), pred)
    assert_matches(ours, theirs, rel=1e-9)
    assert ours[0] <= -math.log(EPSILON) + 1e-6  # finite and bounded by the clipping


@pytest.mark.parametrize(
    "logits, target",
    [
        ([-2.0, 0.5, 3.0], [0.0, 1.0, 1.0]),
        ([1000.0, -1000.0, 1000.0, -1000.0], [1.0, 0.0, 0.0, 1.0]),
        ([1000.0, -1000.0, 0.0], [0.5, 0.3, 0.7]),
        ([37.0, -37.0, 1e-20], [1.0, 0.0, 1.0]),
    ],
)
def test_binary_cross_entropy_from_logits_matches_torch(logits, target):
    ours = run_ours(binary_cross_entropy, logits, target, from_logits=True)
    theirs = run_torch(lambda s: F.binary_cross_entropy_with_logits(s, t(target)), logits)
    assert_matches(ours, theirs)


def test_binary_cross_entropy_from_logits_gradient_is_sigmoid_minus_target():
    s = Value(0.8)
    binary_cross_entropy(s, 1.0, from_logits=True).backward()
    assert close(s.grad, 1 / (1 + math.exp(-0.8)) - 1.0)


# -- softmax, log_softmax, cross-entropy --------------------------------------------------------------

COURSE_SCORES = [
    -3.44,
    1.16,
    -0.81,
    3.91,
]  # dog, cat, boat, airplane (the lecture *Neural Network Architecture and Training*)


def test_softmax_reproduces_the_course_figure():
    assert [round(v.data, 4) for v in softmax(COURSE_SCORES)] == [0.0006, 0.0596, 0.0083, 0.9315]
    exps = [Value(s).exp().data for s in COURSE_SCORES]
    assert [round(e, 4) for e in exps] == [0.0321, 3.1899, 0.4449, 49.8990]
    # the normalised column is the unnormalised one over its sum
    for p, e in zip(softmax(COURSE_SCORES), exps):
        assert close(p.data, e / sum(exps))


SCORE_CASES = [COURSE_SCORES, [1000.0, 0.0, -1000.0], [1000.0, 2000.0, 1999.0], [-1e4, -1e4 - 1000.0], [0.5]]


@pytest.mark.parametrize("scores", SCORE_CASES)
def test_softmax_and_log_softmax_match_torch(scores):
    weights = [0.3, -1.1, 2.0, 0.7][: len(scores)]  # backprop a weighted sum, so every output counts

    def weighted(outputs):
        total = outputs[0] * weights[0]
        for o, w in zip(outputs[1:], weights[1:]):
            total = total + o * w
        return total

    for ours_fn, torch_fn in ((softmax, F.softmax), (log_softmax, F.log_softmax)):
        values = [Value(s) for s in scores]
        outputs = ours_fn(values)
        weighted(outputs).backward()
        x = torch.tensor(scores, dtype=torch.float64, requires_grad=True)
        t_out = torch_fn(x, dim=0)
        (t_out * t(weights)).sum().backward()
        for o, to in zip(outputs, t_out.tolist()):
            assert math.isfinite(o.data) and close(o.data, to)
        for v, tg in zip(values, x.grad.tolist()):
            assert close(v.grad, tg), (ours_fn.__name__, scores)


@pytest.mark.parametrize("scores", SCORE_CASES)
def test_cross_entropy_matches_torch_and_its_gradient_is_softmax_minus_one_hot(scores):
    for k in range(len(scores)):
        ours = run_ours(cross_entropy, scores, k)
        theirs = run_torch(lambda s, k=k: F.cross_entropy(s[None], torch.tensor([k])), scores)
        assert_matches(ours, theirs)
        exps = np.exp(np.array(scores) - max(scores))
        expected = exps / exps.sum() - np.eye(len(scores))[k]
        assert np.allclose(ours[1], expected, rtol=1e-12, atol=1e-15)


def test_cross_entropy_with_scores_1000_apart():
    assert run_ours(cross_entropy, [0.0, 1000.0], 0)[0] == 1000.0
    assert run_ours(cross_entropy, [0.0, 1000.0], 1) == (0.0, [0.0, 0.0])


@pytest.mark.parametrize(
    "probs, one_hot",
    [
        ([0.2, 0.7, 0.1], [0.0, 1.0, 0.0]),
        ([0.2, 0.7, 0.1], [0.1, 0.8, 0.1]),
        ([0.0, 1.0, 0.0], [1.0, 0.0, 0.0]),
        ([0.0, 1.0, 0.0], [0.0, 1.0, 0.0]),
    ],
)
def test_categorical_cross_entropy_on_probabilities_matches_torch(probs, one_hot):
    ours = run_ours(categorical_cross_entropy, probs, one_hot)
    theirs = run_torch(lambda p: -(t(one_hot) * torch.log(torch.clamp(p, EPSILON, 1 - EPSILON))).sum(), probs)
    assert_matches(ours, theirs)
    if 0.0 not in probs:  # away from the clipping, also the textbook nll_loss of log p
        k = one_hot.index(max(one_hot))
        if one_hot[k] == 1.0:
            theirs = run_torch(lambda p: F.nll_loss(torch.log(p)[None], torch.tensor([k])), probs)
            assert_matches(ours, theirs)


@pytest.mark.parametrize(
    "logits, one_hot",
    [
        ([2.0, -1.0, 0.5], [0.0, 0.0, 1.0]),
        ([2.0, -1.0, 0.5], [0.2, 0.3, 0.5]),
        ([1000.0, -1000.0, 0.0], [0.0, 1.0, 0.0]),
    ],
)
def test_categorical_cross_entropy_from_logits_matches_torch(logits, one_hot):
    ours = run_ours(categorical_cross_entropy, logits, one_hot, from_logits=True)
    assert_matches(ours, run_torch(lambda s: F.cross_entropy(s[None], t(one_hot)[None]), logits))


def test_one_hot_cross_entropies_agree_with_sparse():
    logits = [0.3, -2.0, 1.7]
    sparse = cross_entropy(logits, 2).data
    assert categorical_cross_entropy(logits, [0, 0, 1], from_logits=True).data == sparse
    probs = [v.data for v in softmax(logits)]
    assert close(categorical_cross_entropy(probs, [0, 0, 1]).data, sparse)


@pytest.mark.parametrize(
    "p_true, q_pred",
    [
        ([0.1, 0.6, 0.3], [0.2, 0.5, 0.3]),
        ([0.0, 0.75, 0.25], [0.3, 0.3, 0.4]),
        ([0.5, 0.5, 0.0], [1.0, 0.0, 0.0]),
    ],
)
def test_kl_divergence_matches_torch(p_true, q_pred):
    ours = run_ours(lambda q, p: kl_divergence(p, q), q_pred, p_true)
    # torch's kl_div takes log q as its input and p as its target; 'sum' over the classes
    theirs = run_torch(lambda q: F.kl_div(torch.log(torch.clamp(q, min=EPSILON)), t(p_true), reduction="sum"), q_pred)
    assert_matches(ours, theirs)


# -- hinge losses -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scores, labels",
    [([0.3, -2.0, 1.5, -0.2], [1.0, -1.0, -1.0, 1.0]), ([1000.0, -1000.0], [-1.0, 1.0]), ([4.0], [1.0])],
)
def test_hinge_matches_torch(scores, labels):
    ours = run_ours(hinge, scores, labels)
    theirs = run_torch(lambda s: torch.clamp(1 - t(labels) * s, min=0).mean(), scores)
    assert_matches(ours, theirs)


def test_hinge_at_the_kink_has_slope_zero_like_relu():
    ours = run_ours(hinge, [1.0, -1.0], [1.0, -1.0])
    assert_matches(ours, run_torch(lambda s: torch.relu(1 - t([1.0, -1.0]) * s).mean(), [1.0, -1.0]))


@pytest.mark.parametrize("margin", [1.0, 0.5])
@pytest.mark.parametrize("scores", [[3.2, 5.1, -1.7], [1.3, 4.9, 2.0, 2.55], [1000.0, 0.0, 2000.0]])
def test_multiclass_hinge_matches_torch_times_the_number_of_classes(scores, margin):
    for k in range(len(scores)):
        ours = run_ours(multiclass_hinge, scores, k, margin=margin)
        c = len(scores)  # torch's multi_margin_loss divides the CS231n sum by the number of classes
        theirs = run_torch(
            lambda s, c=c, k=k: c * F.multi_margin_loss(s[None], torch.tensor([k]), p=1, margin=margin), scores
        )
        assert_matches(ours, theirs)


def test_multiclass_hinge_reproduces_cs231n_example():
    # CS231n notes, "Multiclass SVM loss": scores cat 3.2, car 5.1, frog -1.7, true class cat
    assert close(multiclass_hinge([3.2, 5.1, -1.7], 0).data, 2.9)


# -- the graph: engine ops only, gradients from the engine ------------------------------------------------

ALL_LOSSES = [
    (mse, [0.3, -1.2], [0.1, 0.4], {}),
    (mae, [0.3, -1.2], [0.1, 0.4], {}),
    (huber, [0.3, -3.2], [0.1, 0.4], {}),
    (binary_cross_entropy, [0.3, 0.8], [1.0, 0.0], {}),
    (binary_cross_entropy, [0.3, -0.8], [1.0, 0.25], {"from_logits": True}),
    (cross_entropy, [0.3, -0.8, 2.0], 1, {}),
    (categorical_cross_entropy, [0.2, 0.5, 0.3], [0.2, 0.0, 0.8], {}),
    (categorical_cross_entropy, [0.2, -0.5, 0.3], [0.0, 1.0, 0.0], {"from_logits": True}),
    (kl_divergence, [0.1, 0.9], [0.4, 0.6], {}),
    (hinge, [0.3, -0.2], [1.0, 1.0], {}),
    (multiclass_hinge, [0.3, 0.8, 0.1], 0, {}),
]


@pytest.mark.parametrize("loss, pred, target, kwargs", ALL_LOSSES, ids=lambda x: getattr(x, "__name__", ""))
def test_every_loss_is_a_graph_of_engine_ops_that_passes_gradcheck(loss, pred, target, kwargs):
    if loss is kl_divergence:  # kl_divergence(p_true, q_pred): the prediction comes second
        out = loss(target, [Value(x) for x in pred])
        report = gradcheck(lambda *q: loss(target, list(q)), pred)
    else:
        out = loss([Value(x) for x in pred], target, **kwargs)
        report = gradcheck(lambda *p: loss(list(p), target, **kwargs), pred)
    for node in topological_order(out):
        if node.op:  # every operation is an engine op, recorded under the loss's scope
            assert node.op in OPS and node.scope == loss.__name__
    assert report.ok, str(report)


# -- names and errors --------------------------------------------------------------------------------------


def test_keras_names():
    assert get_loss("mse") is mse and get_loss("mean_squared_error") is mse
    assert get_loss("mae") is mae and get_loss("mean_absolute_error") is mae
    assert get_loss("binary_crossentropy") is binary_cross_entropy
    assert get_loss("categorical_crossentropy") is categorical_cross_entropy
    assert get_loss("sparse_categorical_crossentropy") is cross_entropy
    assert get_loss("kl_divergence") is kl_divergence
    assert get_loss("hinge") is hinge and get_loss("huber") is huber
    assert get_loss("MSE") is mse
    assert get_loss(mae) is mae
    assert set(LOSSES.values()) >= {mse, mae, huber, binary_cross_entropy, cross_entropy, hinge}


def test_each_keras_loss_declares_its_target_and_the_outputs_it_reads():
    """What fit checks (targets, last layer) comes from the loss's record, not from its name."""
    cases = {
        "mse": ("values", ()),
        "huber": ("values", ()),
        "binary_crossentropy": ("probabilities", ("sigmoid",)),
        "categorical_crossentropy": ("distribution", ("softmax", "sigmoid")),
        "kl_divergence": ("distribution", ("softmax", "sigmoid")),
        "sparse_categorical_crossentropy": ("index", ()),
        "multiclass_hinge": ("index", ()),
        "hinge": ("labels_pm1", ()),
    }
    for name, (target, activations) in cases.items():
        loss = as_loss(name)
        assert (loss.name, loss.target, loss.activations) == (name, target, activations)
        assert as_loss(get_loss(name)) is loss and as_loss(loss) is loss
    assert as_loss("mean_squared_error").name == "mse"  # messages use the first Keras name


def test_a_loss_record_calls_in_kerass_order_and_reads_softmax_outputs_as_probabilities():
    p, q = [0.25, 0.75], [Value(0.5), Value(0.5)]
    assert (
        as_loss("kl_divergence").fn(q, p).data == kl_divergence(p, q).data
    )  # Keras: (y_true, y_pred) -> (pred, target)
    sparse = as_loss("sparse_categorical_crossentropy")
    assert sparse.for_output("linear") is cross_entropy
    probabilities = [Value(0.2), Value(0.8)]
    assert (
        sparse.for_output("softmax")(probabilities, 1).data == categorical_cross_entropy(probabilities, [0.0, 1.0]).data
    )

    def own(pred, target):
        return mse(pred, target)

    mine = as_loss(own)
    assert (mine.name, mine.fn, mine.target, mine.activations) == ("own", own, "values", ())
    with pytest.raises(ValueError, match="unknown target kind 'labels'"):
        Loss("mine", own, target="labels")


def test_a_loss_record_checks_targets_with_the_messages_of_fit():
    with pytest.raises(ValueError, match=r"y\[1\] = \[0.5, 0.6\] must sum to 1 for categorical_crossentropy"):
        as_loss("categorical_crossentropy").check_targets(np.array([[1.0, 0.0], [0.5, 0.6]]), 2)
    with pytest.raises(ValueError, match="hinge needs labels -1 and 1"):
        as_loss("hinge").check_targets(np.array([1.0, 0.0]), 1)
    with pytest.raises(ValueError, match="needs activation 'sigmoid'; it has activation 'relu'"):
        as_loss("binary_crossentropy").check_model_output("relu", "Dense")
    y = as_loss("sparse_categorical_crossentropy").check_targets(np.array([[2.0], [0.0]]), 3)
    assert y.shape == (2,) and as_loss("sparse_categorical_crossentropy").targets(y) == [2, 0]


def test_unknown_loss_name_lists_the_names():
    with pytest.raises(ValueError, match=r"unknown loss 'msee'.*binary_crossentropy"):
        get_loss("msee")
    with pytest.raises(TypeError, match="loss must be a name"):
        get_loss(3)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: mse([Value(1.0), Value(2.0)], [1.0]), "mse: pred has 2 values but target has 1"),
        (lambda: mae([], []), "mae: pred is empty"),
        (lambda: mse(Value(1.0), math.nan), r"mse: target\[0\] = nan is not a finite number"),
        (lambda: mse(Value(1.0), "a"), "mse: target must be a number"),
        (lambda: huber(Value(1.0), 0.0, delta=0.0), "huber: delta must be a positive"),
        (lambda: cross_entropy([1.0, 2.0], 2), r"cross_entropy: class index 2 is out of range for 2 classes \(0..1"),
        (lambda: cross_entropy([1.0, 2.0], -1), "cross_entropy: class index -1 is out of range"),
        (lambda: cross_entropy([1.0, 2.0], 0.5), "cross_entropy: a class index must be an integer"),
        (lambda: cross_entropy([1.0, 2.0], True), "cross_entropy: a class index must be an integer"),
        (lambda: cross_entropy([1.0, math.inf], 0), r"cross_entropy: logits\[1\] = inf is not finite"),
        (lambda: multiclass_hinge([1.0, 2.0], 5), "multiclass_hinge: class index 5 is out of range"),
        (lambda: multiclass_hinge([1.0], 0), "multiclass_hinge: needs at least 2 class scores"),
        (lambda: hinge(Value(0.5), 0), r"hinge: label\[0\] = 0.0 must be -1 or 1"),
        (lambda: hinge([Value(0.5)], [1.0, -1.0]), "hinge: score has 1 values but label has 2"),
        (lambda: binary_cross_entropy(Value(1.5), 1.0), r"pred\[0\] = 1.5 is not a probability.*from_logits=True"),
        (lambda: binary_cross_entropy(Value(0.5), 2.0), r"binary_cross_entropy: target\[0\] = 2.0 is not"),
        (lambda: categorical_cross_entropy([0.5, 0.5], [1.0, 1.0]), "categorical_cross_entropy: one_hot must sum to 1"),
        (lambda: categorical_cross_entropy([0.5, 0.5], [1.0]), "pred has 2 values but one_hot has 1"),
        (lambda: kl_divergence([0.5, 0.5], [1.2, -0.2]), r"kl_divergence: q_pred\[0\] = 1.2 is not"),
        (lambda: kl_divergence([-0.5, 1.5], [0.5, 0.5]), r"kl_divergence: p_true\[0\] = -0.5 is not"),
    ],
)
def test_bad_inputs_give_clear_errors(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()
