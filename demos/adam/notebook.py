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
# # Adam and its bias correction, by hand
#
# Kingma & Ba's *Adam: a method for stochastic optimization* (ICLR 2015) is
# the optimizer that trains every model of this project. It keeps two running
# averages per parameter, of the gradient and of its square, and steps along
# the one divided by the square root of the other. This notebook writes
# Algorithm 1 out, takes one step by hand and checks it against `tv.Adam`,
# shows why the averages need the bias correction of Adam §3 (and what a step
# without it looks like), does the same for AdaMax (Algorithm 2), checks the
# gradient of a regularized logistic regression once, and then trains that
# logistic regression with Adam, AdaGrad, SGD with Nesterov momentum and
# RMSProp: Kingma & Ba's Figure 1, on tinyvae's synthetic digits.
#
# Optimizers have no backward pass: they read the gradients the model's
# backward pass left in its `grads` and update the parameters in place.
# The page beside this notebook (`README.md`) has the equations with their
# numbers, the files to read and the full-length results on MNIST.

# %%
import matplotlib.pyplot as plt
import numpy as np

import tinyvae as tv
from tinyvae.gradcheck import check_loss

# %% [markdown]
# ## Settings
#
# The quick run trains each optimizer for 3 passes over the 60,000 training
# digits, at each of three step sizes: about 10 seconds of training on an idle
# 2-core machine, the whole notebook well under a minute. For the length of
# the page's MNIST run set `EPOCHS = 20` (training then takes about a minute
# more); Kingma & Ba's Figure 1 shows 45 passes.

# %%
EPOCHS = 3  # passes over the training images per run; 20 for the page's MNIST run
BATCH_SIZE = 128  # as in Kingma & Ba section 6.1
L2 = 1e-4  # the L2 penalty, l2/2 ||W||^2 per example
# The step sizes alpha tried per optimizer (each decayed as alpha / sqrt(t)); the
# figure shows each optimizer at its best, as Kingma & Ba report theirs.
GRID = {
    "Adam": (0.03, 0.1, 0.3),
    "AdaGrad": (0.1, 0.3, 1.0),
    "SGD, Nesterov 0.9": (0.1, 0.3, 1.0),
    "RMSProp": (0.03, 0.1, 0.3),
}
SEED = 1
# The matrices of logistic regression are small (128 x 784 times 784 x 10):
# one BLAS thread is the fastest, also on a machine that other programs keep busy.
tv.set_blas_threads(1)

# %% [markdown]
# ## Algorithm 1
#
# Let $f_t(\theta)$ be the loss on the minibatch of step $t$ and
# $g_t = \nabla_\theta f_t(\theta_{t-1})$ its gradient. Adam starts from
# $m_0 = 0$, $v_0 = 0$, $t = 0$, and at every step computes, elementwise:
#
# $$t \leftarrow t + 1$$
# $$m_t = \beta_1 m_{t-1} + (1 - \beta_1)\, g_t \qquad \text{(biased 1st moment estimate)}$$
# $$v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2 \qquad \text{(biased 2nd raw moment estimate)}$$
# $$\hat m_t = m_t / (1 - \beta_1^t), \qquad \hat v_t = v_t / (1 - \beta_2^t) \qquad
# \text{(bias-corrected estimates)}$$
# $$\theta_t = \theta_{t-1} - \alpha\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)$$
#
# with the paper's defaults $\alpha = 0.001$, $\beta_1 = 0.9$,
# $\beta_2 = 0.999$, $\epsilon = 10^{-8}$. $m_t$ estimates the mean of the
# gradient and $v_t$ its uncentered variance; their ratio is a step of size
# about $\alpha$ in every coordinate, whatever the scale of the gradient
# (Adam §2.1: $|\Delta_t| \lesssim \alpha$, a trust region).
#
# Below, Algorithm 1 line by line for one parameter of three entries, two
# steps, against `tv.Adam` on the same parameter. `tv.Adam` computes the last
# three lines regrouped as Adam §2 suggests,
# $\alpha_t = \alpha \sqrt{1-\beta_2^t}/(1-\beta_1^t)$ and
# $\theta_t = \theta_{t-1} - \alpha_t m_t / (\sqrt{v_t} + \hat\epsilon)$ with
# $\hat\epsilon = \epsilon\sqrt{1-\beta_2^t}$, so the two agree to rounding.


# %%
def adam_by_hand(theta, m, v, t, g, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One step of Algorithm 1, line by line; returns the new (theta, m, v, t)."""
    t = t + 1
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta, m, v, t


theta0 = np.array([0.5, -1.0, 2.0])
gradients = np.array([[0.2, -0.05, 3.0], [-0.1, -0.04, 2.5]])  # g_1 and g_2

# tv.Adam updates (name, parameter, gradient) triples in place, as model.parameters() gives
param, grad = theta0.copy(), np.zeros(3)
opt = tv.Adam([("theta", param, grad)], lr=1e-3)

theta, m, v, t = theta0, np.zeros(3), np.zeros(3), 0
np.set_printoptions(precision=10, suppress=True)
for g in gradients:
    theta, m, v, t = adam_by_hand(theta, m, v, t, g)
    grad[...] = g  # what a backward pass leaves in the gradient
    opt.step()
    print(f"step t = {t}")
    print("  by hand: theta =", theta, " m =", m, " v =", v)
    print("  tv.Adam: theta =", param, " m =", opt.m["theta"], " v =", opt.v["theta"])
    print(f"  largest difference in theta: {np.max(np.abs(theta - param)):.1e}")
    assert np.allclose(theta, param, rtol=1e-12, atol=1e-15)
    if t == 1:
        print("  the first step, theta_1 - theta_0 =", param - theta0)

# %% [markdown]
# The numbers are equal: here to the last digit, in general to rounding, since
# `tv.Adam` regroups the arithmetic.
# Look at the first step: $\hat m_1 = g_1$ and $\hat v_1 = g_1^2$, so
# $\theta_1 - \theta_0 = -\alpha\, g_1/(|g_1| + \epsilon) \approx -\alpha\,
# \mathrm{sign}(g_1)$: every entry moved by $\alpha = 0.001$, whether its
# gradient was $-0.05$ or $3$. That is the point of dividing by $\sqrt{\hat v_t}$,
# and it only works because of the bias correction, which the next section takes
# apart.
#
# ## The bias correction (Adam §3)
#
# $m_0$ and $v_0$ start at zero. Unrolled, $v_t = (1-\beta_2)\sum_{i=1}^t
# \beta_2^{t-i} g_i^2$ (eq. 1), so for gradients of a stationary distribution
#
# $$\mathbb{E}[v_t] = \mathbb{E}[g_t^2]\,(1-\beta_2)\sum_{i=1}^t \beta_2^{t-i} + \zeta
# = \mathbb{E}[g_t^2]\,(1 - \beta_2^t) + \zeta \qquad \text{(eqs. 3-4)}$$
#
# with $\zeta = 0$. The raw average is too small by the factor $1 - \beta_2^t$,
# which for $\beta_2 = 0.999$ is still $0.63$ after 1000 steps; $m_t$ is too
# small by $1 - \beta_1^t$ in the same way. Dividing the factors out gives
# $\hat m_t$ and $\hat v_t$.
#
# The cell below feeds `tv.Adam` a stream of noisy gradients,
# $g_t \sim \mathcal{N}(0.5, 1)$, in 2000 independent coordinates at once (one
# parameter array), and averages over the coordinates: the raw $m_t$, $v_t$ and
# the corrected `bias_corrected_moments`. A second `tv.Adam` with
# `bias_correction=False` sees the same gradients, and the ratio of its update to
# Adam's is the factor $(1-\beta_1^t)/\sqrt{1-\beta_2^t}$ by which a step
# without the correction is too large.

# %%
T, CHAINS, MEAN, SD = 1000, 2000, 0.5, 1.0
noise_rng = np.random.default_rng(SEED)
g_stream = noise_rng.normal(MEAN, SD, size=(T, CHAINS))
with_grad, without_grad = np.zeros(CHAINS), np.zeros(CHAINS)
with_param, without_param = np.zeros(CHAINS), np.zeros(CHAINS)
adam = tv.Adam([("w", with_param, with_grad)])
raw = tv.Adam([("w", without_param, without_grad)], bias_correction=False)
moments = np.zeros((T, 4))  # mean over coordinates of m, v, m_hat, v_hat
step_ratio = np.zeros(T)  # |update without correction| / |update with it|
for step, g in enumerate(g_stream):
    with_grad[...] = g
    without_grad[...] = g
    before_with, before_without = with_param.copy(), without_param.copy()
    adam.step()
    raw.step()
    m_hat, v_hat = adam.bias_corrected_moments("w")
    moments[step] = adam.m["w"].mean(), adam.v["w"].mean(), m_hat.mean(), v_hat.mean()
    step_ratio[step] = np.median((without_param - before_without) / (with_param - before_with))

steps = np.arange(1, T + 1)
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), layout="constrained")
ax = axes[0]
ax.plot(steps, moments[:, 0], color="tab:green", label="$m_t$ (raw)")
ax.plot(steps, moments[:, 2], color="tab:red", label=r"$\hat m_t = m_t / (1-\beta_1^t)$")
ax.axhline(MEAN, color="black", ls="--", lw=1, label=r"$\mathbb{E}[g] = 0.5$")
ax.set_title(r"first moment, $\beta_1 = 0.9$", fontsize=10)
ax = axes[1]
ax.plot(steps, moments[:, 1], color="tab:green", label="$v_t$ (raw)")
ax.plot(steps, moments[:, 3], color="tab:red", label=r"$\hat v_t = v_t / (1-\beta_2^t)$")
second = MEAN**2 + SD**2
ax.plot(
    steps,
    second * (1 - 0.999**steps),
    ":",
    color="black",
    label=r"eq. (4): $(1-\beta_2^t)\,\mathbb{E}[g^2]$",
)
ax.axhline(second, color="black", ls="--", lw=1, label=r"$\mathbb{E}[g^2] = 1.25$")
ax.set_title(r"second raw moment, $\beta_2 = 0.999$", fontsize=10)
for ax in axes[:2]:
    ax.set_xscale("log")
    ax.set_xlabel("step t")
    ax.set_ylabel(f"mean over {CHAINS} coordinates")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
ax = axes[2]
for beta1, style in ((0.0, "--"), (0.9, "-")):
    for beta2, color in ((0.99, "tab:blue"), (0.999, "tab:orange"), (0.9999, "tab:purple")):
        factor = (1 - beta1**steps) / np.sqrt(1 - beta2**steps)
        ax.plot(
            steps, factor, style, color=color, label=rf"$\beta_1$ = {beta1}, $\beta_2$ = {beta2}"
        )
shown = np.unique(np.geomspace(1, T, 20).astype(int)) - 1  # evenly on the log axis
ax.plot(
    steps[shown],
    step_ratio[shown],
    "o",
    color="black",
    ms=3,
    label="measured, tv.Adam (0.9, 0.999)",
)
ax.axhline(1, color="grey", lw=0.8)
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("step t")
ax.set_ylabel("uncorrected step / Adam's step")
ax.set_ylim(0.8, 2000)
ax.set_title(r"$(1-\beta_1^t)/\sqrt{1-\beta_2^t}$: a step without the correction", fontsize=10)
ax.legend(fontsize=7, ncols=2, loc="upper right")
ax.grid(alpha=0.3, which="both")
plt.show()
print(
    f"first step with beta1 = 0: {1 / np.sqrt(1 - 0.999):.1f}x (beta2 = 0.999), "
    f"{1 / np.sqrt(1 - 0.9999):.1f}x (0.9999) Adam's"
)
peak = (1 - 0.9**steps) / np.sqrt(1 - 0.999**steps)
print(
    f"with beta1 = 0.9, beta2 = 0.999 the factor peaks at t = {steps[peak.argmax()]}: "
    f"{peak.max():.2f}x"
)

# %% [markdown]
# Left and middle: the raw averages start at zero and creep up, $v_t$ exactly
# along eq. (4); the corrected ones are right from the first step. Right: an
# Adam without the correction (RMSProp with momentum, Adam §5) takes steps
# larger than Adam's by $(1-\beta_1^t)/\sqrt{1-\beta_2^t}$: with $\beta_1 = 0$
# that is $1/\sqrt{1-\beta_2} = 31.6\times$ ($\beta_2 = 0.999$) or $100\times$
# ($0.9999$) at the first step, and with $\beta_1 = 0.9$ it peaks near
# $t = 12$ at $6.6\times$ or $21\times$. The dots are the ratio measured between
# the two `tv.Adam`s, on the formula's line. For $\beta_2$ close to 1 the
# uncorrected steps stay too large for thousands of steps: Kingma & Ba's
# Figure 4 (Adam §6.4) shows such runs diverging on a VAE, and the page beside
# this notebook repeats that grid of 60 runs (`demos/adam/adam_experiments.py`).
#
# ## AdaMax (Algorithm 2, Adam §7.1)
#
# Adam scales by an $L^2$ norm of past gradients. With an $L^p$ norm,
# $v_t = \beta_2^p v_{t-1} + (1-\beta_2^p)|g_t|^p$ (eq. 6), and as
# $p \to \infty$, $u_t = \lim_{p\to\infty} v_t^{1/p}$ becomes
# $\max(\beta_2^{t-1}|g_1|, \ldots, \beta_2|g_{t-1}|, |g_t|)$ (eq. 11), that is
#
# $$u_t = \max(\beta_2 u_{t-1}, |g_t|) \qquad \text{(eq. 12)}, \qquad
# \theta_t = \theta_{t-1} - \frac{\alpha}{1 - \beta_1^t}\, \frac{m_t}{u_t},$$
#
# with $m_t$ as in Adam and default $\alpha = 0.002$. A maximum is not biased
# towards its zero start, so $u_t$ needs no correction; only $m_t$'s factor
# remains, folded into the step size. `tv.AdaMax` adds $\epsilon$ to $|g_t|$
# (as `torch.optim.Adamax` does), so that a coordinate whose gradients were
# all exactly zero gets $0/\epsilon$, not $0/0$. The same two steps by hand:

# %%
param, grad = theta0.copy(), np.zeros(3)
adamax = tv.AdaMax([("theta", param, grad)])  # lr = 0.002
theta, m, u = theta0, np.zeros(3), np.zeros(3)
beta1, beta2, eps, lr = 0.9, 0.999, 1e-8, 0.002
for t, g in enumerate(gradients, start=1):
    m = beta1 * m + (1 - beta1) * g
    u = np.maximum(beta2 * u, np.abs(g) + eps)
    theta = theta - lr / (1 - beta1**t) * m / u
    grad[...] = g
    adamax.step()
    print(f"step t = {t}: by hand theta = {theta}, tv.AdaMax theta = {param}")
    print(f"  u by hand = {u}, tv.AdaMax u = {adamax.u['theta']}")
    assert np.allclose(theta, param, rtol=1e-12, atol=1e-15)

# %% [markdown]
# ## Logistic regression, and one gradient check (Adam §6.1)
#
# Kingma & Ba's first experiment is L2-regularized multiclass logistic
# regression on the 784 pixels of MNIST: a convex objective, so the optimizers
# are compared without local minima in the way. In tinyvae it is a
# `tv.DropoutMLP` without hidden layers and without dropout, $p(y|x) =
# \mathrm{softmax}(xW + b)$, trained by the objective `tv.VariationalDropout`
# (with no noise there is no KL term), which with `l2=` adds
# $\tfrac{l_2}{2}\|W\|^2$ per example on the weight matrix, not on the bias:
#
# $$\text{loss} = -\frac{1}{M}\sum_{m=1}^M \log \mathrm{softmax}(x_m W + b)_{y_m}
# + \frac{l_2}{2}\|W\|^2.$$
#
# Optimizers have no backward pass to check, but the gradient they follow does.
# Once, on a tiny float64 model (5 pixels, 3 classes, 8 examples):
# `check_loss` compares the hand-written backward pass with central differences
# of the loss for every parameter.

# %%
check_rng = np.random.default_rng(SEED)
tiny = tv.DropoutMLP(5, (), 3, "none", rng=check_rng, dtype=np.float64)
tiny_objective = tv.VariationalDropout(tiny, n_train=100, l2=0.1)
x_tiny = check_rng.normal(size=(8, 5))
y_tiny = check_rng.integers(0, 3, size=8)
report = check_loss(tiny_objective, lambda: tiny_objective.loss(x_tiny, labels=y_tiny))
print(report)
assert report.passed()

# %% [markdown]
# ## Training: Kingma & Ba's Figure 1 on the synthetic digits
#
# Every run starts from the same weights (one seed) and sees the same
# minibatches of 128 (another seed), so the runs differ only in the optimizer
# and its step size. As in Adam §6.1 the step size decays as
# $\alpha_t = \alpha/\sqrt{t}$ (`lr_decay="inverse_sqrt"`), for every optimizer;
# SGD uses Nesterov momentum 0.9 and RMSProp $\rho = 0.9$. Each optimizer is
# tried at the three step sizes of `GRID` and shown at the one with the lowest
# training cost over the last pass. The cost of a step is the loss above on
# that step's minibatch, before the update.

# %%
data = tv.load_dataset("synthetic")  # rendered by tinyvae, cached after the first time
x_train, y_train = data.x_train, data.y_train
print(f"{len(x_train)} training and {len(data.x_test)} test digits, labels {np.unique(y_train)}")


def make_optimizer(name, parameters, lr):
    if name == "Adam":
        return tv.Adam(parameters, lr=lr, lr_decay="inverse_sqrt")
    if name == "AdaGrad":
        return tv.AdaGrad(parameters, lr=lr, lr_decay="inverse_sqrt")
    if name == "RMSProp":
        return tv.RMSProp(parameters, lr=lr, rho=0.9, lr_decay="inverse_sqrt")
    return tv.SGD(parameters, lr=lr, momentum=0.9, nesterov=True, lr_decay="inverse_sqrt")


def train(name, lr):
    """Training cost per step, and the test error, of one run."""
    model = tv.DropoutMLP(784, (), 10, "none", rng=np.random.default_rng(SEED))
    objective = tv.VariationalDropout(model, n_train=len(x_train), l2=L2)
    optimizer = make_optimizer(name, objective.parameters(), lr)
    batch_rng = np.random.default_rng(SEED + 1)
    costs = []
    for _ in range(EPOCHS):
        for x, y in tv.batches(x_train, BATCH_SIZE, batch_rng, labels=y_train):
            costs.append(objective.loss(x, labels=y))
            optimizer.zero_grad()
            objective.backward()
            optimizer.step()
    return np.array(costs), model.error(data.x_test, data.y_test)


steps_per_epoch = -(-len(x_train) // BATCH_SIZE)
runs = {}
for name, lrs in GRID.items():
    for lr in lrs:
        costs, error = train(name, lr)
        runs[name, lr] = costs, error
        last = costs[-steps_per_epoch:].mean()
        print(
            f"{name:18s} alpha = {lr:<5g} cost, last pass {last:.4f}   "
            f"test error {100 * error:.2f} %"
        )
best = {}
for (name, lr), (costs, error) in runs.items():
    if (
        name not in best
        or costs[-steps_per_epoch:].mean() < best[name][1][-steps_per_epoch:].mean()
    ):
        best[name] = (lr, costs, error)


# %%
def running_mean(values, window):
    """The mean of each value and the window - 1 before it (fewer at the start)."""
    total = np.cumsum(np.concatenate([[0.0], values]))
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(ends - window, 0)
    return (total[ends] - total[starts]) / (ends - starts)


WINDOW = 50  # steps in the running mean of the right panel
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
for (name, (lr, costs, error)), color in zip(best.items(), plt.cm.tab10.colors):
    label = f"{name} ($\\alpha$ = {lr:g}; test error {100 * error:.2f} %)"
    axes[0].plot(np.arange(1, 61), costs[:60], "o-", color=color, ms=2.5, lw=1.2, label=label)
    passes = np.arange(1, len(costs) + 1) / steps_per_epoch
    axes[1].plot(passes, costs, color=color, alpha=0.15, lw=0.5)
    axes[1].plot(passes, running_mean(costs, WINDOW), color=color, lw=1.6, label=label)
axes[0].set_xlabel("step (minibatches of 128)")
axes[0].set_title("the first 60 steps, the cost of each minibatch", fontsize=10)
axes[1].set_xlabel("passes over the 60,000 training digits")
axes[1].set_title(f"all {EPOCHS} passes: each step (faint), running mean of {WINDOW}", fontsize=10)
for ax in axes:
    ax.set_yscale("log")
    ax.set_ylabel("training cost per example")
    ax.grid(alpha=0.3, which="both")
axes[1].legend(fontsize=8)
fig.suptitle(
    "Logistic regression of the synthetic digits (L2 1e-4, step size alpha / sqrt(t)), "
    "each optimizer at its best alpha",
    fontsize=10,
)
plt.show()
np.set_printoptions(precision=4, suppress=True)
for name, (lr, costs, _) in best.items():
    print(f"{name:18s} alpha = {lr:g}")
    print(f"  cost of the first 8 steps: {np.round(costs[:8], 2)}")
    print(f"  mean cost of each pass:    {costs.reshape(EPOCHS, steps_per_epoch).mean(1)}")


# %% [markdown]
# ## What the quick run shows
#
# In this run (seed 1; the numbers printed above):
#
# - **After 3 passes** the mean training cost over the last pass is lowest for
#   Adam ($\alpha = 0.1$), 0.068, with RMSProp ($\alpha = 0.1$) close behind at
#   0.070, then SGD with Nesterov momentum ($\alpha = 0.3$) at 0.104 and AdaGrad
#   ($\alpha = 0.3$) at 0.122; the test errors are 1.27 %, 1.24 %, 2.15 % and
#   2.88 %. The gap between Adam and RMSProp is too small for one seed and a
#   grid of three step sizes to order them.
# - **The first steps** (left panel) show the trust region at work, and what
#   a missing bias correction does. The adaptive methods move every weight by
#   about the same amount at their first step, whatever its gradient: Adam and
#   AdaGrad by $\alpha$, RMSProp, which has no correction, by
#   $\alpha/\sqrt{1-\rho} = 3.16\,\alpha$. So RMSProp at 0.1 and AdaGrad at 0.3
#   take nearly the same first step, and their costs jump from 2.45 to 17-18
#   nats, Adam's to 5.9. SGD, whose step is proportional to the gradient,
#   descends smoothly and is the lowest for the first dozen steps; from about
#   step 35 on, Adam's cost (averaged over 10 steps) stays below SGD's.
# - **Against the paper.** Kingma & Ba (Figure 1, MNIST, 45 passes) find Adam
#   about as fast as SGD with Nesterov momentum and both faster than AdaGrad.
#   Here, after 3 passes, Adam is ahead of SGD and AdaGrad is last. The page's
#   MNIST run (`demos/adam/adam_experiments.py`, 20 passes) has the same order
#   with SGD closing in by the last pass: costs 0.267 (Adam), 0.273 (SGD),
#   0.333 (AdaGrad). The synthetic digits are easier than MNIST (a test error
#   near 1.3 % against 7.3 %), so the two runs' costs are not comparable with
#   each other. RMSProp is not in the paper's Figure 1; it is in its Figure 2
#   (an MLP with dropout), which the page reproduces too.
