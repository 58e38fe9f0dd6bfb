"""tinyvae.objectives.free_bits: the ELBO with free bits per layer (Kingma et al. 2016)."""

import numpy as np
import pytest
from helpers import TOL

import tinyvae as tv
from tinyvae.gradcheck import check_loss


def two_layer(seed=0):
    rng = np.random.default_rng(seed)
    return tv.HierarchicalVAE(8, (6,), 4, (5,), 3, rng=rng, dtype=np.float64)


def one_layer(seed=0):
    return tv.VAE(8, (6,), 3, rng=np.random.default_rng(seed), dtype=np.float64)


def batch(model, L, seed=2):
    """Five binary rows and noise; with seed 2 both layers' batch-mean KLs are positive,
    z1's the larger."""
    rng = np.random.default_rng(seed)
    x = (rng.uniform(size=(5, 8)) < 0.5).astype(np.float64)
    return x, rng.normal(size=(L, 5, model.z_dim))


def layer_kls(model, x, eps):
    """log p(x|z1) and each layer's KL per example, averaged over the samples, from the
    parts directly: log q(z1|x) - log p(z1|z2), and KL(q(z2|z1) || N(0, I))."""
    z, log_q1, kl2 = model.posterior.forward_top_kl(x, eps)
    kl1 = log_q1 - model.prior.forward(z, include_top=False)
    log_px = model.likelihood.forward(x, z)
    model.clear_cache()
    return log_px.mean(axis=0), kl1.mean(axis=0), kl2.mean(axis=0)


def free_nats_for(model, x, eps, which):
    """A lambda that leaves free no layer, z2 only (between the two batch means) or both."""
    _, kl1, kl2 = layer_kls(model, x, eps)
    low, high = sorted([kl1.mean(), kl2.mean()])
    return {"none": 0.5 * low, "z2": 0.5 * (low + high), "both": 1e3}[which]


@pytest.mark.parametrize("L", [1, 3])
@pytest.mark.parametrize("which", ["none", "z2", "both"])
def test_gradients_with_no_one_or_both_layers_free(L, which):
    model = two_layer()
    x, eps = batch(model, L)
    objective = tv.FreeBits(model, free_nats_for(model, x, eps, which))
    report = check_loss(objective, lambda: objective.loss(x, eps=eps), rng=np.random.default_rng(2))
    assert report.passed(TOL), str(report)
    objective.loss(x, eps=eps)
    expected = {"none": [False, False], "z2": [False, True], "both": [True, True]}[which]
    assert objective.saved.tolist() == expected  # the branch this case is about


def test_a_negative_estimate_of_z1s_kl_leaves_z1_free_even_at_lambda_zero():
    """KL_1 is sampled: on this batch (one sample) its mean is below 0, so lambda = 0 frees
    z1 and the objective is not B_top's ELBO; the gradient is still that of the objective."""
    model = two_layer()
    x, eps = batch(model, 1, seed=1)
    _, kl1, kl2 = layer_kls(model, x, eps)
    assert kl1.mean() < 0 < kl2.mean()
    objective = tv.FreeBits(model, 0.0)
    b_top = tv.SGVB_B_Top(model).loss(x, eps=eps)
    assert objective.loss(x, eps=eps) == pytest.approx(b_top - kl1.mean(), rel=1e-12)
    assert objective.saved.tolist() == [True, False]
    report = check_loss(objective, lambda: objective.loss(x, eps=eps), rng=np.random.default_rng(2))
    assert report.passed(TOL), str(report)


def test_each_example_gets_its_own_upstream_gradient():
    """backward_bound(w) is the gradient of sum_b w_b bound_b, for any weights w (the
    contract of every estimator), checked against central differences."""
    model = two_layer()
    x, eps = batch(model, 2)
    objective = tv.FreeBits(model, free_nats_for(model, x, eps, "z2"))
    w = np.random.default_rng(5).normal(size=len(x))

    def weighted():
        value = float(w @ objective.forward(x, eps))
        objective.clear_cache()
        return value

    objective.zero_grad()
    objective.forward(x, eps)
    objective.backward_bound(w, eps.shape[0])
    objective.clear_cache()
    for name, param, grad in objective.parameters():
        numeric = np.zeros_like(param)
        for i in np.ndindex(param.shape):
            kept = param[i]
            param[i] = kept + 1e-6
            up = weighted()
            param[i] = kept - 1e-6
            numeric[i] = (up - weighted()) / 2e-6
            param[i] = kept
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7, err_msg=name)


@pytest.mark.parametrize("L", [1, 3])
@pytest.mark.parametrize("scale", [0.0, 0.5, 2.0])
def test_gradients_of_one_layer_free_or_not(L, scale):
    """One layer: lambda at 0, below the batch's mean KL (not free) or above it (free)."""
    model = one_layer()
    x, eps = batch(model, L)
    kl = model.posterior.forward_kl(x, eps)[1].mean()
    model.clear_cache()
    objective = tv.FreeBits(model, scale * kl)
    report = check_loss(objective, lambda: objective.loss(x, eps=eps), rng=np.random.default_rng(2))
    assert report.passed(TOL), str(report)


def test_one_layer_is_estimator_b_at_lambda_zero_and_pays_lambda_when_free():
    model = one_layer()
    x, eps = batch(model, 2)
    b = tv.SGVB_B(model)
    np.testing.assert_allclose(tv.FreeBits(model, 0.0).bound(x, eps=eps), b.bound(x, eps=eps))
    z, kl = model.posterior.forward_kl(x, eps)
    log_px = model.likelihood.forward(x, z).mean()
    model.clear_cache()
    free_nats = 2.0 * kl.mean()
    loss = tv.FreeBits(model, free_nats).loss(x, eps=eps)
    np.testing.assert_allclose(-loss, log_px - free_nats, rtol=1e-12)


def test_the_objective_is_the_free_bits_formula_and_the_elbo_at_lambda_zero():
    model = two_layer()
    x, eps = batch(model, 2)
    log_px, kl1, kl2 = layer_kls(model, x, eps)
    # lambda = 0: estimator B_top, example by example
    np.testing.assert_allclose(
        tv.FreeBits(model, 0.0).bound(x, eps=eps), tv.SGVB_B_Top(model).bound(x, eps=eps),
        rtol=1e-12,
    )  # fmt: skip
    for free_nats in (free_nats_for(model, x, eps, "z2"), 1e3):
        objective = tv.FreeBits(model, free_nats)
        expected = log_px.mean() - max(free_nats, kl1.mean()) - max(free_nats, kl2.mean())
        np.testing.assert_allclose(-objective.loss(x, eps=eps), expected, rtol=1e-12)
    # the reported test loss is the ELBO, whatever lambda
    rng = np.random.default_rng(3)
    elbo = tv.FreeBits(model, 1e3).evaluate(x, np.random.default_rng(3))
    assert elbo == pytest.approx(-np.mean(model.elbo(x, rng=rng)), rel=1e-12)


def test_a_free_layer_gets_no_gradient_from_its_kl():
    """With both layers free only log p(x|z1) trains the model: the gradient is that of
    -mean log p(x|z1) (the B_top gradient with the KLs' parts removed)."""
    model = two_layer()
    x, eps = batch(model, 2)

    def grads(objective, dloss=1.0):
        objective.zero_grad()
        objective.loss(x, eps=eps)
        objective.backward(dloss)
        return {name: g.copy() for name, _, g in objective.parameters()}

    free = grads(tv.FreeBits(model, 1e3))
    # log p(x|z1) alone: -L(x) of estimator B_top plus its two KLs, as estimator A at beta 0
    warm = tv.WarmUp(model, warmup_steps=1)
    warm.beta = 0.0
    reconstruction = grads(warm)
    for name in free:
        np.testing.assert_allclose(free[name], reconstruction[name], rtol=1e-10, atol=1e-13)
    # the top network of p(z1|z2) is reached only through KL_1: no gradient when it is free
    assert not any(g.any() for name, g in free.items() if name.startswith("prior."))


def test_the_backward_uses_the_free_layers_of_its_forward():
    model = two_layer()
    x, eps = batch(model, 1)
    objective = tv.FreeBits(model, free_nats_for(model, x, eps, "z2"))
    objective.zero_grad()
    objective.loss(x, eps=eps)
    objective.free_nats = 0.0  # changed between the forward and its backward
    objective.backward()
    changed = [g.copy() for _, _, g in objective.parameters()]
    reference = tv.FreeBits(model, free_nats_for(model, x, eps, "z2"))
    reference.zero_grad()
    reference.loss(x, eps=eps)
    reference.backward()
    for g, h in zip(changed, (g for _, _, g in reference.parameters())):
        np.testing.assert_array_equal(g, h)


def test_bad_arguments_are_refused():
    model = two_layer()
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="free_nats: expected a finite number >= 0"):
            tv.FreeBits(model, bad)
    rng = np.random.default_rng(0)
    iaf = tv.VAE(8, (6,), 3, rng=rng, dtype=np.float64, iaf_steps=1, iaf_hidden=(5,))
    with pytest.raises(TypeError, match="FreeBits needs each layer's KL: two stochastic layers"):
        tv.FreeBits(iaf, 1.0)  # a flow has no closed-form KL
    objective = tv.FreeBits(model, 2.0)
    for bad in (-1.0, None):
        with pytest.raises((ValueError, TypeError), match="free_nats: expected a"):
            objective.free_nats = bad  # set later, checked as well
    assert objective.free_nats == 2.0
    assert objective.settings() == {"n_samples": 1, "estimator": "free_bits", "free_nats": 2.0}
    assert repr(objective) == "FreeBits(free_nats=2.0, n_samples=1)"
