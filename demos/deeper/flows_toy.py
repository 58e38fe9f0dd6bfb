"""Fit 2-D target densities with 0, 1, 2 and 4 steps of inverse autoregressive flow.

    python demos/deeper/flows_toy.py              # four targets x four flows, about a minute
    python demos/deeper/flows_toy.py --quick      # a few seconds
    python demos/deeper/flows_toy.py --steps 0 1 2 4 8 --iterations 10000

Each target is an unnormalized density p(z) = exp(-U(z)) / Z on the plane
(tinyvae.distributions.energies: a banana, and Rezende & Mohamed's (2015)
ring U1 and waves U2, U3). A flow q(z) -- a diagonal Gaussian N(mu, sigma^2)
pushed through T IAF steps (Kingma et al. 2016) -- is fitted by minimizing

    KL(q || p) = E_eps[ log q(z) + U(z) ] + log Z,    z = flow(mu + sigma eps),

with Adam and the reparameterization trick: the gradient reaches the flow's
weights through z (by dU/dz, written by hand for each target) and through
log q (the log-determinants). T = 0 is the diagonal Gaussian alone. log Z comes
from a fine grid, so the KL printed is the KL itself, estimated on fresh samples.

Writes into the output folder (printed at the start):
  flows.png       one row per target: the target, then q(z) for each number of steps
  table.md        KL(q || p) per target and number of steps
  results.json    every number and the settings
"""

import os
import sys
import time

# This clone's tinyvae, even when Python starts in the folder that holds the clone:
# see "Running from the folder above a clone" in tinyvae/cli.py.
sys.path.append(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np
from matplotlib.figure import Figure
from tqdm.auto import tqdm

import tinyvae as tv
from tinyvae import cli, plots
from tinyvae.distributions.energies import ENERGIES, log_normalizer
from tinyvae.files import atomic_write, write_json

LIMIT = 4.0  # the pictures show [-4, 4]^2


def parse_args(argv=None):
    p = cli.parser(__doc__)
    p.add_argument(
        "--targets", nargs="+", choices=list(ENERGIES), default=list(ENERGIES),
        help="target densities (rows of the figure)",
    )  # fmt: skip
    p.add_argument(
        "--steps", nargs="+", type=cli.integer(0, 16), default=[0, 1, 2, 4],
        help="numbers of IAF steps to fit (columns of the figure; 0: the diagonal Gaussian)",
    )  # fmt: skip
    p.add_argument("--iterations", type=cli.integer(), default=1500, help="Adam steps per fit")
    p.add_argument("--batch-size", type=cli.integer(), default=256, help="samples of q per step")
    p.add_argument(
        "--hidden", type=cli.integer(), default=32,
        help="units in each of the two hidden layers of every step's MADE",
    )  # fmt: skip
    p.add_argument(
        "--restarts", type=cli.integer(), default=2,
        help="fits per target and number of steps, from different starting weights; the one "
        "with the lowest loss over its last 100 steps is kept (KL(q || p) has local optima)",
    )  # fmt: skip
    p.add_argument("--lr", type=cli.positive_float, default=3e-3, help="Adam step size")
    p.add_argument(
        "--eval-samples", type=cli.integer(), default=200_000,
        help="fresh samples for the final KL and the pictures",
    )  # fmt: skip
    p.add_argument(
        "--seed", type=cli.integer(0), default=0, help="seed of the weights and the noise"
    )
    p.add_argument(
        "--quick", action="store_true",
        help="a smoke run of a few seconds: 300 iterations, one fit each, 20,000 test samples",
    )  # fmt: skip
    p.add_argument(
        "--out", default=None,
        help="output folder (default: out/flows-toy, or out/flows-toy-quick with --quick)",
    )  # fmt: skip
    p.add_argument(
        "--overwrite", action="store_true",
        help="replace the results of an earlier run in the output folder",
    )  # fmt: skip
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = p.parse_args(argv)
    args.out = cli.output_folder(args.out, os.path.join("out", "flows-toy"), args.quick)
    if args.quick:
        args.iterations, args.restarts, args.eval_samples = 300, 1, 20_000
    args.steps = sorted(set(args.steps))
    return args


class Constant(tv.Module):
    """The encoder of a q(z) that has no x: the same learned numbers for every row.

    forward(x) broadcasts the parameter ``c`` to (B, n); backward sums the
    rows' gradients into it (c is used once per row) and returns None for x.
    """

    def __init__(self, values):
        super().__init__()
        self.add_param("c", np.asarray(values))

    def forward(self, x):
        self.save(len(x))
        return np.tile(self.params["c"], (len(x), 1))

    def backward(self, dy):
        self.take()
        self.grads["c"] += dy.sum(axis=0)  # every row is a copy of c
        return None


def make_flow(steps, hidden, rng):
    """q(z): N(mu, diag exp(logvar)), then ``steps`` IAF steps.

    mu starts near 0 but not at it: the ring is symmetric about 0, where a
    Gaussian's gradient with respect to mu vanishes and it would stay.
    """
    encoder = Constant(np.concatenate([rng.normal(0.0, 0.3, 2), np.zeros(2)]))  # mu, logvar
    return tv.IAFPosterior(
        encoder, 2, steps, (hidden, hidden), context_dim=0, rng=rng, dtype=np.float64
    )


def fit_flow(q, energy, args, rng, progress):
    """Minimize E_q[log q(z) + U(z)] over the flow's parameters; returns the loss per step."""
    optimizer = tv.Adam(q.parameters(), lr=args.lr)
    B = args.batch_size
    no_x = np.empty((B, 0))  # q(z) reads no data; the rows only set the batch size
    losses = np.empty(args.iterations)
    for i in range(args.iterations):
        eps = rng.standard_normal((B, 2))
        z, log_q = q.forward(no_x, eps)
        U, dU = energy(z)
        losses[i] = np.mean(log_q + U)
        optimizer.zero_grad()
        # loss = 1/B sum_b (log q_b + U(z_b)): z_b gets dU/dz / B, log q_b gets 1 / B
        q.backward(dU / B, np.full(B, 1.0 / B))
        optimizer.step()
        progress.update()
    return losses


def kl_estimate(q, energy, log_z, n, rng):
    """KL(q || p) on n fresh samples: mean and standard error, and the samples."""
    z, log_q = q.sample(np.empty((n, 0)), rng.standard_normal((n, 2)))
    terms = log_q + energy(z)[0] + log_z
    return float(np.mean(terms)), float(np.std(terms) / np.sqrt(n)), z


def density_image(z, bins=120):
    """A normalized 2-D histogram of samples on [-4, 4]^2, rows along z2 (for imshow)."""
    edges = np.linspace(-LIMIT, LIMIT, bins + 1)
    counts, _, _ = np.histogram2d(z[:, 0], z[:, 1], bins=(edges, edges))
    return counts.T / max(counts.max(), 1)


def target_image(energy, bins=120):
    """exp(-U) on the centres of the same grid, scaled to a maximum of 1."""
    edges = np.linspace(-LIMIT, LIMIT, bins + 1)
    centres = 0.5 * (edges[:-1] + edges[1:])
    z1, z2 = np.meshgrid(centres, centres, indexing="xy")
    U, _ = energy(np.stack([z1.ravel(), z2.ravel()], axis=1))
    p = np.exp(-(U - U.min()))
    return p.reshape(bins, bins)


def figure(path, args, images, kls):
    rows, cols = len(args.targets), 1 + len(args.steps)
    fig = Figure(figsize=(2.2 * cols, 2.2 * rows + 0.4))
    axes = fig.subplots(rows, cols, squeeze=False)
    extent = (-LIMIT, LIMIT, -LIMIT, LIMIT)
    for r, name in enumerate(args.targets):
        panels = [("target", images[name]["target"])]
        panels += [(f"T = {T}: KL {kls[name][T][0]:.3f}", images[name][T]) for T in args.steps]
        for c, (title, image) in enumerate(panels):
            ax = axes[r, c]
            ax.imshow(image, origin="lower", extent=extent, cmap="magma", interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(title, fontsize=9)
        axes[r, 0].set_ylabel(name)
    fig.suptitle("IAF fits of 2-D densities: q(z) with T steps, KL(q || p) in nats")
    fig.tight_layout()
    plots.save_figure(fig, path)


def write_table(path, args, kls, seconds):
    head = "| target | " + " | ".join(f"T = {T}" for T in args.steps) + " |"
    lines = [head, "|---|" + "---:|" * len(args.steps)]
    for name in args.targets:
        cells = [f"{kls[name][T][0]:.3f} ± {kls[name][T][1]:.3f}" for T in args.steps]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append(
        f"\nKL(q || p) in nats (± standard error over {args.eval_samples:,} fresh samples); "
        f"the best of {args.restarts} fit(s) by training loss, each {args.iterations} Adam "
        f"steps of {args.batch_size} samples, lr {args.lr}, "
        f"MADE 2 x {args.hidden} ELU units per step, seed {args.seed}; "
        f"{seconds:.0f} s in all."
    )
    table = "\n".join(lines) + "\n"
    with atomic_write(path) as f:
        f.write(table.encode())
    return table


def block_means(values, block=100):
    """Means of consecutive blocks of ``block`` values (the last block may be shorter)."""
    return [float(np.mean(values[i : i + block])) for i in range(0, len(values), block)]


def main(argv=None):
    args = parse_args(argv)
    with cli.user_errors():
        return run(args)


def run(args):
    started = time.perf_counter()
    cli.check_writable(args.out)
    cli.refuse_earlier_results(args.out, args.overwrite, "results.json")
    print(f"writing results to {args.out}/")
    rng = np.random.default_rng(args.seed)
    images, kls, curves = {}, {}, {}
    total = len(args.targets) * len(args.steps) * args.restarts * args.iterations
    with tqdm(total=total, disable=args.no_progress, desc="fitting", unit="step") as progress:
        for name in args.targets:
            energy = ENERGIES[name]
            log_z = log_normalizer(energy)
            images[name] = {"target": target_image(energy)}
            kls[name], curves[name] = {}, {}
            for T in args.steps:
                fits = []
                for _ in range(args.restarts):
                    q = make_flow(T, args.hidden, rng)
                    fits.append((fit_flow(q, energy, args, rng, progress), q))
                # the fit that ended lowest on its own training loss, never on the evaluation
                losses, q = min(fits, key=lambda fit: np.mean(fit[0][-100:]))
                kl, se, z = kl_estimate(q, energy, log_z, args.eval_samples, rng)
                kls[name][T] = (kl, se)
                curves[name][T] = losses + log_z  # KL per step, on that step's batch
                images[name][T] = density_image(z)
                progress.write(f"{name:7s} T = {T}: KL(q || p) = {kl:.3f} ± {se:.3f} nats")
    seconds = time.perf_counter() - started
    figure(os.path.join(args.out, "flows.png"), args, images, kls)
    table = write_table(os.path.join(args.out, "table.md"), args, kls, seconds)
    results = {
        "settings": vars(args),
        "kl": {name: {str(T): kls[name][T] for T in args.steps} for name in args.targets},
        "kl_per_100_steps": {
            name: {str(T): block_means(curves[name][T]) for T in args.steps}
            for name in args.targets
        },
        "seconds": seconds,
    }
    write_json(os.path.join(args.out, "results.json"), results)
    print("\n" + table)
    print(f"figure and table in {args.out}/")
    return results


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
