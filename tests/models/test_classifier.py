"""tinyvae.models.classifier: the softmax classifier's gradients, training and doors."""

import numpy as np
import pytest

from tinyvae.gradcheck import check_loss
from tinyvae.models.classifier import Classifier
from tinyvae.optim import Adam


def blobs(n, seed):
    """Three Gaussian blobs in 2-D, one per class."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    centres = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    return (centres[labels] + rng.normal(size=(n, 2))).astype(np.float32), labels


@pytest.mark.parametrize("hidden", [(), (5,), (4, 3)])
def test_the_loss_gradient_passes_a_gradient_check(hidden):
    rng = np.random.default_rng(0)
    model = Classifier(2, hidden, 3, activation="tanh", rng=rng, dtype=np.float64)
    x, labels = blobs(7, seed=1)
    report = check_loss(model, lambda: model.loss(x.astype(np.float64), labels))
    assert report, str(report)


def test_training_separates_the_blobs():
    model = Classifier(2, (16,), 3, rng=np.random.default_rng(0))
    optimizer = Adam(model.parameters(), lr=1e-2)
    x, labels = blobs(600, seed=2)
    before = model.error(x, labels)
    for _ in range(200):
        model.loss(x, labels)
        model.zero_grad()
        model.backward()
        optimizer.step()
    x_test, labels_test = blobs(600, seed=3)
    assert before > 0.3 and model.error(x_test, labels_test) < 0.05


@pytest.mark.parametrize(
    "labels, error, message",
    [
        (np.array([0, 1, 5]), ValueError, r"labels: expected integers 0..2"),
        (np.array([0, 1]), ValueError, r"labels: expected shape \(3,\)"),
        (np.array([0.0, 1.0, 2.0]), TypeError, "labels: expected integers"),
    ],
)
def test_bad_labels_are_refused_before_the_network_runs(labels, error, message):
    model = Classifier(2, (4,), 3, rng=np.random.default_rng(0))
    x, good = blobs(3, seed=4)
    model.loss(x, good)
    pending = [m.cache for _, m in model.modules()]
    with pytest.raises(error, match=message):
        model.loss(x, labels)
    assert [m.cache for _, m in model.modules()] == pending
    model.backward()
