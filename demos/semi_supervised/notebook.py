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
# # Semi-supervised learning with M2 (thesis chapter 3)
#
# Kingma, Rezende, Mohamed & Welling (2014), *Semi-supervised learning with
# deep generative models*, classify digits from a handful of labels by
# modelling the images. Their model M2 has two latent variables: a class
# $y$ and a continuous "style" $z$,
#
# $$p(y) = \mathrm{Cat}(y; 1/K), \quad p(z) = \mathcal{N}(z; 0, I), \quad p_\theta(x|y, z) \qquad \text{(eq. 2)}$$
#
# with a recognition model made of a Gaussian encoder and a classifier,
#
# $$q_\phi(z|y, x) = \mathcal{N}(z; \mu_\phi(y, x), \mathrm{diag}\,\sigma^2_\phi(x)), \quad q_\phi(y|x) = \mathrm{Cat}(y; \pi_\phi(x)) \qquad \text{(eq. 4)}$$
#
# Where the label is known, $y$ is observed and the bound is a VAE's with
# $y$ appended to the inputs of the encoder and the decoder (eq. 6):
#
# $$\log p(x, y) \ge \mathbb{E}_{q(z|x,y)}\big[\log p(x|y,z) + \log p(y) + \log p(z) - \log q(z|x,y)\big] = -\mathcal{L}(x, y)$$
#
# Where it is not, $y$ is a latent variable too, and the bound sums over its
# $K$ values exactly (eq. 7):
#
# $$\log p(x) \ge \sum_y q(y|x)\,\big(-\mathcal{L}(x, y)\big) + \mathcal{H}(q(y|x)) = -\mathcal{U}(x)$$
#
# The classifier $q(y|x)$ appears only in $\mathcal{U}$, so the labelled
# examples also train it directly, with a weight $\alpha$ (eqs. 8-9):
#
# $$\mathcal{J}^\alpha = \sum_{(x,y)\ \mathrm{labelled}} \mathcal{L}(x, y) + \sum_{x\ \mathrm{unlabelled}} \mathcal{U}(x) + \alpha\, \mathbb{E}_{\tilde p_l(x, y)}\big[-\log q(y|x)\big]$$
#
# tinyvae minimises it as batch means, with $\alpha = 0.1\,N/N_\mathrm{labelled}$
# per labelled example (`tv.paper_alpha`, the paper's $\alpha = 0.1\,N$ on sums).
#
# This notebook builds M2 on the built-in synthetic digits with 100 labels,
# computes both bounds, checks the gradient of the whole objective, trains
# for about half a minute and draws the paper's Figure 1(b): the style of a
# test image written as every digit.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import tinyvae as tv
from tinyvae.data.semi_supervised import labelled_subset
from tinyvae.distributions.categorical import log_softmax
from tinyvae.gradcheck import check_loss
from tinyvae.plots import tile

# %% [markdown]
# ## Settings
#
# The default is the quick run (under a minute on an idle 2-core machine): a
# pool of 10,000 training images of which 100 keep their label, smaller
# networks than the paper's and three passes. For the page's M2 setup (the
# paper's networks, 50,000 images, 30 passes at Adam's 1e-3; about 40 minutes)
# set `N_POOL = 50_000`, `HIDDEN = (500,)`, `Z_DIM = 50`, `EPOCHS = 30`,
# `LR = 1e-3`. `DATASET = "mnist"` uses MNIST (from `TINYVAE_DATA`, else downloaded).

# %%
DATASET = "synthetic"  # or "mnist"
N_POOL = 10_000  # training images used; all but N_LABELS of them unlabelled
N_LABELS = 100  # labelled images, N_LABELS / 10 of each class
HIDDEN = (256,)  # hidden units of the encoder, decoder and classifier (paper: (500,))
Z_DIM = 20  # dimensions of z (paper: 50)
EPOCHS = 3  # passes over the unlabelled images (the page's M2: 30; the paper's: 3000)
LR = 3e-3  # Adam's step size (the page's runs: 1e-3)
BATCH = 100  # unlabelled rows per batch; every batch also holds 100 labelled rows
SEED = 0

# %%
needed = ["M2", "SemiSupervised", "paper_alpha", "Classifier", "Adam", "Batches", "fit"]
missing = [name for name in needed if not hasattr(tv, name)]
if missing:
    raise ImportError(
        f"tinyvae has no {', '.join(missing)}: this notebook needs the tinyvae of this "
        "clone, installed with `pip install -e .` from its root (0.3 or later)."
    )

started = time.perf_counter()

# %% [markdown]
# ## The data: a few labels, many images
#
# The synthetic digits carry their class in `y_train` and `y_test`.
# `labelled_subset` picks `N_LABELS / 10` images of each class (the same ones
# for the same seed); every other training image gets the label $-1$,
# "unknown". The test images are binarized once; the training images are
# binarized afresh every time they are used.

# %%
data = tv.load_dataset(DATASET)
if data.y_train is None:
    raise ValueError(f"{DATASET!r} has no labels; M2 needs labelled digits: 'synthetic' or 'mnist'")
x_train, y_train = data.x_train[:N_POOL], data.y_train[:N_POOL]
rows = labelled_subset(y_train, N_LABELS, seed=SEED)
labels = np.full(len(x_train), -1)
labels[rows] = y_train[rows]
x_test = tv.binarize(data.x_test, np.random.default_rng(SEED + 1))
y_test = data.y_test
print(
    f"{DATASET}: {len(x_train)} training images, {len(rows)} labelled:", np.bincount(labels[rows])
)
print(f"{len(x_test)} test images")

# %% [markdown]
# ## M2 from tinyvae's parts
#
# `tv.M2` has the three parts every tinyvae model has, each reading a one-hot
# label beside its usual input: `prior` $p(z)$, `posterior` $q(z|x, y)$ (an
# MLP encoder reading $[x, y]$), `likelihood` $p(x|y, z)$ (a Bernoulli decoder
# reading $[z, y]$), plus `classifier` $q(y|x)$. `tv.SemiSupervised` is the
# objective $\mathcal{J}^\alpha$. The encoder's first layer, `LabelledLinear`,
# computes $x W_x + y W_y + b$ with $x W_x$ once per example, however many
# labels eq. (7) tries with it.

# %%
rng = np.random.default_rng(SEED)
model = tv.M2(784, n_classes=10, hidden=HIDDEN, z_dim=Z_DIM, activation="softplus", rng=rng)
alpha = tv.paper_alpha(len(x_train), N_LABELS)  # 0.1 N / N_labelled per labelled example
objective = tv.SemiSupervised(model, alpha, labelled_batch_size=100)
print(model)
print(objective)
for part in ("prior", "posterior", "likelihood", "classifier"):
    print(f"  {part:10s}", getattr(model, part))

# %% [markdown]
# ## The two bounds, eqs. (6) and (7)
#
# `objective.bound(x, eps=..., labels=...)` gives $-\mathcal{L}(x, y)$ where a
# row's label is given and $-\mathcal{U}(x)$ where it is $-1$. Below, four
# test images are stacked ten times, copy $k$ with the label $k$, to get
# $-\mathcal{L}(x, y)$ for every $y$; then $-\mathcal{U}(x)$ is put together
# by hand from eq. (7) and compared with the library's. The noise $\epsilon$
# of $z = \mu + \sigma\epsilon$ is fixed and shared by the ten copies, as the
# objective itself shares it.

# %%
K = model.n_classes
x4 = x_test[:4]
eps4 = np.random.default_rng(SEED + 2).standard_normal((len(x4), Z_DIM)).astype(np.float32)


def bounds_by_hand(x, eps):
    """-L(x, y) for every y (B, K), q(y|x) (B, K), H(q(y|x)) and -U(x) from eq. (7)."""
    B = len(x)
    minus_L = objective.bound(
        np.tile(x, (K, 1)), eps=np.tile(eps, (K, 1)), labels=np.repeat(np.arange(K), B)
    )
    minus_L = minus_L.reshape(K, B).T  # row b, column k: -L(x_b, y = k)
    log_pi = log_softmax(model.classifier.logits(x).astype(np.float64))
    pi = np.exp(log_pi)
    entropy = -np.sum(pi * log_pi, axis=1)
    return minus_L, pi, entropy, np.sum(pi * minus_L, axis=1) + entropy


def show_bounds(x, eps, y):
    minus_L, pi, entropy, minus_U = bounds_by_hand(x, eps)
    library = objective.bound(x, eps=eps)  # labels -1: the unlabelled bound
    with np.printoptions(precision=1, suppress=True, linewidth=120):
        print("-L(x, y) in nats; row: a test image, column: the label y = 0..9")
        print(minus_L)
    with np.printoptions(precision=2, suppress=True, linewidth=120):
        print("\nits label, argmax q(y|x), max q(y|x), H(q(y|x)), -U by eq. (7), -U by tinyvae:")
        print(np.column_stack([y, pi.argmax(1), pi.max(1), entropy, minus_U, library]))
    print(f"largest |difference| of -U: {np.max(np.abs(minus_U - library)):.2g} nats (float32)")


show_bounds(x4, eps4, y_test[:4])

# %% [markdown]
# Untrained, the ten bounds of an image are almost alike (the decoder does not
# yet use $y$), $q(y|x)$ is close to uniform and its entropy close to
# $\log 10 = 2.30$. The sum of eq. (7), written out, is the library's
# $-\mathcal{U}(x)$: inside `SemiSupervised.forward` the $K$ copies of the
# unlabelled rows go through the encoder and the decoder as one stacked batch.
#
# The loss of a training batch is
# $\mathrm{mean}_\mathrm{labelled}[\mathcal{L} - \alpha \log q(y|x)] + \mathrm{mean}_\mathrm{unlabelled}[\mathcal{U}]$,
# and `objective.terms` keeps its three parts:

# %%
batch_x = tv.binarize(x_train[:200], rng)
batch_labels = labels[:200]  # mostly -1 here
loss = objective.loss(batch_x, rng=rng, labels=batch_labels)
objective.clear_cache()  # no backward pass follows this one
print(f"{np.sum(batch_labels >= 0)} labelled and {np.sum(batch_labels < 0)} unlabelled rows")
print(
    f"loss {loss:.2f} = L {objective.terms['labelled']:.2f} + alpha {alpha:g}"
    f" x classification {objective.terms['classification']:.3f} + U {objective.terms['unlabelled']:.2f}"
)

# %% [markdown]
# ## A gradient check of the whole objective
#
# Every backward pass in tinyvae is written by hand; `check_loss` compares the
# gradient of every parameter with central differences of the loss, in
# float64, on a tiny M2 (6 pixels, 3 classes, 5 tanh units, $z$ of 2
# dimensions). The batch mixes two labelled rows and three unlabelled ones,
# and the noise $\epsilon$ is fixed so that the loss is a deterministic
# function of the parameters. It covers the labelled bound, the $\alpha$-weighted
# classification loss, and the unlabelled bound with its gradient through
# $q(y|x)$ into the classifier (exercise 14 asks you to derive that one).

# %%
check_rng = np.random.default_rng(11)
tiny = tv.M2(
    6, n_classes=3, hidden=(5,), z_dim=2, activation="tanh", rng=check_rng, dtype=np.float64
)
tiny_objective = tv.SemiSupervised(tiny, alpha=2.5, n_samples=2)
x_small = (check_rng.random((5, 6)) < 0.5).astype(np.float64)
labels_small = np.array([0, 2, -1, -1, -1])
eps_small = check_rng.standard_normal((2, 5, 2))  # (L samples, B rows, z_dim)
report = check_loss(
    tiny_objective,
    lambda: tiny_objective.loss(x_small, eps=eps_small, labels=labels_small),
    rng=check_rng,
)
print(report)

# %% [markdown]
# ## Training
#
# `tv.fit` trains the objective: an epoch is one pass over the unlabelled
# images in batches of `BATCH`, each batch joined by 100 labelled rows drawn
# in turn from the labelled set (at 100 labels, the whole labelled set in
# every batch). After every step we keep the batch's two bounds, and
# every ten steps the test error of $\arg\max_y q(y|x)$ on 2,000 test images;
# after every epoch `fit` evaluates $\mathcal{U}$ on 1,000 test images and the
# error on all of them.

# %%
optimizer = tv.Adam(objective.parameters(), lr=LR)
trace = {"step": [], "labelled": [], "unlabelled": []}
probe = {"step": [], "error": []}


def on_step(step):
    trace["step"].append(step)
    for name in ("labelled", "unlabelled"):
        trace[name].append(objective.terms[name])
    if step % 10 == 0:
        probe["step"].append(step)
        probe["error"].append(objective.error(x_test[:2000], y_test[:2000]))


tic = time.perf_counter()
history = tv.fit(
    objective,
    optimizer,
    tv.Batches(x_train, labels, batch_size=BATCH, binarize=True),
    x_test[:1000],
    epochs=EPOCHS,
    rng=rng,
    on_step=on_step,
    on_epoch=lambda epoch: {"test_error": objective.error(x_test, y_test)},
    progress="epochs",
)
print(f"trained {trace['step'][-1]} steps in {time.perf_counter() - tic:.0f} s")

# %% [markdown]
# What the unlabelled images buy: the same classifier network, trained with the
# same steps and step size on the labelled images alone (dynamically binarized).

# %%
baseline = tv.Classifier(784, HIDDEN, 10, activation="softplus", rng=np.random.default_rng(SEED))
baseline_optimizer = tv.Adam(baseline.parameters(), lr=LR)
for _ in range(trace["step"][-1]):  # steps, not examples: each step is one batch
    baseline.loss(tv.binarize(x_train[rows], rng), y_train[rows])
    baseline_optimizer.zero_grad()
    baseline.backward()
    baseline_optimizer.step()

m2_error = history.metrics["test_error"][-1]
baseline_error = baseline.error(x_test, y_test)
print(f"test error of M2's q(y|x) after {EPOCHS} passes:        {100 * m2_error:.2f} %")
print(f"test error of the classifier on the {N_LABELS} labels alone: {100 * baseline_error:.2f} %")

# %%
fig, (ax_loss, ax_error) = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
ax_loss.plot(trace["step"], trace["labelled"], label="labelled bound L(x, y)")
ax_loss.plot(trace["step"], trace["unlabelled"], label="unlabelled bound U(x)")
ax_loss.set_ylim(0, 1.05 * max(trace["unlabelled"][len(trace["unlabelled"]) // 10 :]))
ax_loss.set_xlabel("training step")
ax_loss.set_ylabel("nats per example (batch mean)")
ax_loss.set_title("the two bounds of each training batch", fontsize=10)
ax_error.plot(probe["step"], 100 * np.asarray(probe["error"]), label="M2, argmax q(y|x)")
ax_error.axhline(
    100 * baseline_error, color="gray", ls="--", label=f"classifier on the {N_LABELS} labels alone"
)
ax_error.set_xlabel("training step")
ax_error.set_ylabel("test error (%), 2,000 test images")
ax_error.set_ylim(0, None)
ax_error.set_title(f"test error with {N_LABELS} labels", fontsize=10)
for ax in (ax_loss, ax_error):
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## Figure 1(b): one style, every class
#
# M2 separates the class from the style. For a test image $x$ with its label
# $y$, take $z$ = the mean of $q(z|x, y)$ and decode it with each of the ten
# labels: $\mathbb{E}[x|y = k, z]$ for $k = 0, \dots, 9$ (`model.analogies`).
# The paper's Figure 1 does this for MNIST and SVHN. These are the first
# eight test images, not chosen.

# %%
n_rows = 8
decoded = model.analogies(x_test[:n_rows], y_test[:n_rows])  # (rows, 10, 784)
images = np.concatenate([x_test[:n_rows, None], decoded], axis=1).reshape(-1, 28, 28)
fig, ax = plt.subplots(figsize=(8, 6.2))
ax.imshow(tile(images, n_rows, K + 1), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
ax.set_xticks(
    14.5 + 29 * np.arange(K + 1), ["test\nimage"] + [f"y = {k}" for k in range(K)], fontsize=8
)
ax.set_yticks([])
ax.set_title(
    "left: a test image; then E[x | y, z] for y = 0..9, z = the mean of q(z | x, y)", fontsize=10
)
plt.show()

# %% [markdown]
# After three passes the separation has only begun: in some rows the decoded
# digit follows the column's label while keeping the test image's slant and
# stroke, in others $z$ still carries the class, and the decoder draws nearly
# the same digit whatever $y$ says (the decoder learns to read $y$ as $q(y|x)$
# grows confident). The page's `ssl-analogies.png`, from 30 passes on MNIST,
# shows the full effect: every column its own digit in the row's style.
#
# The same works without a test image: each row below is one $z$ drawn from
# the prior $p(z)$, decoded with every label (`model.decode_mean`). The
# paper's Figure 1(a) shows the same with a 2-D $z$ on a grid (the page's
# `ssl-styles.png`).

# %%
n_styles = 6
z = np.repeat(model.prior.sample(n_styles, np.random.default_rng(SEED + 3)), K, axis=0)
styles = model.decode_mean(z, np.tile(np.arange(K), n_styles)).reshape(-1, 28, 28)
fig, ax = plt.subplots(figsize=(7.5, 4.6))
ax.imshow(tile(styles, n_styles, K), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
ax.set_xticks(14.5 + 29 * np.arange(K), [f"y = {k}" for k in range(K)], fontsize=8)
ax.set_yticks([])
ax.set_title("each row one z ~ p(z), decoded with y = 0..9", fontsize=10)
plt.show()

# %% [markdown]
# After training, the bounds of a test image depend on the label, by tens of
# nats, and $q(y|x)$ has become confident, though not always right: compare
# each image's label with $\arg\max_y q(y|x)$, and with the label whose bound
# $-\mathcal{L}(x, y)$ is highest, the decoder's own vote.

# %%
show_bounds(x4, eps4, y_test[:4])
print(f"\nthe whole notebook: {time.perf_counter() - started:.0f} s")

# %% [markdown]
# ## What this run shows, and what it does not
#
# In about half a minute of training, M2 classifies the synthetic test digits
# with an error of about 17 % from 100 labels, some 4 points better than the
# same network trained on the 100 labelled images alone (about 21 %, and no
# better with more steps: it has learnt its 100 images): the unlabelled
# images already help, through $\mathcal{U}(x)$. That is far from the paper.
# Its M2 reaches 11.97 ± 1.71 % on MNIST with 100 labels (Table 1) after 3000
# passes with 500-unit networks; the page's run of those networks on MNIST
# was at 20.13 % after 30 passes (41 minutes) and still falling, and M1+M2,
# which runs M2 on the codes of a trained VAE
# (`tv.SemiSupervised(m2, alpha, features=m1)`), reached 6.62 % after 100
# passes against the paper's 3.33 %, and 4.61 % after 150 with a tenth of the
# weight on the labelled rows (`labelled_weight=0.1`). The synthetic digits are not MNIST, so
# the numbers here compare with neither; what carries over is the shape of
# the result: the bound on the unlabelled images improves the classifier, and
# the decoder comes to separate the class from the style.
