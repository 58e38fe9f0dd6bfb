"""tinyvae.models.hierarchical: two stochastic layers through the VAE's public parts."""

import numpy as np
import pytest
from helpers import TOL

import tinyvae as tv
from tinyvae.distributions.gaussian import LOG_2PI
from tinyvae.gradcheck import check_loss, check_module
from tinyvae.models.hierarchical import HierarchicalVAE


def small_model(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return HierarchicalVAE(8, (6,), 4, (5,), 3, rng=rng, dtype=dtype), rng


def binary(rng, shape):
    return (rng.uniform(size=shape) < 0.5).astype(np.float64)


@pytest.mark.parametrize(
    "estimator, L", [("A", 1), ("A", 3), ("iwae", 4), ("B_top", 1), ("B_top", 3)]
)
def test_objectives_through_both_layers(estimator, L):
    model, rng = small_model()
    x, eps = binary(rng, (5, 8)), rng.normal(size=(L, 5, 7))
    report = check_loss(model, lambda: model.loss(x, eps=eps, estimator=estimator), rng=rng)
    assert report.passed(TOL), str(report)
    names = {row["name"] for row in report.rows}
    assert {"encoder2.layers.0.W", "prior_network.layers.2.b"} <= names
    assert any(name.startswith("decoder.layers.1.") for name in names)


def test_posterior_and_prior_backward():
    model, rng = small_model(1)
    x, eps = binary(rng, (5, 8)), rng.normal(size=(2, 5, 7))
    report = check_module(model.posterior, x, eps, constant=(0, 1), rng=rng)
    assert report.passed(TOL), str(report)
    report = check_module(model.prior, rng.normal(size=(2, 5, 7)), rng=rng)
    assert report.passed(TOL), str(report)


def gaussian_log_density(z, mu, logvar):
    return -0.5 * np.sum(LOG_2PI + logvar + (z - mu) ** 2 / np.exp(logvar), axis=-1)


def test_log_weight_by_hand():
    """log w = log p(x|z1) + log p(z1|z2) + log p(z2) - log q(z1|x) - log q(z2|z1), term by term."""
    model, rng = small_model(2)
    x, eps = binary(rng, (3, 8)), rng.normal(size=(3, 7))
    h1 = model.encoder.forward(x)
    mu1, logvar1 = h1[:, :4], h1[:, 4:]
    z1 = mu1 + np.exp(0.5 * logvar1) * eps[:, :4]
    h2 = model.encoder2.forward(z1)
    mu2, logvar2 = h2[:, :3], h2[:, 3:]
    z2 = mu2 + np.exp(0.5 * logvar2) * eps[:, 4:]
    hp = model.prior_network.forward(z2)
    logits = model.decoder.layers[1].forward(z1)
    model.clear_cache()
    log_px = np.sum(x * logits - np.logaddexp(0, logits), axis=1)
    log_p = gaussian_log_density(z1, hp[:, :4], hp[:, 4:]) + gaussian_log_density(z2, 0, 0)
    log_q = gaussian_log_density(z1, mu1, logvar1) + gaussian_log_density(z2, mu2, logvar2)
    expected = log_px + log_p - log_q
    np.testing.assert_allclose(model.elbo(x, eps=eps), expected, rtol=1e-10)
    z, model_log_q = model.posterior.sample(x, eps)
    np.testing.assert_allclose(z, np.concatenate([z1, z2], axis=1))
    np.testing.assert_allclose(model_log_q, log_q, rtol=1e-10)


def test_evaluation_and_sampling_keep_no_cache():
    model, rng = small_model(3)
    x = binary(rng, (6, 8))
    assert np.isfinite(tv.log_likelihood(model, x, k=20, rng=rng)).all()
    count, variances = tv.active_units(model, x)
    assert variances.shape == (7,)
    assert model.sample_means(4, rng).shape == (4, 8)
    assert model.reconstruct(x, rng).shape == (6, 8)
    assert all(module.cache is None for _, module in model.modules())


def test_iwae_bound_is_at_least_the_elbo_on_average():
    model, rng = small_model(4)
    x = binary(rng, (50, 8))
    elbo = model.elbo(x, rng=rng, n_samples=50).mean()
    iwae = model.elbo(x, rng=rng, n_samples=50, estimator="iwae").mean()
    assert iwae > elbo


def test_top_kl_estimator_is_the_same_elbo_with_less_noise():
    """B_top takes E over z2 of log p(z2) - log q(z2|z1) exactly: same mean, smaller spread."""
    model, rng = small_model(6)
    x = np.repeat(binary(rng, (4, 8)), 4000, axis=0)  # 4000 draws for each of 4 images
    a = model.elbo(x, rng=rng, estimator="A").reshape(4, 4000)
    b = model.elbo(x, rng=rng, estimator="B_top").reshape(4, 4000)
    stderr = np.sqrt((a.var(axis=1) + b.var(axis=1)) / 4000)
    assert np.all(np.abs(a.mean(axis=1) - b.mean(axis=1)) < 4 * stderr)
    assert np.all(b.std(axis=1) < a.std(axis=1))


def test_top_kl_forward_keeps_the_shape_of_eps():
    model, rng = small_model(8)
    x = binary(rng, (3, 8))
    z, log_q1, kl2 = model.posterior.forward_top_kl(x, rng.normal(size=(3, 7)))
    assert z.shape == (3, 7) and log_q1.shape == (3,) and kl2.shape == (3,)
    model.posterior.backward_top_kl(np.ones((3, 7)), np.ones(3), np.ones(3))


def test_top_kl_estimator_needs_two_layers():
    with pytest.raises(TypeError, match="two stochastic layers"):
        tv.SGVB_B_Top(tv.VAE(8))


def test_posterior_phases_do_not_mix():
    model, rng = small_model(7)
    x, eps = binary(rng, (3, 8)), rng.normal(size=(1, 3, 7))
    z, _ = model.posterior.forward(x, eps)
    with pytest.raises(RuntimeError, match="forward_top_kl"):
        model.posterior.backward_top_kl(z, np.zeros((1, 3)), np.zeros((1, 3)))
    model.clear_cache()
    z, _, _ = model.posterior.forward_top_kl(x, eps)
    with pytest.raises(
        RuntimeError,
        match=r"last forward pass was forward_top_kl\(\), so this backward, the one of forward\(\)",
    ):
        model.posterior.backward(z, np.zeros((1, 3)))


def test_estimators_that_need_a_closed_form_kl_or_a_density_refuse():
    model, _ = small_model()
    with pytest.raises(TypeError, match="closed-form KL"):
        tv.SGVB_B(model)
    with pytest.raises(TypeError, match="log_prob"):
        tv.ScoreFunction(model)
    with pytest.raises(ValueError, match="estimator: 'B'"):
        HierarchicalVAE(8, estimator="B")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"z1_dim": 0}, "z1_dim"),
        ({"hidden2": (0,)}, "hidden2"),
        ({"activation": "swish"}, "activation"),
        ({"estimator": "C"}, "estimator"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        HierarchicalVAE(8, **kwargs)


def test_trains_and_checkpoints(tmp_path):
    rng = np.random.default_rng(5)
    x = (rng.uniform(size=(40, 8)) < 0.5).astype(np.float32)
    model = HierarchicalVAE(8, (6,), 4, (5,), 3, rng=rng)
    data = tv.Batches(x, batch_size=10)
    history = tv.fit(model, tv.Adam(model.parameters()), data, epochs=2, rng=rng, progress=False)
    assert np.isfinite(history.train_loss).all()
    tv.save_checkpoint(tmp_path / "h.npz", model)
    again = HierarchicalVAE(8, (6,), 4, (5,), 3, rng=np.random.default_rng(9))
    tv.load_checkpoint(tmp_path / "h.npz", again)
    eps = np.zeros((40, 7), np.float32)
    np.testing.assert_array_equal(again.elbo(x, eps=eps), model.elbo(x, eps=eps))
    with pytest.raises(tv.CheckpointError):
        tv.load_checkpoint(tmp_path / "h.npz", HierarchicalVAE(8, (6,), 4, (5,), 2))
    with pytest.raises(tv.CheckpointError):
        tv.load_checkpoint(tmp_path / "h.npz", tv.VAE(8, (6,), z_dim=7))
