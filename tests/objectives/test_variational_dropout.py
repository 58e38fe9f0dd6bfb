"""tinyvae.objectives.variational_dropout with tinyvae.models.DropoutMLP: gradients, the
KL's weight, training by fit, and bad input."""

import numpy as np
import pytest
from helpers import assert_finite_step

import tinyvae as tv
from tinyvae.gradcheck import check_loss
from tinyvae.models.dropout_mlp import DROPOUTS
from tinyvae.nn.dropout import BinaryDropout


def classifier(dropout, granularity="layer", seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    model = tv.DropoutMLP(
        5, (7,), 3, dropout, p=0.3, granularity=granularity, activation="tanh",
        rng=rng, dtype=dtype,
    )  # fmt: skip
    return model, rng


CASES = [(d, "layer") for d in DROPOUTS] + [("variational_A", "unit"), ("variational_B", "unit")]
CASES += [("variational_B", "weight")]


@pytest.mark.parametrize("dropout, granularity", CASES)
def test_whole_objective_gradient(dropout, granularity):
    model, rng = classifier(dropout, granularity)
    for layer in model.rate_layers():
        layer.params["log_alpha"][...] = rng.uniform(-2.5, -0.5, layer.alpha_shape())
    objective = tv.VariationalDropout(model, n_train=20)
    x, y = rng.normal(size=(6, 5)), rng.integers(0, 3, size=6)
    eps = model.noise(6, rng)
    report = check_loss(objective, lambda: objective.loss(x, eps=eps, labels=y), rng=rng)
    assert report.passed(1e-6), str(report)
    names = {row["name"] for row in report.rows}
    assert any("log_alpha" in name for name in names) == dropout.startswith("variational")


def test_loss_is_the_mean_nll_plus_kl_over_n():
    model, rng = classifier("variational_A2")
    objective = tv.VariationalDropout(model, n_train=50, kl_approximation="molchanov")
    x, y = rng.normal(size=(4, 5)), rng.integers(0, 3, size=4)
    eps = model.noise(4, rng)
    loss = objective.loss(x, eps=eps, labels=y)
    logits = model.forward(x, eps)
    model.clear_cache()
    log_pi = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    nll = -np.mean(log_pi[np.arange(4), y])
    kl = (
        sum(
            layer.kl_count() * np.sum(objective.kl_term.forward(layer.params["log_alpha"]))
            for layer in model.layers
        )
        / 3.0
    )
    objective.kl_term.clear_cache()
    assert loss == pytest.approx(nll + kl / 50, rel=1e-12)
    assert objective.terms["kl_per_example"] == pytest.approx(kl / 50, rel=1e-12)


@pytest.mark.parametrize("dropout", ["none", "binary", "variational_B"])
def test_l2_penalty_value_and_gradient(dropout):
    """l2/2 sum W^2 over the weight matrices only: biases and log alpha are not penalized."""
    model, rng = classifier(dropout)
    for layer in model.rate_layers():
        layer.params["log_alpha"][...] = rng.uniform(-2.5, -0.5, layer.alpha_shape())
    for layer in model.layers:  # biases away from 0, so that a penalty on them would show
        layer.params["b"][...] = rng.normal(size=layer.params["b"].shape)
    objective = tv.VariationalDropout(model, n_train=20, l2=0.3)
    plain = tv.VariationalDropout(model, n_train=20)
    x, y = rng.normal(size=(6, 5)), rng.integers(0, 3, size=6)
    eps = model.noise(6, rng)
    loss = objective.loss(x, eps=eps, labels=y)
    objective.clear_cache()
    weights = [p for name, p, _ in model.parameters() if name.endswith((".W", ".theta"))]
    assert len(weights) == 2
    expected = 0.15 * sum(np.sum(W**2) for W in weights)
    assert loss == pytest.approx(plain.loss(x, eps=eps, labels=y) + expected, rel=1e-12)
    assert objective.terms["l2_penalty"] == pytest.approx(expected, rel=1e-12)
    plain.clear_cache()
    report = check_loss(objective, lambda: objective.loss(x, eps=eps, labels=y), rng=rng)
    assert report.passed(1e-6), str(report)


def test_logistic_regression_is_a_dropout_mlp_without_hidden_layers():
    """softmax(x W + b), with the gradient of the L2-regularized cross-entropy in closed form."""
    rng = np.random.default_rng(2)
    model = tv.DropoutMLP(5, (), 3, "none", rng=rng, dtype=np.float64)
    model.layers[0].params["b"][...] = rng.normal(size=3)  # a penalty on b would show
    objective = tv.VariationalDropout(model, n_train=10, l2=0.1)
    x, y = rng.normal(size=(8, 5)), rng.integers(0, 3, size=8)
    objective.zero_grad()
    objective.loss(x, labels=y)
    objective.backward()
    W, b = model.layers[0].params["W"], model.layers[0].params["b"]
    logits = x @ W + b
    pi = np.exp(logits - logits.max(1, keepdims=True))
    pi /= pi.sum(1, keepdims=True)
    residual = (pi - np.eye(3)[y]) / 8  # d(mean cross-entropy)/d logits
    np.testing.assert_allclose(model.layers[0].grads["W"], x.T @ residual + 0.1 * W, rtol=1e-12)
    np.testing.assert_allclose(model.layers[0].grads["b"], residual.sum(0), rtol=1e-12)


def test_l2_must_be_a_number_at_least_zero():
    model, _ = classifier("none")
    for bad, error in ((-0.1, ValueError), (float("nan"), ValueError), ("1", TypeError)):
        with pytest.raises(error, match="l2: "):
            tv.VariationalDropout(model, n_train=10, l2=bad)


def test_test_time_network_has_no_noise():
    for dropout in ("binary", "gaussian_B", "variational_A"):
        model, rng = classifier(dropout)
        x = rng.normal(size=(4, 5))
        assert np.array_equal(model.forward(x), model.forward(x))
        model.clear_cache()


def test_fit_trains_a_classifier_with_variational_dropout():
    rng = np.random.default_rng(3)
    centres = rng.normal(0, 2, size=(3, 5))
    y = rng.integers(0, 3, size=300)
    x = (centres[y] + rng.normal(size=(300, 5))).astype(np.float32)
    model = tv.DropoutMLP(5, (32,), 3, "variational_B", p=0.2, rng=rng)
    objective = tv.VariationalDropout(model, n_train=len(x))
    before = model.error(x, y)
    errors = []
    history = tv.fit(
        objective, tv.Adam(objective.parameters(), lr=1e-2), tv.Batches(x, y, batch_size=50),
        epochs=5, rng=rng, on_epoch=lambda epoch: {"error": model.error(x, y)}, progress=False,
    )  # fmt: skip
    errors = history.metrics["error"]
    assert errors[-1] < min(0.2, before)
    assert np.all(np.isfinite(history.train_loss))


def test_fit_asks_for_labels_and_refuses_a_test_set_without_them():
    model, rng = classifier("binary", dtype=np.float32)
    objective = tv.VariationalDropout(model, n_train=10)
    x = rng.normal(size=(10, 5)).astype(np.float32)
    opt = tv.Adam(objective.parameters())
    with pytest.raises(ValueError, match="labels: VariationalDropout trains a classifier"):
        tv.fit(objective, opt, x, epochs=1, rng=rng)
    with pytest.raises(TypeError, match="x_test: a classifier has no test loss"):
        tv.fit(objective, opt, tv.Batches(x, np.zeros(10, int)), x, epochs=1, rng=rng)
    with pytest.raises(ValueError, match="labels: expected integers 0..2"):
        tv.fit(objective, opt, tv.Batches(x, np.full(10, 3)), epochs=1, rng=rng)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"p": 1.0}, ValueError, "p: expected a finite number >= 0.0 and < 1.0"),
        ({"p": -0.1}, ValueError, "p:"),
        ({"dropout": "gaussian_A", "p": 0.0}, ValueError, "rate above 0"),
        ({"dropout": "variational_A", "granularity": "weight"}, ValueError, "granularity"),
        ({"dropout": "spike"}, ValueError, "dropout"),
    ],
)
def test_bad_model_arguments(kwargs, error, message):
    arguments = {"in_dim": 5, **kwargs}
    with pytest.raises(error, match=message):
        tv.DropoutMLP(**arguments)


def test_binary_dropout_rate_and_scaling():
    with pytest.raises(ValueError, match="p:"):
        BinaryDropout(1.0)
    layer = BinaryDropout(0.25)
    x, u = np.ones((2, 4)), np.array([[0.1, 0.3, 0.9, 0.25], [0.0, 0.5, 0.2, 0.8]])
    np.testing.assert_allclose(layer.forward(x, u), (u >= 0.25) / 0.75)
    dx, du = layer.backward(np.full((2, 4), 2.0))
    np.testing.assert_allclose(dx, 2.0 * (u >= 0.25) / 0.75)
    assert du is None


def test_loss_refuses_bad_labels_before_any_cache_changes():
    model, rng = classifier("variational_B")
    objective = tv.VariationalDropout(model, n_train=10)
    x = rng.normal(size=(4, 5))
    for labels, message in [
        (None, "labels"),
        (np.array([0, 1, 2]), "shape"),
        ([0.5] * 4, "integers"),
    ]:
        with pytest.raises((ValueError, TypeError), match=message):
            objective.loss(x, rng=rng, labels=labels)
        assert all(layer.cache is None for layer in model.layers)


@pytest.mark.parametrize("granularity", ["layer", "unit", "weight"])
@pytest.mark.parametrize("log_alpha", [80.0, -80.0])
def test_local_sampling_stays_finite_in_float32_at_extreme_rates(granularity, log_alpha):
    # alpha = e^80 makes the hidden units ~1e17 and (A * A) @ var overflow in float32,
    # although its square root, the standard deviation, does not. (With a second hidden
    # layer the units themselves would pass 1e34 and the logits float32's range.)
    rng = np.random.default_rng(0)
    model = tv.DropoutMLP(5, (7,), 3, "variational_B", granularity=granularity, rng=rng)
    for layer in model.rate_layers():
        layer.params["log_alpha"][...] = log_alpha
    objective = tv.VariationalDropout(model, n_train=20)
    x, y = rng.normal(size=(6, 5)).astype(np.float32), rng.integers(0, 3, size=6)
    assert_finite_step(objective, lambda: objective.loss(x, rng=rng, labels=y))


@pytest.mark.parametrize("dropout", ["variational_B", "binary", "none"])
def test_bound_is_minus_the_loss_per_example(dropout):
    model, rng = classifier(dropout)
    objective = tv.VariationalDropout(model, n_train=20, l2=0.1)
    x, y = rng.normal(size=(6, 5)), rng.integers(0, 3, size=6)
    eps = model.noise(6, rng)
    loss = objective.loss(x, eps=eps, labels=y)
    bound = objective.bound(x, eps=eps, labels=y)
    assert bound.shape == (6,)
    np.testing.assert_allclose(-bound.mean(), loss - objective.terms["l2_penalty"], rtol=1e-12)
    assert all(m.cache is None for _, m in model.modules())  # keeps nothing


def test_a_checkpoint_refuses_a_classifier_of_another_kind_or_rate(tmp_path):
    path = str(tmp_path / "mlp.npz")
    model = tv.DropoutMLP(5, (4,), 3, "variational_B", p=0.5, rng=np.random.default_rng(0))
    tv.save_checkpoint(path, model, tv.Adam(model.parameters()), np.random.default_rng(0), epoch=1)
    for kwargs, differs in (
        ({"dropout": "gaussian_B", "p": 0.5}, "dropout: 'variational_B' in the checkpoint, "
                                              "'gaussian_B' here"),
        ({"dropout": "variational_B", "p": 0.2}, "p: 0.5 in the checkpoint, 0.2 here"),
    ):  # fmt: skip
        other = tv.DropoutMLP(5, (4,), 3, rng=np.random.default_rng(1), **kwargs)
        before = {n: p.copy() for n, p, _ in other.parameters()}
        with pytest.raises(tv.CheckpointError, match=differs):
            tv.load_checkpoint(path, other)
        for name, param, _ in other.parameters():
            np.testing.assert_array_equal(param, before[name])


@pytest.mark.parametrize(
    "change, differs",
    [
        ({"l2": 0.01}, "l2: 'not set' in the checkpoint, 0.01 asked"),
        ({"kl_approximation": "molchanov"}, "kl_approximation: 'not set' in the checkpoint"),
        ({"p": 0.2}, "p: 0.5 in the checkpoint, 0.2 here"),
        ({"dropout": "variational_A"}, "dropout: 'variational_B' in the checkpoint"),
    ],
)
def test_fit_does_not_resume_a_run_of_other_settings(tmp_path, change, differs):
    path = str(tmp_path / "vd.npz")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(20, 5)).astype(np.float32), rng.integers(0, 3, size=20)
    data, quiet = tv.Batches(x, y), {"progress": False, "checkpoint": path}

    def run(dropout="variational_B", p=0.5, **objective_args):
        model = tv.DropoutMLP(5, (4,), 3, dropout, p=p, rng=np.random.default_rng(1))
        objective = tv.VariationalDropout(model, n_train=20, **objective_args)
        return model, objective, tv.Adam(model.parameters())

    model, objective, opt = run()
    tv.fit(objective, opt, data, epochs=1, rng=rng, **quiet)
    model, objective, opt = run(**change)
    before = {n: p.copy() for n, p, _ in model.parameters()}
    state = rng.bit_generator.state
    with pytest.raises(tv.CheckpointError, match=differs):
        tv.fit(objective, opt, data, epochs=2, rng=rng, resume=True, **quiet)
    assert rng.bit_generator.state == state
    for name, param, _ in model.parameters():
        np.testing.assert_array_equal(param, before[name])
