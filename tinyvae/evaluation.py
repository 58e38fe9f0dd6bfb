"""Measuring a trained model: the importance-weighted log-likelihood, active units,
and how noisy a gradient estimator is.

log p(x) is estimated by the importance-weighted bound of Burda et al. (2015, eq. 8):

    L_k(x) = log 1/k sum_i w_i,   w_i = p(x, z_i) / q(z_i|x),   z_i ~ q(z|x),

with L_1 = ELBO <= L_k <= L_{k+1} <= log p(x), and L_k -> log p(x) as k grows.
The usual report is L_5000. The sum is taken in log space with logsumexp,
and the k samples are processed a chunk at a time, so that k = 5000 fits in
memory for any batch, and several chunks at once, on threads of their own,
so that every core is used. The chunks' arrays come and go by the megabyte,
so the evaluation first asks the C library to keep freed memory for the next
ones (``tinyvae.memory``). Only the model's public parts are used (the
posterior's ``encode`` and ``sample_from``, the prior's and the likelihood's
``log_prob``), so the estimate is right for any posterior.

A latent unit u is *active* (Burda et al. 2015, section 5.2) if its posterior
mean varies with the data: A_u = Cov_x(E_q[z_u | x]) > 10^-2.

The variance of a gradient estimator (AEVB section 2.2 calls the score
function's impractically high) is measured over independent draws of the
noise for one fixed batch and fixed parameters.
"""

import contextlib
import math
import queue
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .distributions.reparameterize import sample_eps
from .memory import keep_freed_memory
from .nn.functional import logsumexp
from .objectives import Objective, make_objective
from .threads import blas_threads, one_blas_thread
from .validation import check_float, check_int, check_model, check_rng


def log_likelihood(model, x, k=5000, rng=None, batch_size=100, max_rows=2000, threads=None):
    """L_k for each row of ``x``, shape (N,): an estimate (lower bound) of log p(x).

    ``max_rows`` caps how many (sample, example) pairs go through the decoder
    at once; it sets the memory used, not the result. ``threads`` such chunks
    are weighed at once, each on a thread of its own with one BLAS thread:
    NumPy's elementwise functions (the densities) use one core each, so this
    is how they use them all. ``None`` takes as many threads as BLAS uses now
    (``fit``'s choice for the machine's load, or ``tinyvae.set_blas_threads``).
    The noise is drawn in order on the calling thread, so ``threads`` changes
    the result no more than BLAS's rounding does.

    The threads, the model's copies and the memory pad are there for speed
    (together 1.7 times as fast on two cores): on one thread the work is, chunk by
    chunk, ``log_w[s : s + n] = log_weights(xb, params, eps)``.
    """
    check_model(model, "vae", "log_likelihood")
    k = check_int(k, "k")
    batch_size = check_int(batch_size, "batch_size")
    max_rows = check_int(max_rows, "max_rows")
    threads = blas_threads() if threads is None else check_int(threads, "threads")
    check_rng(rng, "log_likelihood")
    x = model.check_data(x)
    keep_freed_memory()  # else every chunk's arrays get fresh pages from the system

    # Each thread takes a copy of the model that shares its parameters and keeps
    # its own caches (Module.shared_copy), so that two forward passes never meet.
    copies = queue.SimpleQueue()
    for _ in range(threads):
        copies.put(model.shared_copy())

    def log_weights(xb, params, eps):
        """log w = log p(x|z) + log p(z) - log q(z|x), for the z that eps makes."""
        twin = copies.get()
        try:
            z, log_q = twin.posterior.sample_from(params, eps)
            return twin.likelihood.log_prob(xb, z) + twin.prior.log_prob(z) - log_q
        finally:
            copies.put(twin)

    out = np.empty(len(x), dtype=np.float64)
    one_thread_each = one_blas_thread() if threads > 1 else contextlib.nullcontext()
    with ThreadPoolExecutor(threads) as pool, one_thread_each:
        for start in range(0, len(x), batch_size):
            xb = x[start : start + batch_size]
            params = model.posterior.encode(xb)  # once per batch; the samples reuse it
            samples_per_chunk = max(1, max_rows // len(xb))
            chunks = []
            for s in range(0, k, samples_per_chunk):
                if len(chunks) >= threads:  # no more noise drawn than the threads can use
                    chunks[-threads].result()
                shape = (min(samples_per_chunk, k - s), len(xb), model.z_dim)
                eps = sample_eps(rng, shape, model.dtype)
                chunks.append(pool.submit(log_weights, xb, params, eps))
            log_w = np.concatenate([chunk.result() for chunk in chunks], dtype=np.float64)
            out[start : start + len(xb)] = logsumexp(log_w, axis=0) - math.log(k)
    return out


def active_units(model, x, threshold=1e-2):
    """``(count, variances)``: how many units have Var_x(E_q[z_u|x]) > threshold."""
    check_model(model, "vae", "active_units")
    threshold = check_float(threshold, "threshold", 0)
    mu = model.posterior.mean(model.check_data(x))
    variances = np.var(mu.astype(np.float64), axis=0)
    return int(np.sum(variances > threshold)), variances


def gradient_variance(
    model, x, estimator, n_draws, rng, n_samples=1, baseline=False, prefix="encoder."
):
    """Per-parameter gradient statistics over ``n_draws`` draws of the noise.

    ``estimator`` is a name (``"score"``, ``"A"``, ...) used with ``model``,
    or an objective (then ``n_samples`` and ``baseline`` are its own).
    Returns ``{name: {"variance": mean over entries of Var_draws(g),
    "mean_square": mean over entries of E_draws[g]^2}}`` for the parameters
    whose name starts with ``prefix`` (the encoder's by default: the
    decoder's gradient is the same for every estimator).
    """
    check_model(model, "vae", "gradient_variance")
    n_draws = check_int(n_draws, "n_draws (a variance needs two)", minimum=2)
    check_rng(rng, "gradient_variance")
    if not isinstance(prefix, str):
        raise TypeError(f"prefix: expected the start of parameter names, got {prefix!r}")
    if isinstance(estimator, str):
        objective = make_objective(model, estimator, n_samples, baseline)
    elif isinstance(estimator, Objective) and estimator.model is model:
        objective = estimator
    else:
        raise TypeError(
            "estimator: expected an estimator name such as 'A' or an objective of this model, "
            f"got {estimator!r:.60}"
        )
    x = model.check_data(x)  # before the first zero_grad: bad data changes no gradient
    objective.check_samples(objective.n_samples)
    names = [name for name, _, _ in model.parameters() if name.startswith(prefix)]
    if not names:
        raise ValueError(f"no parameter name starts with {prefix!r}")
    # Welford's running mean and sum of squared deviations, one array per parameter
    mean = {name: None for name in names}
    m2 = {name: None for name in names}
    for draw in range(1, n_draws + 1):
        model.zero_grad()
        objective.loss(x, rng=rng)
        objective.backward()
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
    return {
        name: {
            "variance": float(np.mean(m2[name] / (n_draws - 1))),
            "mean_square": float(np.mean(mean[name] ** 2)),
        }
        for name in names
    }
