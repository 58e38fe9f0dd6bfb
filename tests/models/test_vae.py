"""tinyvae.models.vae: the VAE's public behaviour and its whole backward pass.

Shapes, determinism, the bound, clear errors, and the gradient of the loss
through every estimator against finite differences.
"""

import numpy as np
import pytest
from helpers import TOL, batch, dim, random_vae, seeds, smallest_relu_input
from hypothesis import assume, example, given
from hypothesis import strategies as st

import tinyvae as tv
from tinyvae.gradcheck import check_loss


@pytest.fixture
def model():
    return tv.VAE(x_dim=12, hidden=(8,), z_dim=3, rng=np.random.default_rng(0))


@pytest.fixture
def x():
    return np.random.default_rng(1).uniform(size=(5, 12)).astype(np.float32)


def test_loss_with_explicit_noise_is_deterministic(model, x):
    eps = np.random.default_rng(2).standard_normal((5, 3), dtype=np.float32)
    assert model.loss(x, eps=eps) == model.loss(x, eps=eps)


def test_same_seed_same_loss_different_seed_different_loss(model, x):
    a = model.loss(x, rng=np.random.default_rng(3))
    b = model.loss(x, rng=np.random.default_rng(3))
    c = model.loss(x, rng=np.random.default_rng(4))
    assert a == b and a != c


def test_loss_is_minus_the_mean_elbo_for_the_same_draw(model, x):
    eps = np.random.default_rng(2).standard_normal((3, 5, 3), dtype=np.float32)
    elbo = model.elbo(x, eps=eps)
    assert elbo.shape == (5,) and elbo.dtype == np.float32
    assert model.loss(x, eps=eps) == pytest.approx(-elbo.mean(), rel=1e-6)


def test_elbo_is_reconstruction_minus_kl(model, x):
    """Rebuild estimator B from the public pieces and compare."""
    eps = np.random.default_rng(2).standard_normal((5, 3), dtype=np.float32)
    mu, logvar = model.encode(x)
    z = mu + np.exp(0.5 * logvar) * eps
    logits = model.decode(z)
    log_px = np.sum(x * logits - tv.softplus(logits), axis=1)
    kl = 0.5 * np.sum(np.exp(logvar) + mu**2 - 1 - logvar, axis=1)
    np.testing.assert_allclose(model.elbo(x, eps=eps), log_px - kl, rtol=1e-5)


def test_chunked_evaluation_equals_one_pass(model):
    x = (np.random.default_rng(5).uniform(size=(7, 12)) > 0.5).astype(np.float32)
    eps = np.random.default_rng(6).standard_normal((2, 7, 3), dtype=np.float32)
    np.testing.assert_allclose(
        model.elbo(x, eps=eps), model.elbo(x, eps=eps, batch_size=3), rtol=1e-6
    )


def test_more_samples_average_out_the_noise(model, x):
    """With L samples the spread of the estimate over seeds shrinks."""
    one = [model.loss(x, rng=np.random.default_rng(s), n_samples=1) for s in range(40)]
    many = [model.loss(x, rng=np.random.default_rng(s), n_samples=16) for s in range(40)]
    assert np.std(many) < 0.5 * np.std(one)


def test_backward_accumulates_until_zero_grad(model, x):
    eps = np.zeros((5, 3), dtype=np.float32)
    model.loss(x, eps=eps)
    model.backward()
    once = {name: grad.copy() for name, _, grad in model.parameters()}
    model.loss(x, eps=eps)
    model.backward()
    for name, _, grad in model.parameters():
        np.testing.assert_allclose(grad, 2 * once[name], rtol=1e-5, atol=1e-7)
    model.zero_grad()
    assert all(not grad.any() for _, _, grad in model.parameters())


def test_backward_needs_a_fresh_loss(model, x):
    with pytest.raises(RuntimeError, match="forward"):
        model.backward()
    model.loss(x, rng=np.random.default_rng(0))
    model.backward()
    with pytest.raises(RuntimeError, match="forward"):
        model.backward()  # the cache was consumed
    model.elbo(x, rng=np.random.default_rng(0))
    with pytest.raises(RuntimeError, match="forward"):
        model.backward()  # evaluation leaves nothing to backpropagate


def test_evaluation_between_loss_and_backward_is_caught(model, x):
    """encode/decode/reconstruct would overwrite the activations backward needs."""
    rng = np.random.default_rng(0)
    for use in (
        lambda: model.encode(x),
        lambda: model.decode(np.zeros((2, 3), np.float32)),
        lambda: model.reconstruct(x, rng),
        lambda: model.sample_means(2, rng),
    ):
        model.loss(x, rng=rng)
        use()
        with pytest.raises(RuntimeError, match="forward"):
            model.backward()


def test_public_helpers_validate_their_input(model, x):
    with pytest.raises(ValueError, match="last axis of size 3"):
        model.decode_mean(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"n: expected an integer >= 1, got -1"):
        model.sample_means(-1, np.random.default_rng(0))
    with pytest.raises(TypeError, match="Generator"):
        model.reconstruct(x, rng=0)


def test_parameters_have_qualified_names_and_float32(model):
    names = [name for name, _, _ in model.parameters()]
    assert names == [
        "encoder.layers.0.W",
        "encoder.layers.0.b",
        "encoder.layers.2.W",
        "encoder.layers.2.b",
        "decoder.layers.0.W",
        "decoder.layers.0.b",
        "decoder.layers.2.W",
        "decoder.layers.2.b",
    ]
    assert model.encoder.layers[2].params["W"].shape == (8, 6)  # to (mu, logvar)
    assert all(param.dtype == np.float32 for _, param, _ in model.parameters())
    assert model.num_parameters() == 12 * 8 + 8 + 8 * 6 + 6 + 3 * 8 + 8 + 8 * 12 + 12


def test_astype_float64_gives_the_same_loss_in_higher_precision(model, x):
    eps = np.random.default_rng(2).standard_normal((5, 3), dtype=np.float32)
    loss32 = model.loss(x, eps=eps)
    model.astype(np.float64)
    loss64 = model.loss(x.astype(np.float64), eps=eps.astype(np.float64))
    assert loss64 == pytest.approx(loss32, rel=1e-5)
    assert all(param.dtype == np.float64 for _, param, _ in model.parameters())


def test_samples_and_reconstructions_are_probabilities(model, x):
    rng = np.random.default_rng(0)
    for images in (model.sample_means(4, rng), model.reconstruct(x, rng)):
        assert images.dtype == np.float32
        assert np.all((images >= 0) & (images <= 1))
    assert model.sample_means(4, rng).shape == (4, 12)


@pytest.mark.parametrize(
    "bad, error, message",
    [
        (np.zeros((5, 11), np.float32), ValueError, "last axis of size 12"),
        (np.zeros(12, np.float32), ValueError, "expected 2 axes"),
        (np.zeros((5, 12), np.float64), TypeError, "expected dtype float32"),
        (np.zeros((5, 12), np.uint8), TypeError, "floating-point"),
        (np.full((5, 12), np.nan, np.float32), ValueError, "NaN"),
        (np.full((5, 12), 255, np.float32), ValueError, r"\[0, 1\]"),
        (np.zeros((0, 12), np.float32), ValueError, "at least one example"),
        ([[0.0] * 12], TypeError, "NumPy array"),
    ],
)
def test_bad_input_gets_a_clear_error_before_any_state_changes(model, x, bad, error, message):
    model.loss(x, rng=np.random.default_rng(0))
    model.backward()
    expected = {name: grad.copy() for name, _, grad in model.parameters()}
    model.zero_grad()

    model.loss(x, rng=np.random.default_rng(0))  # leaves a valid cache
    with pytest.raises(error, match=message):
        model.loss(bad, rng=np.random.default_rng(0))
    model.backward()  # must still be the good call's
    for name, _, grad in model.parameters():
        np.testing.assert_array_equal(grad, expected[name])


def test_bad_noise_is_rejected(model, x):
    with pytest.raises(ValueError, match=r"eps: expected shape \(5, 3\)"):
        model.loss(x, eps=np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError, match="rng"):
        model.loss(x)
    with pytest.raises(TypeError, match="Generator"):
        model.loss(x, rng=0)


def test_bad_constructor_arguments_are_rejected():
    with pytest.raises(ValueError, match="likelihood"):
        tv.VAE(4, likelihood="poisson")
    with pytest.raises(ValueError, match="activation"):
        tv.VAE(4, activation="swish")
    with pytest.raises(ValueError, match="init"):
        tv.VAE(4, init="orthogonal")


def test_gaussian_decoder_for_continuous_data():
    rng = np.random.default_rng(0)
    model = tv.VAE(x_dim=6, hidden=(5,), z_dim=2, likelihood="gaussian", rng=rng)
    x = rng.normal(size=(4, 6)).astype(np.float32)  # any real values are allowed
    loss = model.loss(x, rng=rng)
    assert np.isfinite(loss)
    assert model.decoder.layers[-1].params["W"].shape == (5, 12)  # mu_x and logvar_x
    assert model.sample_means(3, rng).shape == (3, 6)


@pytest.mark.parametrize("estimator", ["B", "A", "iwae"])
@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian", "gaussian_bounded"])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
@given(B=batch, L=st.integers(1, 3), hidden=st.lists(dim, max_size=2), seed=seeds)
# gradients of ~1e-6 whose finite differences are mostly round-off (see gradcheck.rel_error)
@example(B=3, L=2, hidden=[1, 1], seed=263)
def test_whole_vae_loss_backward(estimator, likelihood, activation, B, L, hidden, seed):
    rng = np.random.default_rng(seed)
    model = random_vae(likelihood, hidden, rng, activation)
    x = rng.uniform(size=(B, 5))
    eps = rng.normal(size=(L, B, 2))
    # a finite difference that steps across a ReLU kink measures no derivative
    assume(activation != "relu" or smallest_relu_input(model, x, eps) > 1e-3)
    report = check_loss(model, lambda: model.loss(x, eps=eps, estimator=estimator), rng=rng)
    assert report.passed(TOL), str(report)
    assert len(report.rows) == len(list(model.parameters()))
