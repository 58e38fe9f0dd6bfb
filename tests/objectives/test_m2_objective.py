"""tinyvae.objectives.semi_supervised: M2's labelled and unlabelled bounds, M1+M2, doors."""

import numpy as np
import pytest
from helpers import TOL, seeds
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyvae as tv
from tinyvae.distributions.categorical import log_softmax
from tinyvae.distributions.kl import standard_normal_kl
from tinyvae.gradcheck import check_loss

K = 3  # classes of the small models


def small_m2(rng, likelihood="bernoulli", x_dim=6, z_dim=2, n_classes=K, hidden=(5,)):
    """A float64 M2 with N(0, 0.5^2) parameters."""
    model = tv.M2(x_dim, n_classes, hidden, z_dim, "tanh", likelihood, rng=rng, dtype=np.float64)
    for _, param, _ in model.parameters():
        param[...] = rng.normal(0, 0.5, param.shape)
    return model


def binary(rng, B, D=6):
    return (rng.random((B, D)) < 0.5).astype(np.float64)


def pi_of(model, x):
    return np.exp(log_softmax(model.classifier.logits(x)))


# -- gradient checks -------------------------------------------------------------------
@settings(max_examples=15, deadline=None)
@given(
    seed=seeds,
    labels=st.lists(st.integers(-1, K - 1), min_size=1, max_size=5),
    L=st.integers(1, 2),
    likelihood=st.sampled_from(["bernoulli", "gaussian"]),
)
def test_the_whole_objective_passes_a_gradient_check(seed, labels, L, likelihood):
    rng = np.random.default_rng(seed)
    model = small_m2(rng, likelihood)
    weight = rng.uniform(0.01, 2)  # the labelled rows' mean against the unlabelled rows'
    objective = tv.SemiSupervised(model, rng.uniform(0, 5), n_samples=L, labelled_weight=weight)
    labels = np.array(labels)
    x = binary(rng, len(labels)) if likelihood == "bernoulli" else rng.normal(size=(len(labels), 6))
    eps = rng.standard_normal((L, len(labels), 2))
    report = check_loss(objective, lambda: objective.loss(x, eps=eps, labels=labels), rng=rng)
    assert report.passed(TOL), str(report)


@pytest.mark.parametrize(
    "labels, alpha",
    [
        ([0, 2, 1, 2], 0.0),  # the labelled bound alone
        ([0, 2, 1, 2], 3.0),  # with the classification loss
        ([-1, -1, -1, -1], 1.0),  # the unlabelled bound alone
    ],
)
def test_each_bound_alone_passes_a_gradient_check(labels, alpha):
    rng = np.random.default_rng(11)
    model = small_m2(rng)
    objective = tv.SemiSupervised(model, alpha=alpha, n_samples=2)
    x, eps = binary(rng, 4), rng.standard_normal((2, 4, 2))
    labels = np.array(labels)
    report = check_loss(objective, lambda: objective.loss(x, eps=eps, labels=labels), rng=rng)
    assert report.passed(TOL), str(report)
    if alpha == 0.0:  # no gradient reaches the classifier
        objective.zero_grad()
        objective.loss(x, eps=eps, labels=labels)
        objective.backward()
        assert all(not grad.any() for _, _, grad in model.classifier.parameters())


@pytest.mark.parametrize("labels", [[0, 1, 2, 0], [-1, -1, -1, -1], [1, -1, 2, -1]])
def test_m1_plus_m2_passes_a_gradient_check(labels):
    """M1+M2: M2 on z1 ~ q(z1|x) of a fixed VAE; the same seed gives the same draws."""
    rng = np.random.default_rng(0)
    m1 = tv.VAE(6, hidden=(4,), z_dim=3, activation="tanh", rng=rng, dtype=np.float64)
    model = small_m2(rng, "gaussian", x_dim=3)
    objective = tv.SemiSupervised(model, alpha=1.5, n_samples=2, features=m1)
    x = binary(rng, 4)
    labels = np.array(labels)
    report = check_loss(
        objective, lambda: objective.loss(x, rng=np.random.default_rng(7), labels=labels)
    )
    assert report.passed(TOL), str(report)
    # M1 is not trained: its gradients stay zero and its parameters are not the objective's
    assert all(not grad.any() for _, _, grad in m1.parameters())
    names = {id(param) for _, param, _ in objective.parameters()}
    assert not names & {id(param) for _, param, _ in m1.parameters()}


def test_m1_plus_m2_on_some_units_of_z1_models_those_columns_only():
    """feature_units: M2 sees the chosen columns of the z1 that M1 draws, and of its mean."""
    rng = np.random.default_rng(4)
    m1 = tv.VAE(6, hidden=(4,), z_dim=5, activation="tanh", rng=rng, dtype=np.float64)
    model = small_m2(rng, "gaussian", x_dim=2)
    units = np.array([3, 1])  # any order; kept as sorted indices
    objective = tv.SemiSupervised(model, 1.5, n_samples=2, features=m1, feature_units=units)
    x, labels = binary(rng, 4), np.array([0, -1, 2, -1])
    report = check_loss(
        objective, lambda: objective.loss(x, rng=np.random.default_rng(7), labels=labels)
    )
    assert report.passed(TOL), str(report)
    # the same bound as M2 on the columns [1, 3] of z1 ~ q(z1|x), drawn with the same noise
    draws = np.random.default_rng(5)  # bound draws M2's noise first, then M1's
    eps = objective.noise(4, draws, None)
    eps1 = draws.standard_normal((4, 5))
    z1 = m1.posterior.sample(x, eps1)[0][:, [1, 3]]
    alone = tv.SemiSupervised(model, 1.5, n_samples=2)
    expected = alone.bound(z1, eps=eps, labels=labels)
    got = objective.bound(x, rng=np.random.default_rng(5), labels=labels)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    mean = m1.posterior.mean(x)[:, [1, 3]]
    np.testing.assert_array_equal(objective.predict(x), model.classifier.predict(mean))
    assert objective.settings()["feature_units"] == [1, 3]  # a resumed run must match
    assert "features=M1 (2 of its 5 units)" in repr(objective)


# -- the bounds by value ---------------------------------------------------------------
def test_the_labelled_bound_is_the_vae_bound_with_the_label_appended():
    """-L(x, y) = log p(x|y, z) + log p(y) - KL, computed here from the networks directly."""
    rng = np.random.default_rng(1)
    model = small_m2(rng)
    objective = tv.SemiSupervised(model, alpha=1.0)
    x, labels = binary(rng, 5), rng.integers(0, K, 5)
    eps = rng.standard_normal((5, 2))
    y = np.eye(K)[labels]
    first, *rest = model.encoder.layers  # the first layer written out on the rows [x, y]
    h = np.concatenate([x, y], axis=1) @ first.params["W"] + first.params["b"]
    for layer in rest:
        h = layer.forward(h)
    mu, logvar = h[:, :2], h[:, 2:]
    z = mu + np.exp(0.5 * logvar) * eps
    logits = model.decoder.forward(np.concatenate([z, y], axis=1))
    log_px = np.sum(x * logits - np.logaddexp(0, logits), axis=1)
    expected = log_px - np.log(K) - standard_normal_kl(mu, logvar)
    model.clear_cache()
    np.testing.assert_allclose(objective.bound(x, eps=eps, labels=labels), expected, rtol=1e-12)


def test_the_unlabelled_bound_is_the_q_weighted_sum_of_labelled_bounds_plus_entropy():
    rng = np.random.default_rng(2)
    model = small_m2(rng)
    objective = tv.SemiSupervised(model, alpha=1.0)
    x, eps = binary(rng, 4), rng.standard_normal((4, 2))
    # naively: one call per label, then the sum written out
    minus_L = np.stack([objective.bound(x, eps=eps, labels=np.full(4, k)) for k in range(K)], 1)
    pi = pi_of(model, x)
    expected = np.sum(pi * minus_L, axis=1) - np.sum(pi * np.log(pi), axis=1)
    np.testing.assert_allclose(objective.bound(x, eps=eps), expected, rtol=1e-12)


def test_a_one_hot_classifier_makes_the_unlabelled_bound_the_labelled_one():
    rng = np.random.default_rng(3)
    model = small_m2(rng)
    objective = tv.SemiSupervised(model, alpha=1.0)
    x, eps = binary(rng, 4), rng.standard_normal((4, 2))
    out = model.classifier.net.layers[-1]
    out.params["W"][...] = 0.0
    out.params["b"][...] = [0.0, 1000.0, 0.0]  # q(y|x) puts all its mass on y = 1
    unlabelled = objective.bound(x, eps=eps)
    np.testing.assert_allclose(unlabelled, objective.bound(x, eps=eps, labels=np.ones(4, int)))


def test_the_label_sum_is_one_stacked_batch_equal_to_separate_calls():
    """The K copies of an unlabelled batch go through the networks once, stacked."""
    rng = np.random.default_rng(4)
    model = small_m2(rng, n_classes=10)
    objective = tv.SemiSupervised(model, alpha=1.0)
    x, eps = binary(rng, 3), rng.standard_normal((3, 2))
    calls = []
    forward_labelled = objective.forward_labelled

    def spy(inputs, eps_rows):
        out = forward_labelled(inputs, eps_rows)
        calls.append(out)
        return out

    objective.forward_labelled = spy
    objective.loss(x, eps=eps)
    (stacked,) = calls  # one call for all 10 labels
    assert stacked.shape == (10 * 3,)
    objective.clear_cache()
    for k in range(10):
        separate = objective.bound(x, eps=eps, labels=np.full(3, k))
        np.testing.assert_allclose(stacked[k * 3 : (k + 1) * 3], separate, rtol=1e-12)


@pytest.mark.parametrize("weight", [1.0, 0.02])
def test_the_loss_weighs_the_three_terms_as_documented(weight):
    rng = np.random.default_rng(5)
    model = small_m2(rng)
    alpha = 2.5
    objective = tv.SemiSupervised(model, alpha=alpha, labelled_weight=weight)
    x, eps = binary(rng, 5), rng.standard_normal((5, 2))
    labels = np.array([2, -1, 0, -1, -1])
    loss = objective.loss(x, eps=eps, labels=labels)
    objective.clear_cache()
    bounds = objective.bound(x, eps=eps, labels=labels)
    log_q = log_softmax(model.classifier.logits(x[[0, 2]]))[[0, 1], [2, 0]]
    labelled = -bounds[[0, 2]].mean() - alpha * log_q.mean()
    expected = weight * labelled - bounds[[1, 3, 4]].mean()
    np.testing.assert_allclose(loss, expected, rtol=1e-12)
    assert set(objective.terms) == {"labelled", "classification", "unlabelled"}


def test_paper_alpha_and_labelled_weight():
    assert tv.paper_alpha(50_000, 100) == pytest.approx(50.0)
    with pytest.raises(ValueError, match="n_labelled"):
        tv.paper_alpha(50_000, 0)
    # eq. 9's sums weigh every example alike: 100 labelled rows against 49,900 unlabelled
    assert tv.paper_labelled_weight(100, 49_900) == pytest.approx(100 / 49_900)
    with pytest.raises(ValueError, match="n_unlabelled"):
        tv.paper_labelled_weight(100, 0)


# -- bad input: a clear error, nothing changed ------------------------------------------------
def snapshot(objective, rng):
    params = [param.copy() for _, param, _ in objective.parameters()]
    grads = [grad.copy() for _, _, grad in objective.parameters()]
    return params, grads, rng.bit_generator.state


@pytest.mark.parametrize(
    "labels, error, message",
    [
        (np.array([0, 1, 3, -1]), ValueError, r"labels: expected integers 0..2, or -1"),
        (np.array([0, 1, -2, -1]), ValueError, r"got values from -2 to 1"),
        (np.array([0.0, 1.0, 2.0, -1.0]), TypeError, "labels: expected integers"),
        (np.array([0, 1, 2]), ValueError, r"labels: expected shape \(4,\)"),
    ],
)
def test_bad_labels_change_nothing(labels, error, message):
    rng = np.random.default_rng(6)
    model = small_m2(rng)
    objective = tv.SemiSupervised(model, alpha=1.0)
    x = binary(rng, 4)
    good = np.array([0, -1, 2, -1])
    objective.loss(x, rng=rng, labels=good)  # a pending forward that must survive
    before = snapshot(objective, rng)
    with pytest.raises(error, match=message):
        objective.loss(x, rng=rng, labels=labels)
    after = snapshot(objective, rng)
    assert all(np.array_equal(a, b) for a, b in zip(before[0] + before[1], after[0] + after[1]))
    assert before[2] == after[2]  # no draw from the caller's rng
    objective.backward()  # the earlier forward is still whole


def test_a_forward_in_between_makes_backward_refuse():
    rng = np.random.default_rng(7)
    model = small_m2(rng)
    objective = tv.SemiSupervised(model, alpha=1.0)
    x = binary(rng, 4)
    objective.loss(x, rng=rng, labels=np.array([0, 1, 2, -1]))
    model.predict(x)  # runs the classifier, replacing its activations
    with pytest.raises(RuntimeError, match="another forward pass"):
        objective.backward()
    assert all(not grad.any() for _, _, grad in objective.parameters())
    with pytest.raises(RuntimeError, match="without a matching loss"):
        tv.SemiSupervised(model, alpha=1.0).backward()


def test_one_hot_rows_of_the_wrong_width_are_refused():
    rng = np.random.default_rng(8)
    model = small_m2(rng)
    x = binary(rng, 2)
    with pytest.raises(ValueError, match="y: expected one-hot rows of width 3"):
        model.encode(x, np.eye(4)[:2])
    with pytest.raises(ValueError, match="y: expected one-hot rows"):
        model.decode_mean(np.zeros((2, 2)), np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]]))
    with pytest.raises(ValueError, match="labels: expected integers 0..2"):
        model.sample_means(np.array([0, 5]), rng)


def test_bad_objective_arguments_are_refused():
    rng = np.random.default_rng(9)
    model = small_m2(rng, "gaussian", x_dim=3)
    with pytest.raises(ValueError, match="alpha: expected a finite number >= 0"):
        tv.SemiSupervised(model, alpha=-1.0)
    with pytest.raises(ValueError, match="labelled_weight: expected a finite number >= 0"):
        tv.SemiSupervised(model, 1.0, labelled_weight=float("nan"))
    with pytest.raises(ValueError, match="features: expected a trained VAE with z_dim=3"):
        tv.SemiSupervised(model, 1.0, features=tv.VAE(6, hidden=(4,), z_dim=5, rng=rng))
    wide = tv.VAE(6, hidden=(4,), z_dim=5, rng=rng, dtype=np.float64)
    for units, message in [
        ([0, 1], "feature_units: expected 3 integer indices"),
        ([0.0, 1.0, 2.0], "feature_units: expected 3 integer indices"),
        ([0, 1, 5], r"feature_units: expected distinct indices in 0..4 .* got \[0, 1, 5\]"),
        ([0, 1, 1], "feature_units: expected distinct indices"),
        ([-1, 1, 2], "feature_units: expected distinct indices"),
    ]:
        with pytest.raises(ValueError, match=message):
            tv.SemiSupervised(model, 1.0, features=wide, feature_units=units)
    with pytest.raises(
        ValueError, match=r"feature_units: expected 3 integer .* got \[\[0\], \[1, 2\]\]"
    ):
        tv.SemiSupervised(model, 1.0, features=wide, feature_units=[[0], [1, 2]])  # ragged
    narrow = tv.VAE(6, hidden=(4,), z_dim=2, rng=rng, dtype=np.float64)
    with pytest.raises(ValueError, match=r"z_dim=3 \(M2's x_dim\), got VAE\([^;]*$"):
        tv.SemiSupervised(model, 1.0, features=narrow)  # no hint to keep 3 of its 2 units
    with pytest.raises(ValueError, match="feature_units: only for M1\\+M2"):
        tv.SemiSupervised(model, 1.0, feature_units=[0, 1, 2])
    with pytest.raises(ValueError, match="features: expected a trained VAE \\(M1\\)"):
        tv.SemiSupervised(model, 1.0, features="m1", feature_units=[0, 1, 2])
    m1 = tv.VAE(6, hidden=(4,), z_dim=3, rng=rng, dtype=np.float64)
    objective = tv.SemiSupervised(model, 1.0, features=m1)
    with pytest.raises(ValueError, match="rng: M1\\+M2 draws z1"):
        objective.loss(binary(rng, 2), eps=np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"x: Bernoulli data must lie in \[0, 1\]"):
        objective.loss(rng.normal(size=(2, 6)), rng=rng)  # M1 is Bernoulli: binary images


# -- a trained model -------------------------------------------------------------------------
def test_the_model_helpers_have_the_documented_shapes(tmp_path):
    rng = np.random.default_rng(10)
    model = tv.M2(6, n_classes=4, hidden=(5,), z_dim=2, rng=rng)
    x = binary(rng, 3).astype(np.float32)
    assert model.analogies(x, np.array([0, 1, 3])).shape == (3, 4, 6)
    assert model.sample_means(np.array([0, 1, 2, 3, 3]), rng).shape == (5, 6)
    assert model.predict(x).shape == (3,)
    assert 0.0 <= model.error(x, np.array([0, 1, 2])) <= 1.0
    assert "M2(x_dim=6, n_classes=4" in repr(model)
    path = tmp_path / "m2.npz"
    tv.save_checkpoint(path, model)
    copy = tv.M2(6, n_classes=4, hidden=(5,), z_dim=2, rng=np.random.default_rng(99))
    tv.load_checkpoint(path, copy)
    np.testing.assert_array_equal(copy.predict(x), model.predict(x))


def test_the_labelled_weight_is_a_setting_only_when_it_is_not_the_default():
    # a checkpoint of 0.2, written before labelled_weight existed, resumes with the default
    model = small_m2(np.random.default_rng(3))
    assert "labelled_weight" not in tv.SemiSupervised(model, 1.0).settings()
    assert tv.SemiSupervised(model, 1.0, labelled_weight=0.5).settings()["labelled_weight"] == 0.5
