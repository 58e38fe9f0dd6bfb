# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Variational dropout and the local reparameterization trick
#
# Kingma, Salimans & Welling (2015), chapter 6 of Kingma's thesis, put a
# Gaussian posterior $q(\mathbf{W})$ over the *weights* of a classifier and
# train it by the same reparameterization as a VAE. The bound on a data set of
# $N$ labelled examples is (§2)
#
# $$\mathcal{L}(\phi) = \sum_{(\mathbf{x}, y)} \mathbb{E}_{q_\phi(\mathbf{W})}
# \big[\log p(y \mid \mathbf{x}, \mathbf{W})\big]
# - \mathrm{KL}\big(q_\phi(\mathbf{W}) \,\|\, p(\mathbf{W})\big),$$
#
# estimated on a minibatch of $M$ examples. How the weight noise is drawn
# decides how noisy the gradient of that estimate is. This notebook:
#
# 1. builds one Gaussian-weight layer, `tv.BayesianLinear`, in its three
#    modes and shows that they have the same expected output;
# 2. measures the variance of the gradient of a minibatch loss over draws of
#    the noise, for each mode and several minibatch sizes (the key figure);
# 3. gradient-checks the local trick's backward pass;
# 4. trains a small classifier with variational dropout of type B on
#    tinyvae's synthetic digits and draws the dropout rates it learned.
#
# The page beside this notebook (`README.md`) has the equations, the files to
# read and the full-length MNIST results.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import tinyvae as tv
from tinyvae.distributions import CategoricalLogDensity, one_hot
from tinyvae.gradcheck import check_loss, check_module

# %% [markdown]
# ## Settings
#
# The quick run below takes well under a minute on an idle 2-core machine.
# For steadier variance estimates set `N_DRAWS = 200`; for a longer training
# run set `N_TRAIN = 60_000` and `EPOCHS = 10` (roughly ten seconds per
# epoch of 60,000 images).

# %%
MODES = ("local", "separate", "shared")  # the three ways BayesianLinear samples
ALPHA = 1.0  # the weights' noise: sigma^2 = ALPHA theta^2 (binary dropout p = 0.5)
N_DRAWS = 50  # draws of the noise per variance estimate
BATCH_SIZES = (10, 30, 100, 300)  # minibatch sizes M of the variance figure
N_TRAIN = 20_000  # training images of the classifier (60,000 in all)
EPOCHS = 3
WIDTH = 128  # units in each of its two hidden layers
LR = 3e-3  # Adam's step size
SEED = 0
rng = np.random.default_rng(SEED)
started = time.perf_counter()

data = tv.load_dataset("synthetic")  # rendered once (about 5 s), then cached
x_train, y_train = data.x_train, data.y_train  # float32 (60000, 784), int64 labels 0..9
x_test, y_test = data.x_test, data.y_test
print(f"{len(x_train)} training and {len(x_test)} test images of {x_train.shape[1]} pixels")

# %% [markdown]
# ## 1. A layer with Gaussian weights, sampled three ways
#
# A linear layer $\mathbf{B} = \mathbf{A}\mathbf{W}$ maps a minibatch
# $\mathbf{A}$ ($M \times K$) through weights with a fully factorized
# posterior $q(w_{ij}) = \mathcal{N}(\theta_{ij}, \sigma^2_{ij})$. A
# reparameterized sample of the pre-activations can be drawn in three ways
# (§2.3), the three `mode`s of `tv.BayesianLinear`:
#
# * `"shared"`: one weight matrix $\mathbf{W} = \boldsymbol\theta +
#   \boldsymbol\sigma \odot \boldsymbol\epsilon$ for the whole minibatch,
#   $\boldsymbol\epsilon$ of shape $K \times L$: cheap, but every example
#   sees the same weights;
# * `"separate"`: a weight matrix per example, $\boldsymbol\epsilon$ of shape
#   $M \times K \times L$: independent noise, $M$ times the random numbers
#   and the work;
# * `"local"`, the local reparameterization trick: the weights enter the
#   loss only through $\mathbf{B}$, and given $\mathbf{A}$ each $b_{mj}$ is
#   Gaussian, so sample it directly,
#
# $$\gamma_{mj} = \sum_i a_{mi}\,\theta_{ij}, \qquad
# \delta_{mj} = \sum_i a_{mi}^2\,\sigma_{ij}^2, \qquad
# b_{mj} = \gamma_{mj} + \sqrt{\delta_{mj}}\;\zeta_{mj}, \quad
# \zeta_{mj} \sim \mathcal{N}(0, 1):$$
#
#   independent noise at the price of $M \times L$ random numbers.
#
# We build one layer per mode from the same seed, so they hold the same
# $\boldsymbol\theta$, and give every weight the variance of variational
# dropout of type B, $\sigma^2_{ij} = \alpha\,\theta^2_{ij}$ (§3.1). The noise
# is an input of `forward`, of the shape `noise_shape(M)` says.

# %%
layers = {}
for mode in MODES:
    layer = tv.BayesianLinear(784, 10, mode=mode, rng=np.random.default_rng(SEED))
    layer.params["logvar"][...] = np.log(ALPHA * layer.params["theta"] ** 2)
    layers[mode] = layer
for layer in layers.values():
    print(f"{layer!r:48} noise for M = 100: {layer.noise_shape(100)}")


def draw(layer, x, y, n_draws, rng):
    """The outputs B and the gradients of the minibatch loss -1/M sum_m log p(y_m | x_m, W)
    for ``n_draws`` draws of the noise: a loop over draws, each one pass of the whole
    minibatch forward and backward through the layer (a softmax on its 10 outputs)."""
    log_p = CategoricalLogDensity()
    targets = one_hot(y, 10)
    M = len(x)
    outputs, grads = [], {"theta": [], "logvar": []}
    for _ in range(n_draws):
        layer.zero_grad()
        B = layer.forward(x, rng.standard_normal(layer.noise_shape(M), dtype=np.float32))
        log_p.forward(targets, B)
        _, dB = log_p.backward(np.full(M, -1.0 / M, dtype=np.float32))
        layer.backward(dB)
        outputs.append(B)
        for name in grads:
            grads[name].append(layer.grads[name].astype(np.float64))
    layer.zero_grad()
    return np.stack(outputs).astype(np.float64), {k: np.stack(g) for k, g in grads.items()}


# %% [markdown]
# The three modes draw $\mathbf{B}$ from the same marginal distribution: for
# every example $m$ and output $j$ the mean is $\gamma_{mj} + b_j$ and the
# variance $\delta_{mj}$. What differs is how the examples' noise is
# related: with one shared weight matrix, two examples that share pixels get
# correlated outputs. Here are 400 draws for 16 images.

# %%
rows = rng.choice(len(x_train), 16, replace=False)
A, labels = x_train[rows], y_train[rows]
theta, b = layers["local"].params["theta"], layers["local"].params["b"]
mean = (A @ theta + b).astype(np.float64)  # gamma + b
delta = ((A * A) @ (ALPHA * theta**2)).astype(np.float64)  # (A * A) sigma^2
print("mode       |mean - (gamma + b)| / s.e.   var / delta   corr. between two examples")
for mode, layer in layers.items():
    B, _ = draw(layer, A, labels, 400, rng)
    z = np.abs(B.mean(axis=0) - mean) / np.sqrt(delta / len(B))  # in standard errors
    noise = (B - mean) / np.sqrt(delta)  # standardized: N(0, 1) in every mode
    corr = np.einsum("dmj,dnj->mn", noise, noise) / (len(B) * noise.shape[2])
    off_diagonal = corr[~np.eye(len(A), dtype=bool)].mean()
    ratio = np.mean(B.var(axis=0) / delta)
    print(f"{mode:10} {z.mean():14.2f} (max {z.max():.1f}) {ratio:14.3f} {off_diagonal:17.3f}")

# %% [markdown]
# The means agree within Monte Carlo error (a mean of about 0.8 standard
# errors is what chance gives) and the variances match $\delta$ in every
# mode. Only `"shared"` correlates the examples: its average correlation
# between two images' outputs is well above zero, the other two modes' is
# zero up to noise.
#
# ## 2. The variance of the minibatch gradient
#
# Why the correlation matters (§2.2): the minibatch estimate is an average of
# $M$ per-example terms $L_i$, and
#
# $$\mathrm{Var}\Big[\frac{1}{M}\sum_{i=1}^M L_i\Big]
# = \frac{1}{M}\,\mathrm{Var}[L_i] + \frac{M - 1}{M}\,\mathrm{Cov}[L_i, L_j].$$
#
# Independent noise per example makes the covariance zero and the variance
# fall as $1/M$; one shared weight sample leaves a covariance that no
# minibatch size removes. (The paper writes the same for the bound on the
# whole data set, $N/M$ times the sum, hence its factor $N^2$.)
#
# We fix a minibatch of each size, draw the noise `N_DRAWS` times, take the
# gradient of the loss with respect to $\boldsymbol\theta$ and to
# $\log\boldsymbol\sigma^2$ each time, and average the variance over the
# 7,840 entries of each.

# %%
variance = {mode: {"theta": [], "logvar": []} for mode in MODES}
seconds = dict.fromkeys(MODES, 0.0)
for M in BATCH_SIZES:
    rows = rng.choice(len(x_train), M, replace=False)
    for mode, layer in layers.items():
        tick = time.perf_counter()
        _, grads = draw(layer, x_train[rows], y_train[rows], N_DRAWS, rng)
        seconds[mode] += time.perf_counter() - tick
        for name, g in grads.items():
            variance[mode][name].append(np.mean(np.var(g, axis=0, ddof=1)))
print("mean over the entries of Var[gradient] over", N_DRAWS, "draws of the noise")
print(f"{'M':>5} " + " ".join(f"{m + ', ' + p:>17}" for p in ("theta", "logvar") for m in MODES))
for i, M in enumerate(BATCH_SIZES):
    cells = [variance[m][p][i] for p in ("theta", "logvar") for m in MODES]
    print(f"{M:>5} " + " ".join(f"{v:17.2e}" for v in cells))
print("seconds spent drawing:", {mode: round(s, 2) for mode, s in seconds.items()})

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
styles = {"local": "o-", "separate": "s--", "shared": "^:"}
titles = {"theta": r"gradient w.r.t. $\theta$ (the means)",
          "logvar": r"gradient w.r.t. $\log\sigma^2$ (the variances)"}  # fmt: skip
for ax, name in zip(axes, ("theta", "logvar")):
    for mode in MODES:
        ax.loglog(BATCH_SIZES, variance[mode][name], styles[mode], label=mode)
    first = variance["local"][name][0]
    guide = [first * BATCH_SIZES[0] / M for M in BATCH_SIZES]
    ax.loglog(BATCH_SIZES, guide, color="grey", lw=0.8, label=r"$\propto 1/M$")
    ax.set_xlabel("minibatch size M")
    ax.set_ylabel("mean variance over draws of the noise")
    ax.set_title(titles[name], fontsize=10)
    ax.legend(fontsize=8)
fig.suptitle(f"One Gaussian-weight layer 784-10, softmax loss, {N_DRAWS} draws per point")
fig.tight_layout()
plt.show()

# %% [markdown]
# What the figure shows, for one layer at its initial weights:
#
# * **The shared weight sample does not improve with M**: for both
#   parameters its variance at $M = 300$ is about what it was at $M = 10$
#   (it moves with the minibatch drawn, not with its size): the covariance
#   term. At $M = 300$ it is tens to hundreds of times the other modes'.
# * **For $\boldsymbol\theta$, local and separate coincide**, both falling
#   as $1/M$. They must: $\partial L/\partial\boldsymbol\theta =
#   \mathbf{A}^\top \partial L/\partial\mathbf{B}$ in both modes, and
#   $\mathbf{B}$ has the same joint distribution in both.
# * **For $\log\boldsymbol\sigma^2$ the local trick is far below separate
#   samples** (50 to 70 times lower here, at every M). With separate samples each of
#   the $K$ weights into unit $j$ brings its own $\epsilon_{ij}$ into
#   $\partial L/\partial\sigma^2_{ij}$; with the local trick only the one
#   $\zeta_{mj}$ per example and unit does.
#
# The local trick is also the cheapest: `"separate"` draws $M K L$ random
# numbers per pass, the local trick $M L$ (see the seconds above). The
# paper's Table 1, reproduced on MNIST on the page beside this notebook,
# measures a trained 3-layer network with variational dropout of type B.
# There the separate samples' $\theta$ gradient is noisier too: $\theta$
# also sets each weight's variance ($\sigma^2 = \alpha\theta^2$), and the
# upper layers' weight noise reaches the lower layers through
# $\partial L/\partial\mathbf{A}$. The order local < separate < shared holds
# there at the top and at the bottom layer.
#
# ## 3. Checking the local trick's backward pass
#
# `BayesianLinear.backward` in local mode returns $\partial L/\partial
# \mathbf{A}$ and adds $\partial L/\partial\boldsymbol\theta$,
# $\partial L/\partial\log\boldsymbol\sigma^2$ and $\partial L/\partial
# \mathbf{b}$ into `grads`. With the noise $\boldsymbol\zeta$ fixed the layer
# is a deterministic function, so central differences can check it: float64,
# small sizes, $\boldsymbol\zeta$ declared constant (noise gets no gradient).
# A row of zeros in $\mathbf{A}$ has $\delta = 0$, the one place where the
# derivative of $\sqrt{\delta}$ needs care.

# %%
check_rng = np.random.default_rng(1)
small = tv.BayesianLinear(4, 3, mode="local", rng=check_rng, dtype=np.float64)
small.params["logvar"][...] = check_rng.normal(-1.0, 0.5, size=(4, 3))
A_small = check_rng.normal(size=(5, 4))
A_small[2] = 0.0  # an input row of zeros: no noise there
zeta = check_rng.normal(size=small.noise_shape(5))
print(check_module(small, A_small, zeta, constant=(1,), rng=check_rng))

# %% [markdown]
# And the whole objective of the classifier trained below, variational
# dropout of type B with one rate per weight: the expected log-likelihood
# through two noisy layers plus the KL of the learned rates, with every
# layer's noise fixed.

# %%
tiny = tv.DropoutMLP(
    5, (7,), 3, dropout="variational_B", p=0.3, granularity="weight",
    rng=check_rng, dtype=np.float64,
)  # fmt: skip
for layer in tiny.rate_layers():
    layer.params["log_alpha"][...] = check_rng.uniform(-2.5, -0.5, layer.alpha_shape())
tiny_objective = tv.VariationalDropout(tiny, n_train=20)
x_tiny, y_tiny = check_rng.normal(size=(6, 5)), check_rng.integers(0, 3, size=6)
eps = tiny.noise(6, check_rng)
report = check_loss(
    tiny_objective, lambda: tiny_objective.loss(x_tiny, eps=eps, labels=y_tiny), rng=check_rng
)
print(report)

# %% [markdown]
# ## 4. Variational dropout: learning the dropout rates
#
# Gaussian dropout multiplies each weight by noise $\mathcal{N}(1, \alpha)$,
# which is the posterior $q(w_{ij}) = \mathcal{N}(\theta_{ij},
# \alpha\,\theta_{ij}^2)$ (type B, §3.1). With the log-uniform prior
# $p(\log|w|) \propto c$ the KL does not depend on $\theta$, and the paper
# fits it as a function of $\alpha$ alone (§3.3):
#
# $$-\mathrm{KL}\big(q(w) \,\|\, p(w)\big) \approx \text{const} + \tfrac12\log\alpha
# + c_1\alpha + c_2\alpha^2 + c_3\alpha^3,$$
#
# $c_1 = 1.16145124$, $c_2 = -1.50204118$, $c_3 = 0.58629921$, fitted for
# $\alpha \le 1$; tinyvae clips $\log\alpha$ at 0 there, where the paper
# stops $\alpha$. Variational dropout learns $\log\alpha$ with the weights.
# `tv.VariationalDropout` is the per-example loss
# $-\frac1M\sum_m \log p(y_m|\mathbf{x}_m, \mathbf{W}_m) + \mathrm{KL}/N$.
#
# A 784-128-128-10 ReLU network, one rate per weight
# (`granularity="weight"`) so that there is a distribution to look at, every
# rate starting at $\alpha = 1$ ($p = 0.5$: the noise of binary dropout at
# rate 0.5, and the cap). The noise is drawn by the local trick.

# %%
train_rng = np.random.default_rng(SEED + 1)
model = tv.DropoutMLP(
    784, (WIDTH, WIDTH), 10, dropout="variational_B", p=0.5, granularity="weight",
    rng=train_rng,
)  # fmt: skip
objective = tv.VariationalDropout(model, n_train=N_TRAIN)
optimizer = tv.Adam(objective.parameters(), lr=LR)
print(model)
tick = time.perf_counter()
history = tv.fit(
    objective, optimizer, tv.Batches(x_train[:N_TRAIN], y_train[:N_TRAIN], batch_size=100),
    epochs=EPOCHS, rng=train_rng, progress=False,
    on_epoch=lambda epoch: {"test_error": model.error(x_test, y_test)},
)  # fmt: skip
errors = history.metrics["test_error"]
print(f"{EPOCHS} epochs in {time.perf_counter() - tick:.1f} s")
print("test error per epoch (%):", [round(100 * e, 2) for e in errors])
print("the last loss's terms (nats per example):", objective.terms)

# %%
fig, (ax, ax_err) = plt.subplots(1, 2, figsize=(10, 4), width_ratios=(2, 1))
lowest = min(layer.params["log_alpha"].min() for layer in model.layers)
highest = max(layer.params["log_alpha"].max() for layer in model.layers)
bins = np.linspace(np.floor(10 * lowest) / 10, np.ceil(10 * highest) / 10, 45)
names = ["784 -> 128", "128 -> 128", "128 -> 10"]
for name, layer in zip(names, model.layers):
    log_alpha = layer.params["log_alpha"].ravel()
    below = np.mean(log_alpha < -0.05)  # clearly below the cap
    ax.hist(log_alpha, bins=bins, histtype="step", lw=1.5, density=True,
            label=f"{name}: {log_alpha.size} weights, {100 * below:.0f} % below -0.05")  # fmt: skip
ax.axvline(0.0, color="grey", ls="--", lw=0.8)
ax.text(0.02, 0.98, r"start, and the cap $\alpha = 1$", transform=ax.get_xaxis_transform(),
        fontsize=8, va="top")  # fmt: skip
ax.set_yscale("log")
ax.set_xlabel(r"learned $\log\alpha$ of each weight")
ax.set_ylabel("density (log scale)")
ax.set_title(f"Variational dropout B: the learned rates after {EPOCHS} epochs", fontsize=10)
ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0.0, 0.9))
ax_err.plot(range(1, len(errors) + 1), [100 * e for e in errors], "o-")
ax_err.set_xlabel("epoch")
ax_err.set_ylabel("test error (%)")
ax_err.set_title(f"test error: {100 * errors[-1]:.2f} % after {EPOCHS} epochs", fontsize=10)
ax_err.xaxis.get_major_locator().set_params(integer=True)
fig.tight_layout()
plt.show()
print(f"the whole notebook: {time.perf_counter() - started:.0f} s")

# %% [markdown]
# What the quick run shows. The KL pushes every rate up, towards more noise;
# the data pushes back where a weight matters. After 600 steps nearly all the
# rates of the two hidden layers are still at the cap $\alpha = 1$, spread a
# little around it (past the cap the clipped KL is flat, and only the noisy
# pull of the data moves them), while nearly half the weights into the 10
# output units have moved below it, down to $\log\alpha \approx -0.8$ (the
# legend gives each layer's share below $-0.05$): the classifier keeps
# less noise on the weights that decide the class. Adam moves a parameter
# by at most about its step size per step, so in a run this short no rate
# can have travelled far. The test error on the synthetic digits is about
# 0.5 % after 3 epochs; they are easier than MNIST.
#
# How this compares with the paper. On MNIST, with one rate per layer, the
# page's runs find the same thing at full length: every layer's learned
# $\alpha$ ends at the cap of 1, the noise of binary dropout with $p = 0.5$,
# and a 784-1024-1024-1024-10 network reaches a test error of 1.23 % in 30
# epochs (the paper reports about 1 % after far longer training). The
# ordering of the paper's Table 1, local < separate < shared at the top and
# the bottom layer, is reproduced there too, after 10 epochs within a factor
# of 1.6 of the paper's numbers.
# `TINYVAE_DATA=/path/to/mnist python demos/dropout/variational_dropout.py --quick`
# runs every part of that comparison at a small scale.
