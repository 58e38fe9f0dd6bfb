"""tinyvae.nn.gaussian_dropout: types A and B, fixed and learned rates, and their backward."""

import numpy as np
import pytest

from tinyvae.gradcheck import check_module
from tinyvae.nn.gaussian_dropout import GaussianDropoutLinear

CASES = [("A", "layer"), ("A", "unit"), ("B", "layer"), ("B", "unit"), ("B", "weight")]
SAMPLED = [(s, g) for s in ("separate", "shared") for g in ("layer", "unit", "weight")]


@pytest.mark.parametrize("kind, granularity", CASES)
@pytest.mark.parametrize("learn_alpha", [False, True])
def test_backward(kind, granularity, learn_alpha):
    rng = np.random.default_rng(len(kind + granularity) + learn_alpha)
    layer = GaussianDropoutLinear(
        4, 3, kind, 0.3, learn_alpha, granularity, rng=rng, dtype=np.float64
    )
    if learn_alpha:
        layer.params["log_alpha"][...] = rng.normal(-1.0, 0.5, size=layer.alpha_shape())
    A, noise = rng.normal(size=(5, 4)), rng.normal(size=layer.noise_shape(5))
    report = check_module(layer, A, noise, constant=(1,), rng=rng)
    assert report.passed(1e-6), str(report)
    assert ("log_alpha" in {row["name"] for row in report.rows}) == learn_alpha


@pytest.mark.parametrize("sampling, granularity", SAMPLED)
@pytest.mark.parametrize("learn_alpha", [False, True])
def test_backward_of_weight_samples(sampling, granularity, learn_alpha):
    rng = np.random.default_rng(len(sampling + granularity) + learn_alpha)
    layer = GaussianDropoutLinear(
        4, 3, "B", 0.3, learn_alpha, granularity, sampling, rng=rng, dtype=np.float64
    )
    if learn_alpha:
        layer.params["log_alpha"][...] = rng.normal(-1.0, 0.5, size=layer.alpha_shape())
    A, noise = rng.normal(size=(5, 4)), rng.normal(size=layer.noise_shape(5))
    report = check_module(layer, A, noise, constant=(1,), rng=rng)
    assert report.passed(1e-6), str(report)


@pytest.mark.parametrize("kind, sampling", [("A", "local"), ("B", "local"), ("B", "separate")])
def test_both_types_have_the_moments_of_weight_noise(kind, sampling):
    """Each pre-activation: mean A theta + b, variance (A * A)(alpha theta^2), by Monte Carlo."""
    rng = np.random.default_rng(1)
    layer = GaussianDropoutLinear(4, 3, kind, 0.4, sampling=sampling, rng=rng, dtype=np.float64)
    a = rng.normal(size=(1, 4))
    n = 50_000
    out = layer.forward(np.repeat(a, n, axis=0), rng.normal(size=layer.noise_shape(n)))
    layer.clear_cache()
    theta = layer.params["theta"]
    mean = a @ theta + layer.params["b"]
    var = (a * a) @ (0.4 * theta * theta)
    np.testing.assert_allclose(out.mean(axis=0), mean[0], atol=5 * np.sqrt(var.max() / n))
    np.testing.assert_allclose(out.var(axis=0), var[0], rtol=0.05)
    correlation = np.corrcoef(out.T)[0, 1]
    if kind == "B":  # independent weights: independent pre-activations
        assert abs(correlation) < 0.03
    else:  # one noise per input unit, shared by its outgoing weights
        assert abs(correlation) > 0.1


def test_kl_counts_add_up_to_one_term_per_weight():
    for kind, granularity in CASES:
        layer = GaussianDropoutLinear(4, 3, kind, learn_alpha=True, granularity=granularity)
        assert layer.kl_count() * np.prod(layer.alpha_shape()) == 12


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": float("nan")}, "alpha"),
        ({"kind": "C"}, "kind"),
        ({"kind": "A", "granularity": "weight"}, "granularity"),
        ({"granularity": "neuron"}, "granularity"),
        ({"kind": "A", "sampling": "shared"}, "sampling"),
        ({"sampling": "each"}, "sampling"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GaussianDropoutLinear(4, 3, **kwargs)


@pytest.mark.parametrize("sampling", ["local", "separate", "shared"])
def test_only_a_shared_weight_sample_correlates_the_examples(sampling):
    """The same example twice in a batch: one W for both gives the same output; the local
    trick and separate samples give two independent draws."""
    rng = np.random.default_rng(4)
    layer = GaussianDropoutLinear(4, 3, "B", 0.5, sampling=sampling, rng=rng, dtype=np.float64)
    a = np.repeat(rng.normal(size=(1, 4)), 2, axis=0)
    out = np.array([layer.forward(a, rng.normal(size=layer.noise_shape(2))) for _ in range(4000)])
    layer.clear_cache()
    correlation = np.corrcoef(out[:, 0, 0], out[:, 1, 0])[0, 1]
    if sampling == "shared":
        assert correlation == pytest.approx(1.0)
    else:
        assert abs(correlation) < 0.06
