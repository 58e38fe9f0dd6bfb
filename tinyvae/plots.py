"""Figures the demos write: image grids, learning curves, latent spaces, manifolds.

Uses matplotlib's object-oriented API with the Agg canvas (no screen and no
pyplot global state needed). Every figure is written to a temporary file and
renamed into place, so an interrupted demo never leaves half a PNG.
"""

from statistics import NormalDist

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .files import atomic_write


def save_figure(fig, path):
    """Render ``fig`` to ``path`` (PNG) atomically."""
    FigureCanvasAgg(fig)
    with atomic_write(path) as f:
        fig.savefig(f, format="png", dpi=100, bbox_inches="tight")


def tile(images, rows, cols, pad=1):
    """Arrange up to ``rows * cols`` images of shape (h, w) into one padded array."""
    n, h, w = images.shape
    cells = np.ones((rows * cols, h + pad, w + pad), dtype=np.float32)
    cells[:n, :h, :w] = images[: rows * cols]
    # (rows, cols, h', w') -> (rows, h', cols, w'): rows of images side by side
    grid = cells.reshape(rows, cols, h + pad, w + pad).transpose(0, 2, 1, 3)
    grid = grid.reshape(rows * (h + pad), cols * (w + pad))
    return np.pad(grid, ((pad, 0), (pad, 0)), constant_values=1.0)


def image_grid(path, images, image_shape, rows, cols, title):
    """A grid of grey-level images with values in [0, 1]."""
    grid = tile(np.asarray(images).reshape(-1, *image_shape), rows, cols)
    fig = Figure(figsize=(cols * image_shape[1] / 28 * 0.6, rows * image_shape[0] / 28 * 0.6 + 0.4))
    ax = fig.add_subplot()
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.axis("off")
    save_figure(fig, path)


def reconstruction_grid(path, originals, reconstructions, image_shape, cols=12, pairs=4):
    """Rows of originals, each followed by a row of their reconstructions."""
    n = cols * pairs
    originals = np.asarray(originals[:n]).reshape(pairs, cols, -1)
    reconstructions = np.asarray(reconstructions[:n]).reshape(pairs, cols, -1)
    interleaved = np.stack([originals, reconstructions], axis=1).reshape(-1, originals.shape[-1])
    image_grid(
        path,
        interleaved,
        image_shape,
        2 * pairs,
        cols,
        "odd rows: test images, even rows: reconstructions (mean of p(x|z), z ~ q(z|x))",
    )


def learning_curves(path, history, ylabel, title="train and test ELBO per epoch"):
    """Train and test ELBO per epoch (ELBO = -loss; higher is better)."""
    fig = Figure(figsize=(5, 3.5))
    ax = fig.add_subplot()
    ax.plot(history.epoch, -np.asarray(history.train_loss), "o-", label="train")
    if history.test_loss:  # fit records none without x_test
        ax.plot(history.epoch, -np.asarray(history.test_loss), "s-", label="test")
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend()
    save_figure(fig, path)


def latent_scatter(path, mu, labels, title):
    """Posterior means coloured by label; projected on 2 principal axes if J > 2."""
    mu = np.asarray(mu, dtype=np.float64)
    if mu.shape[1] > 2:
        centred = mu - mu.mean(axis=0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        points, axes = centred @ vt[:2].T, ("principal axis 1 of E[z|x]", "principal axis 2")
    elif mu.shape[1] == 2:
        points, axes = mu, ("z1 (posterior mean)", "z2 (posterior mean)")
    else:
        points, axes = np.c_[mu[:, 0], np.zeros(len(mu))], ("z1 (posterior mean)", "(J = 1)")
    fig = Figure(figsize=(5.5, 4.5))
    ax = fig.add_subplot()
    scatter = ax.scatter(
        points[:, 0], points[:, 1], c=labels, cmap="tab10", s=3, alpha=0.7, vmin=-0.5, vmax=9.5
    )
    fig.colorbar(scatter, ax=ax, ticks=range(10), label="label")
    ax.set_xlabel(axes[0])
    ax.set_ylabel(axes[1])
    ax.set_title(title, fontsize=9)
    save_figure(fig, path)


def manifold_grid_codes(n):
    """Latent codes on an n x n grid, evenly spaced in probability (AEVB Fig. 4).

    The unit square of quantiles is mapped through the inverse CDF of the
    Gaussian prior, so each cell covers the same prior mass.
    """
    quantiles = np.linspace(0.5 / n, 1 - 0.5 / n, n)
    values = np.array([NormalDist().inv_cdf(q) for q in quantiles])  # n scalars
    z1, z2 = np.meshgrid(values, values[::-1])  # z2 grows upwards, as on a plot
    return np.stack([z1.ravel(), z2.ravel()], axis=1)


def draw_manifold(ax, model, image_shape, n=20):
    """Draw decoder means over the grid of :func:`manifold_grid_codes` on ``ax``.

    Five columns and rows are labelled with their z1 and z2: the steps in z
    grow towards the edges, where the prior has little mass.
    """
    codes = manifold_grid_codes(n)
    images = model.decode_mean(codes).reshape(-1, *image_shape)
    ax.imshow(tile(images, n, n), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    h, w = image_shape
    cells = np.linspace(0, n - 1, 5).round().astype(int)
    z1, z2 = codes[:n, 0], codes[::n, 1]  # along the first row, down the first column
    # cell j starts at pixel 1 + j (w + 1): one pixel of padding before every image
    ax.set_xticks(1 + cells * (w + 1) + (w - 1) / 2, [f"{z1[j]:.1f}" for j in cells])
    ax.set_yticks(1 + cells * (h + 1) + (h - 1) / 2, [f"{z2[i]:.1f}" for i in cells])
    ax.tick_params(labelsize=7)
    ax.set_xlabel("z1 (columns at equal steps of prior probability)", fontsize=8)
    ax.set_ylabel("z2 (rows likewise)", fontsize=8)


def manifold(path, model, image_shape, n=20):
    """Decoder means over a grid of the 2-D latent space (AEVB Figure 4)."""
    fig = Figure(figsize=(n * image_shape[1] / 28 * 0.35 + 0.8, n * image_shape[0] / 28 * 0.35 + 1))
    ax = fig.add_subplot()
    draw_manifold(ax, model, image_shape, n)
    ax.set_title("learned 2-D manifold: mean of p(x|z) on a grid of prior quantiles", fontsize=9)
    save_figure(fig, path)
