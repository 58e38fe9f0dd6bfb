"""tinyvae.objectives.wake_sleep: the wake and sleep phases, and wake-sleep training.

Each phase's gradient is checked against finite differences, on its own network only.
"""

import numpy as np
import pytest
from helpers import prototype_data, random_vae, smallest_relu_input
from hypothesis import assume, given
from hypothesis import strategies as st

import tinyvae as tv
from tinyvae.gradcheck import check_loss
from tinyvae.objectives import WakeSleep
from tinyvae.train import evaluate

TOL = 1e-6
LIKELIHOODS = ["bernoulli", "gaussian", "gaussian_bounded"]
batch = st.integers(1, 5)
dim = st.integers(1, 4)
seeds = st.integers(0, 2**32 - 1)


class Phase:
    """What check_loss sees of one phase: the network it trains and its backward."""

    def __init__(self, wake_sleep, network, prefix, backward):
        self.wake_sleep, self.network, self.prefix = wake_sleep, network, prefix
        self.backward = backward

    def parameters(self):
        return self.network.parameters(self.prefix)

    def clear_cache(self):
        self.wake_sleep.clear_cache()


@pytest.mark.parametrize("likelihood", LIKELIHOODS)
@pytest.mark.parametrize("activation", ["relu", "tanh"])
@given(B=batch, L=st.integers(1, 2), hidden=st.lists(dim, max_size=2), seed=seeds)
def test_wake_gradient_of_the_decoder(likelihood, activation, B, L, hidden, seed):
    rng = np.random.default_rng(seed)
    vae = random_vae(likelihood, hidden, rng, activation)
    ws = WakeSleep(vae)
    x, eps = rng.uniform(size=(B, 5)), rng.normal(size=(L, B, 2))
    # a finite difference that steps across a ReLU kink measures no derivative
    assume(activation != "relu" or smallest_relu_input(vae, x, eps) > 1e-3)
    phase = Phase(ws, vae.decoder, "decoder.", ws.backward_wake)
    report = check_loss(phase, lambda: ws.loss_wake(x, eps=eps), rng=rng)
    assert report.passed(TOL), str(report)
    assert len(report.rows) == len(list(vae.decoder.parameters()))


@pytest.mark.parametrize("likelihood", LIKELIHOODS)
@pytest.mark.parametrize("activation", ["relu", "tanh"])
@given(n=batch, hidden=st.lists(dim, max_size=2), seed=seeds)
def test_sleep_gradient_of_the_encoder(likelihood, activation, n, hidden, seed):
    rng = np.random.default_rng(seed)
    vae = random_vae(likelihood, hidden, rng, activation)
    ws = WakeSleep(vae)
    z, x = ws.dream(n, rng)  # a fixed dream: the loss is deterministic
    assume(activation != "relu" or smallest_relu_input(vae, x, np.zeros_like(z)) > 1e-3)
    phase = Phase(ws, vae.encoder, "encoder.", ws.backward_sleep)
    report = check_loss(phase, lambda: ws.loss_sleep(n, z=z, x=x), rng=rng)
    assert report.passed(TOL), str(report)
    assert len(report.rows) == len(list(vae.encoder.parameters()))


def test_sleep_loss_is_minus_the_gaussian_log_density_of_the_dream():
    rng = np.random.default_rng(0)
    vae = random_vae("bernoulli", (3,), rng)
    ws = WakeSleep(vae)
    z, x = ws.dream(4, rng)
    assert set(np.unique(x)) <= {0.0, 1.0}
    mu, logvar = vae.encode(x)
    log_q = -0.5 * np.sum(np.log(2 * np.pi) + logvar + (z - mu) ** 2 / np.exp(logvar), axis=1)
    assert ws.loss_sleep(4, z=z, x=x) == pytest.approx(-log_q.mean(), rel=1e-12)


def test_wake_loss_is_the_reconstruction_term_of_the_elbo():
    rng = np.random.default_rng(0)
    vae = random_vae("gaussian", (3,), rng)
    ws = WakeSleep(vae)
    x, eps = rng.uniform(size=(6, 5)), rng.normal(size=(6, 2))
    wake = ws.loss_wake(x, eps=eps)
    mu, logvar = vae.encode(x)
    kl = 0.5 * np.sum(np.exp(logvar) + mu**2 - 1 - logvar, axis=1)
    # estimator B = log p(x|z) - KL at the same z
    assert -wake - kl.mean() == pytest.approx(vae.elbo(x, eps=eps).mean(), rel=1e-12)
    assert ws.wake_elbo == pytest.approx(vae.elbo(x, eps=eps).mean(), rel=1e-12)


@pytest.mark.parametrize("likelihood", LIKELIHOODS)
def test_each_phase_touches_only_its_own_network(likelihood):
    rng = np.random.default_rng(1)
    vae = random_vae(likelihood, (4,), rng)
    ws = WakeSleep(vae)

    def grads(network):
        return [grad.copy() for _, _, grad in network.parameters()]

    vae.zero_grad()
    ws.loss_wake(rng.uniform(size=(3, 5)), rng=rng)
    ws.backward_wake()
    assert all(not g.any() for g in grads(vae.encoder))
    assert all(g.any() for g in grads(vae.decoder))

    vae.zero_grad()
    ws.loss_sleep(3, rng=rng)
    ws.backward_sleep()
    assert all(not g.any() for g in grads(vae.decoder))
    assert all(g.any() for g in grads(vae.encoder))


def test_step_updates_both_networks_and_returns_both_losses():
    rng = np.random.default_rng(2)
    vae = tv.VAE(x_dim=5, hidden=(4,), z_dim=2, rng=rng)
    ws = WakeSleep(vae)
    before = vae.state_dict()
    wake, sleep = ws.step(
        rng.uniform(size=(3, 5)).astype(np.float32), tv.Adam(vae.parameters(), lr=1e-2), rng
    )
    assert np.isfinite(wake) and np.isfinite(sleep)
    changed = {
        name for name, value in vae.state_dict().items() if not np.array_equal(value, before[name])
    }
    assert changed == set(before)
    assert all(value.dtype == np.float32 for value in vae.state_dict().values())


def test_backward_without_its_forward_raises():
    rng = np.random.default_rng(0)
    vae = random_vae("bernoulli", (3,), rng)
    ws = WakeSleep(vae)
    x = rng.uniform(size=(2, 5))
    with pytest.raises(RuntimeError, match=r"loss_wake\(\) first"):
        ws.backward_wake()
    with pytest.raises(RuntimeError, match=r"loss_sleep\(\) first"):
        ws.backward_sleep()

    ws.loss_wake(x, rng=rng)  # a wake forward is not a sleep forward
    with pytest.raises(RuntimeError, match=r"last forward pass was loss_wake"):
        ws.backward_sleep()
    ws.loss_sleep(2, rng=rng)  # and a sleep forward replaces a wake forward
    with pytest.raises(RuntimeError, match=r"last forward pass was loss_sleep"):
        ws.backward_wake()
    ws.backward_sleep()
    with pytest.raises(RuntimeError, match="loss_sleep"):
        ws.backward_sleep()  # one backward per forward

    ws.loss_wake(x, rng=rng)
    vae.loss(x, rng=rng)  # overwrites the decoder's activations
    with pytest.raises(
        RuntimeError, match=r"model.loss\(\).*activations of its BernoulliLikelihood"
    ):
        ws.backward_wake()
    ws.loss_wake(x, rng=rng)
    vae.elbo(x, rng=rng)  # clears them
    with pytest.raises(RuntimeError, match="forward"):
        ws.backward_wake()
    ws.loss_sleep(2, rng=rng)
    with pytest.raises(RuntimeError, match="forward"):
        vae.backward()  # the VAE's own loss was not computed


def test_bad_input_raises_a_clear_error_and_changes_nothing():
    rng = np.random.default_rng(0)
    vae = random_vae("bernoulli", (3,), rng)
    ws = WakeSleep(vae)
    x = rng.uniform(size=(2, 5))
    ws.loss_wake(x, rng=rng)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ws.loss_wake(x + 1.0, rng=rng)
    with pytest.raises(ValueError, match="last axis of size 5"):
        ws.loss_wake(x[:, :4], rng=rng)
    with pytest.raises(TypeError, match="float64"):
        ws.loss_wake(x.astype(np.float32), rng=rng)
    with pytest.raises(ValueError, match="NaN"):
        ws.loss_wake(np.full((2, 5), np.nan), rng=rng)
    with pytest.raises(ValueError, match="rng="):
        ws.loss_wake(x)
    with pytest.raises(ValueError, match="eps"):
        ws.loss_wake(x, eps=rng.normal(size=(3, 2)))
    ws.backward_wake()  # the failed calls left the good forward intact

    z, dreamed = ws.dream(3, rng)
    for n in (0, -1, 2.5, True):
        with pytest.raises((TypeError, ValueError), match=r"n \(the number of dreams\): expected"):
            ws.loss_sleep(n, rng=rng)
    with pytest.raises(ValueError, match="expected n = 4"):
        ws.loss_sleep(4, z=z, x=dreamed)
    with pytest.raises(ValueError, match="without the z"):
        ws.loss_sleep(3, x=dreamed)
    with pytest.raises(ValueError, match="rng="):
        ws.loss_sleep(3, z=z)
    with pytest.raises(ValueError, match="last axis of size 2"):
        ws.loss_sleep(3, z=np.zeros((3, 3)), x=dreamed)
    with pytest.raises(TypeError, match=r"WakeSleep: expected a VAE \(tv.VAE"):
        WakeSleep(vae.encoder)


def test_wake_sleep_training_improves_the_test_elbo_by_a_clear_margin():
    # the same toy data as AEVB training in tests/test_train.py
    x_train, x_test = prototype_data(1200, seed=0), prototype_data(300, seed=1)
    rng = np.random.default_rng(0)
    vae = tv.VAE(x_dim=32, hidden=(24,), z_dim=2, rng=rng)
    before = evaluate(vae, x_test, rng)
    history = tv.fit(
        WakeSleep(vae),
        tv.Adam(vae.parameters(), lr=3e-3),
        tv.Batches(x_train, batch_size=50),
        x_test,
        epochs=25,
        rng=rng,
        progress=False,
    )
    # untrained: more than log 2 per bit (22 nats); the data can be coded in about 11.
    # Wake-sleep gets there more slowly than AEVB (tests/test_train.py: < 15 in 12 epochs).
    assert before > 20
    assert history.test_loss[-1] < 14
    assert history.epoch == list(range(1, 26))
    assert history.train_loss[-1] < history.train_loss[0]
