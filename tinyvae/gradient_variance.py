"""How noisy is a gradient estimator? Variance over independent draws.

For a fixed minibatch and fixed parameters, draw the noise ``n_draws`` times,
compute the gradient each time, and measure per parameter array the variance
of each entry across draws (averaged over the entries) and the squared mean.
AEVB section 2.2 says the score-function estimator has too high a variance
to be practical, and that the reparameterized estimators do better, B better
than A; ``demos/estimator_variance.py`` measures it.
"""

import numpy as np


def gradient_variance(model, x, estimator, n_draws, rng, n_samples=1, baseline=False,
                      prefix="encoder."):
    """Per-parameter gradient statistics over ``n_draws`` draws of the noise.

    Returns ``{name: {"variance": mean over entries of Var_draws(g),
    "mean_square": mean over entries of E_draws[g]^2}}`` for the parameters
    whose name starts with ``prefix`` (the encoder's by default: the decoder's
    gradient is the same for every estimator).
    """
    names = [name for name, _, _ in model.parameters() if name.startswith(prefix)]
    if not names:
        raise ValueError(f"no parameter name starts with {prefix!r}")
    # Welford's running mean and sum of squared deviations, one array per parameter
    mean = {name: None for name in names}
    m2 = {name: None for name in names}
    for draw in range(1, n_draws + 1):
        model.zero_grad()
        model.loss(x, rng=rng, n_samples=n_samples, estimator=estimator, baseline=baseline)
        model.backward()
        for name, _, grad in model.parameters():
            if name not in mean:
                continue
            g = grad.astype(np.float64)
            if mean[name] is None:
                mean[name], m2[name] = g.copy(), np.zeros_like(g)
                continue
            delta = g - mean[name]
            mean[name] += delta / draw
            m2[name] += delta * (g - mean[name])
    model.zero_grad()
    return {name: {"variance": float(np.mean(m2[name] / (n_draws - 1))),
                   "mean_square": float(np.mean(mean[name] ** 2))} for name in names}
