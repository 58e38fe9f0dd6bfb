"""AEVB Figures 2, 4 and 5, reproduced: AEVB against wake-sleep, manifolds, samples.

Figure 2 of Kingma & Welling (2013) plots the lower bound against the number
of training samples evaluated, for AEVB and for the wake-sleep algorithm, on
MNIST (Nz = 3, 5, 10, 20, 200) and Frey Face (Nz = 2, 5, 10, 20). The paper's
setup, used here as written: one hidden layer of 500 (MNIST) or 200 (Frey
Face) tanh units in encoder and decoder, minibatches of M = 100, L = 1
sample, SGVB estimator B, AdaGrad, parameters initialised from N(0, 0.01^2),
the objective scaled to the whole data set (N/M) plus a N(0, I) weight prior.
MNIST uses a Bernoulli decoder on dynamically binarized pixels; Frey Face a
Gaussian decoder whose mean passes through a sigmoid (AEVB appendix C.2).
The paper trains up to 10^8 samples; we stop at --mnist-samples and
--frey-samples. The bound is estimated on 1000 training and 1000 test images
(all of Frey Face's held-out 10 %) with one sample of z each.

Figure 4: the learned 2-D manifolds (Nz = 2); Figure 5: random samples for
Nz = 2, 5, 10, 20 (MNIST).

    python demos/aevb/aevb_figures.py                        # about 15 minutes on 2 cores
    python demos/aevb/aevb_figures.py --mnist-samples 2e5 --frey-samples 2e5   # a quick look
    python demos/aevb/aevb_figures.py --datasets mnist       # MNIST only (Frey Face needs SciPy)
    python demos/aevb/aevb_figures.py --quick                # a smoke run of under a minute

Writes figure2_mnist.png, figure2_frey.png, figure4.png, figure5.png and
figures.json (every curve) into the output folder. The data of every
dataset is loaded before the first model is trained.
"""

import os
import sys
import time

# This clone's tinyvae, even when Python starts in the folder that holds the clone:
# see "Running from the folder above a clone" in tinyvae/cli.py.
sys.path.append(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np
from matplotlib.figure import Figure

import tinyvae as tv
from aevb_common import plot_methods, train
from tinyvae import cli
from tinyvae.files import write_json
from tinyvae.plots import draw_manifold, save_figure, tile

SETUPS = {
    "mnist": {
        "hidden": 500,
        "likelihood": "bernoulli",
        "figure2": [3, 5, 10, 20, 200],
        "extra": [2],
    },
    "frey": {"hidden": 200, "likelihood": "gaussian", "figure2": [2, 5, 10, 20], "extra": []},
}

# The curves are evaluated from step 10 on (log-spaced): a run needs at least
# 10 minibatches of 100.
MIN_SAMPLES = 1000
QUICK_SAMPLES, QUICK_EVALUATIONS = 2e4, 5  # --quick: per run, and points per curve


def parse_args(argv=None):
    parser = cli.parser(__doc__)
    parser.add_argument(
        "--datasets",
        nargs="+",
        choices=list(SETUPS),
        default=list(SETUPS),
        help="which datasets' figures to draw (figure 5 needs mnist)",
    )
    parser.add_argument("--data-dir", default=None, help=cli.DATA_DIR_HELP)
    parser.add_argument(
        "--mnist-samples",
        type=cli.positive_float,
        default=1e6,
        help=f"training samples evaluated per MNIST run (at least {MIN_SAMPLES})",
    )
    parser.add_argument(
        "--frey-samples",
        type=cli.positive_float,
        default=1e6,
        help=f"training samples evaluated per Frey Face run (at least {MIN_SAMPLES})",
    )
    parser.add_argument("--lr", type=cli.positive_float, default=0.02, help="AdaGrad step size")
    parser.add_argument(
        "--evaluations",
        type=cli.integer(2),
        default=12,
        help="log-spaced points on each curve",
    )
    parser.add_argument("--seed", type=cli.integer(0), default=0, help="seed of every random draw")
    parser.add_argument(
        "--no-wake-sleep", action="store_true", help="train AEVB only (halves the time)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a smoke run of under a minute: {QUICK_SAMPLES:,.0f} training samples per run, "
        f"{QUICK_EVALUATIONS} points per curve (the curves have barely started)",
    )
    parser.add_argument(
        "--out",
        default=None,
        help="output folder (default: out/aevb-figures, or out/aevb-figures-quick with --quick)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the results of an earlier run in the output folder",
    )
    args = parser.parse_args(argv)
    for option in ("mnist_samples", "frey_samples"):
        if getattr(args, option) < MIN_SAMPLES:
            parser.error(
                f"--{option.replace('_', '-')} must be at least {MIN_SAMPLES} "
                "(10 minibatches of 100: the curves start there)"
            )
    args.out = cli.output_folder(args.out, os.path.join("out", "aevb-figures"), args.quick)
    if args.quick:
        args.mnist_samples = args.frey_samples = QUICK_SAMPLES
        args.evaluations = QUICK_EVALUATIONS
    return args


def train_curve(method, data, z_dim, setup, budget, args, rng):
    """Train one model, evaluating the bound at log-spaced sample counts."""
    binary = setup["likelihood"] == "bernoulli"
    model = tv.VAE(
        data.x_train.shape[1],
        (setup["hidden"],),
        z_dim,
        activation="tanh",
        likelihood=setup["likelihood"],
        bounded_mean=not binary,
        init="aevb_normal",
        rng=rng,
    )
    steps = int(budget // 100)
    checkpoints = set(np.unique(np.geomspace(10, steps, args.evaluations).astype(int)))
    eval_rng = np.random.default_rng([args.seed, 2])
    x_train_eval, x_test_eval = data.x_train[:1000], data.x_test[:1000]
    if binary:
        x_train_eval = tv.binarize(x_train_eval, eval_rng)
        x_test_eval = tv.binarize(x_test_eval, eval_rng)
    curve = {"samples": [], "train": [], "test": []}

    elbo = tv.SGVB_B(model)  # the bound is estimated with one sample of z per image

    def evaluate(step):
        if step in checkpoints:
            curve["samples"].append(step * 100)
            curve["train"].append(float(elbo.bound(x_train_eval, rng=eval_rng).mean()))
            curve["test"].append(float(elbo.bound(x_test_eval, rng=eval_rng).mean()))

    train(model, method, data.x_train, steps, rng, args.lr, binary, evaluate)
    return model, curve


def figure2(path, dataset, curves, z_dims):
    fig = Figure(figsize=(3.2 * len(z_dims), 3.4))
    for i, z_dim in enumerate(z_dims):
        ax = fig.add_subplot(1, len(z_dims), i + 1)
        plot_methods(
            ax,
            {method: curves.get(f"{method} Nz={z_dim}") for method in ("AEVB", "wake-sleep")},
            "lower bound (nats per example)",
        )
        ax.set_title(f"{dataset}, Nz = {z_dim}", fontsize=9)
    fig.tight_layout()
    fig.legend(*ax.get_legend_handles_labels(), loc="center left", bbox_to_anchor=(1, 0.5))
    save_figure(fig, path)


def figure4(path, models, shapes):
    fig = Figure(figsize=(5 * len(models), 5.4))
    for i, (name, model) in enumerate(models.items()):
        ax = fig.add_subplot(1, len(models), i + 1)
        draw_manifold(ax, model, shapes[name], 12)
        ax.set_title(f"{name}: learned 2-D manifold (Nz = 2)", fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)


def figure5(path, models, shape, rng):
    fig = Figure(figsize=(3 * len(models), 3.4))
    for i, (z_dim, model) in enumerate(sorted(models.items())):
        ax = fig.add_subplot(1, len(models), i + 1)
        ax.imshow(
            tile(model.sample_means(100, rng).reshape(-1, *shape), 10, 10),
            cmap="gray",
            vmin=0,
            vmax=1,
        )
        ax.set_title(f"MNIST samples, Nz = {z_dim}", fontsize=9)
        ax.axis("off")
    save_figure(fig, path)


def main(argv=None):
    args = parse_args(argv)
    with cli.user_errors():
        return draw_figures(args)


def draw_figures(args):
    """Check the output folder and load every dataset, then train and draw."""
    cli.check_writable(args.out)
    cli.refuse_earlier_results(args.out, args.overwrite, "figures.json")
    print(f"writing results to {args.out}/")
    datasets = {name: tv.load_dataset(name, data_dir=args.data_dir) for name in args.datasets}
    results = {"settings": vars(args), "curves": {}, "seconds": {}}
    manifold_models, sample_models = {}, {}
    for dataset, data in datasets.items():
        setup = SETUPS[dataset]
        budget = args.mnist_samples if dataset == "mnist" else args.frey_samples
        curves = results["curves"].setdefault(dataset, {})
        methods = ["AEVB"] if args.no_wake_sleep else ["AEVB", "wake-sleep"]
        for z_dim in sorted(setup["figure2"] + setup["extra"]):
            for method in methods if z_dim in setup["figure2"] else ["AEVB"]:
                started = time.perf_counter()
                rng = np.random.default_rng([args.seed, z_dim])
                model, curve = train_curve(method, data, z_dim, setup, budget, args, rng)
                key = f"{method} Nz={z_dim}"
                curves[key] = curve
                results["seconds"][f"{dataset} {key}"] = time.perf_counter() - started
                print(
                    f"{dataset:<6} {key:<18} bound after {curve['samples'][-1]:.1e} samples: "
                    f"train {curve['train'][-1]:9.2f}  test {curve['test'][-1]:9.2f}  "
                    f"({results['seconds'][f'{dataset} {key}']:.0f} s)",
                    flush=True,
                )
                if method == "AEVB" and z_dim == 2:
                    manifold_models[dataset] = model
                if method == "AEVB" and dataset == "mnist" and z_dim in (2, 5, 10, 20):
                    sample_models[z_dim] = model
        write_json(os.path.join(args.out, "figures.json"), results)
        figure2(os.path.join(args.out, f"figure2_{dataset}.png"), dataset, curves, setup["figure2"])
    shapes = {name: data.image_shape for name, data in datasets.items()}
    figure4(os.path.join(args.out, "figure4.png"), manifold_models, shapes)
    if sample_models:
        figure5(
            os.path.join(args.out, "figure5.png"),
            sample_models,
            shapes["mnist"],
            np.random.default_rng(args.seed),
        )
    return results


if __name__ == "__main__":
    main()
