"""One protocol shape: forward/backward and forward_X/backward_X; log_prob keeps nothing;
tinyvae 0.2's names still work and warn."""

import numpy as np
import pytest

import tinyvae as tv


def small():
    rng = np.random.default_rng(0)
    model = tv.VAE(5, (4,), 2, activation="tanh", rng=rng, dtype=np.float64)
    x = (rng.uniform(size=(3, 5)) > 0.5).astype(np.float64)
    return model, x, rng


def test_a_posteriors_log_prob_keeps_nothing_and_forward_log_prob_pairs_with_its_backward():
    model, x, rng = small()
    z = rng.normal(size=(3, 2))
    log_q = model.posterior.log_prob(z, x)
    assert all(module.cache is None for _, module in model.posterior.modules())
    with pytest.raises(RuntimeError, match=r"without a matching forward_log_prob\(\)"):
        model.posterior.backward_log_prob(np.ones(3))
    np.testing.assert_array_equal(model.posterior.forward_log_prob(z, x), log_q)
    dz, dx = model.posterior.backward_log_prob(np.ones(3))
    assert dz.shape == z.shape and dx is None


def test_the_0_2_names_warn_and_do_the_same():
    model, x, rng = small()
    ws = tv.WakeSleep(model)
    with pytest.warns(
        DeprecationWarning, match=r"wake_loss\(\) is tinyvae 0.2's name; use loss_wake"
    ):
        old = ws.wake_loss(x, rng=np.random.default_rng(1))
    assert old == ws.loss_wake(x, rng=np.random.default_rng(1))
    with pytest.warns(DeprecationWarning, match="backward_wake"):
        ws.wake_backward()
    z = rng.normal(size=(3, 2))
    model.posterior.forward_log_prob(z, x)
    with pytest.warns(DeprecationWarning, match="backward_log_prob"):
        model.posterior.log_prob_backward(np.ones(3))


def test_a_0_2_module_with_its_own_cache_still_trains_and_warns():
    class Square(tv.Module):
        def forward(self, x):
            self.cache = x
            return x * x

        def backward(self, dy):
            return dy * 2 * self._pop_cache()

    layer = Square()
    layer.forward(np.arange(3.0))
    with pytest.warns(DeprecationWarning, match=r"self.save\(...\)"):
        np.testing.assert_array_equal(layer.backward(np.ones(3)), [0.0, 2.0, 4.0])


def test_take_refuses_without_consuming_and_names_both_phases():
    model, x, rng = small()
    eps = rng.normal(size=(1, 3, 2))
    model.posterior.forward(x, eps)
    record = model.posterior.cache
    with pytest.raises(RuntimeError, match=r"last forward pass was forward\(\), so this backward, "
                       r"the one of forward_kl\(\), cannot use it"):  # fmt: skip
        model.posterior.backward_kl(np.ones((1, 3, 2)), np.ones(3))
    assert model.posterior.cache is record  # a refusal changes nothing
    model.posterior.backward(np.ones((1, 3, 2)), np.ones((1, 3)))
    assert model.posterior.cache is None


def test_sample_means_says_what_it_returns_and_the_0_2_sample_warns():
    model, _, _ = small()
    means = model.sample_means(4, np.random.default_rng(3))
    assert means.shape == (4, 5) and ((means > 0) & (means < 1)).all()  # probabilities
    with pytest.warns(DeprecationWarning, match="sample_means"):
        old = model.sample(4, np.random.default_rng(3))
    np.testing.assert_array_equal(old, means)


def test_the_models_share_one_base_and_say_which_estimators_their_posterior_serves():
    from tinyvae.models.latent import AutoEncodingModel, LatentVariableModel

    assert issubclass(tv.VAE, AutoEncodingModel) and issubclass(
        tv.HierarchicalVAE, AutoEncodingModel
    )
    assert issubclass(tv.M2, LatentVariableModel) and not issubclass(tv.M2, AutoEncodingModel)
    message = (
        r"'B' needs a posterior with forward_kl\(\), which IAFPosterior does not have; "
        r"expected one of \['A', 'sgvb_a', 'iwae'\]"
    )
    with pytest.raises(ValueError, match=message):
        tv.VAE(4, (3,), 2, iaf_steps=1, estimator="B", rng=np.random.default_rng(0))
    assert tv.HierarchicalVAE(4, (3,), 2, (3,), 2, rng=np.random.default_rng(0)).estimator == "A"


def test_every_dropout_layer_takes_its_noise_and_returns_dx_and_none():
    """Binary dropout sits on its linear layer like the Gaussian kinds: forward(h, eps),
    backward -> (dh, None), so the network treats every kind alike."""
    from tinyvae.gradcheck import check_module
    from tinyvae.nn.dropout import DropoutLinear

    rng = np.random.default_rng(0)
    layer = DropoutLinear(4, 3, p=0.25, rng=rng, dtype=np.float64)
    A, u = rng.normal(size=(5, 4)), rng.uniform(size=layer.noise_shape(5))
    report = check_module(layer, A, u, constant=[1])
    assert report.passed(1e-6), str(report)
    for dropout in ("none", "binary", "gaussian_A", "variational_B"):
        model = tv.DropoutMLP(4, (3,), 2, dropout=dropout, rng=np.random.default_rng(1))
        model.forward(np.ones((2, 4), np.float32), model.noise(2, np.random.default_rng(2)))
        assert model.backward(np.ones((2, 2), np.float32)).shape == (2, 4)
