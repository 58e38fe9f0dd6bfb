"""How noisy are the gradient estimators of AEVB section 2? A measurement.

For one fixed minibatch and fixed parameters (a VAE trained briefly with
estimator B), draw the noise many times and measure, for the encoder's
gradient, the variance across draws of:

  score      the score-function ("naive", REINFORCE) estimator, AEVB section 2.2
  score+b    the same with a leave-one-out baseline (needs L >= 2)
  A          SGVB estimator A, reparameterized, Monte Carlo KL (AEVB eq. 6)
  B          SGVB estimator B, reparameterized, analytic KL (AEVB eq. 10)

AEVB claims the score-function estimator's variance makes it impractical and
that the reparameterized estimators are far better, B better than A.

    python demos/aevb/estimator_variance.py                  # MNIST (or --dataset synthetic)
    python demos/aevb/estimator_variance.py --quick          # a smoke run of about ten seconds

Writes variance.png and variance.json into the output folder.
"""

import os
import sys

# This clone's tinyvae, even when Python starts in the folder that holds the clone:
# see "Running from the folder above a clone" in tinyvae/cli.py.
sys.path.append(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

import tinyvae as tv
from tinyvae import cli
from tinyvae.data.datasets import DATASET_NAMES
from tinyvae.evaluation import gradient_variance
from tinyvae.files import write_json
from tinyvae.plots import save_figure

ESTIMATORS = [("score", False), ("score", True), ("A", False), ("B", False)]
COLOURS = {"score function": "#d62728", "reparameterized": "#1f77b4"}
QUICK_IMAGES, QUICK_DRAWS = 10_000, 50  # --quick: the training images, the draws


def label(estimator, baseline):
    return "score+b" if baseline else estimator


def parse_args(argv=None):
    parser = cli.parser(__doc__)
    parser.add_argument(
        "--dataset",
        choices=DATASET_NAMES,
        default="mnist",
        help="the images, binarized (frey needs SciPy)",
    )
    parser.add_argument("--data-dir", default=None, help=cli.DATA_DIR_HELP)
    parser.add_argument("--z-dim", type=cli.integer(1), default=20, help="latent dimensions J")
    parser.add_argument(
        "--hidden", type=cli.integer(1), default=500, help="hidden units of encoder and decoder"
    )
    parser.add_argument(
        "--train-epochs",
        type=cli.integer(1),
        default=1,
        help="epochs of estimator-B training before measuring",
    )
    parser.add_argument(
        "--draws", type=cli.integer(2), default=200, help="noise draws per estimator"
    )
    parser.add_argument(
        "--samples",
        type=cli.integer(1),
        nargs="+",
        default=[1, 10],
        help="values of L to measure at (the baseline needs L >= 2)",
    )
    parser.add_argument(
        "--batch-size",
        type=cli.integer(1),
        default=100,
        help="minibatch size, for training and for the measured minibatch",
    )
    parser.add_argument("--seed", type=cli.integer(0), default=0, help="seed of every random draw")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a smoke run of about ten seconds: training on the first {QUICK_IMAGES:,} images, "
        f"{QUICK_DRAWS} draws per estimator",
    )
    parser.add_argument(
        "--out",
        default=None,
        help="output folder (default: out/estimator-variance, or out/estimator-variance-quick "
        "with --quick)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the results of an earlier run in the output folder",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)
    args.out = cli.output_folder(args.out, os.path.join("out", "estimator-variance"), args.quick)
    if args.quick:
        args.draws = QUICK_DRAWS
    return args


def main(argv=None):
    args = parse_args(argv)
    with cli.user_errors():
        return measure(args)


def measure(args):
    """Check the output folder and load the data, then train, measure and draw."""
    cli.check_writable(args.out)
    cli.refuse_earlier_results(args.out, args.overwrite, "variance.json")
    print(f"writing results to {args.out}/")
    rng = np.random.default_rng(args.seed)
    data = tv.load_dataset(args.dataset, data_dir=args.data_dir)
    x_train = data.x_train[:QUICK_IMAGES] if args.quick else data.x_train
    if args.batch_size > len(x_train):
        raise cli.UsageError(
            f"--batch-size {args.batch_size} is larger than {args.dataset}'s "
            f"{len(x_train)} training images" + (" of --quick" if args.quick else "")
        )
    x_train = x_train if args.dataset == "binarized_mnist" else tv.binarize(x_train, rng)
    model = tv.VAE(
        x_train.shape[1], (args.hidden,), args.z_dim, activation="tanh", init="aevb_normal", rng=rng
    )
    tv.fit(
        model,
        tv.Adam(model.parameters()),
        tv.Batches(x_train, batch_size=args.batch_size),
        epochs=args.train_epochs,
        rng=rng,
        progress="epochs" if args.no_progress else True,
    )
    x = x_train[: args.batch_size]

    results = {"settings": vars(args), "estimators": {}}
    for L in args.samples:
        for estimator, baseline in ESTIMATORS:
            if baseline and L < 2:
                continue
            stats = gradient_variance(
                model, x, estimator, args.draws, rng, n_samples=L, baseline=baseline
            )
            variance = float(np.mean([s["variance"] for s in stats.values()]))
            mean_square = float(np.mean([s["mean_square"] for s in stats.values()]))
            key = f"{label(estimator, baseline)} L={L}"
            results["estimators"][key] = {
                "variance": variance,
                "mean_square": mean_square,
                "per_parameter": stats,
            }
            print(
                f"{key:<14} mean gradient variance {variance:10.3e}   "
                f"squared mean {mean_square:10.3e}   ratio {mean_square / variance:9.3e}"
            )
    write_json(os.path.join(args.out, "variance.json"), results)

    fig = Figure(figsize=(6.5, 3.8))
    ax = fig.add_subplot()
    keys = list(results["estimators"])
    values = [results["estimators"][k]["variance"] for k in keys]
    kinds = ["score function" if k.startswith("score") else "reparameterized" for k in keys]
    ax.bar(range(len(keys)), values, color=[COLOURS[kind] for kind in kinds])
    ax.set_yscale("log")
    ax.set_xticks(range(len(keys)), keys, rotation=30, ha="right")
    ax.set_xlabel("estimator and L, the samples of z per example")
    ax.set_ylabel("variance of the encoder gradient\n(mean over entries, log scale)")
    ax.set_title(
        f"{args.dataset}, binarized: {args.draws} draws on one minibatch of {args.batch_size}"
        + (f" (--quick: trained on {len(x_train):,} images)" if args.quick else ""),
        fontsize=9,
    )
    ax.legend(handles=[Patch(color=colour, label=kind) for kind, colour in COLOURS.items()])
    ax.grid(axis="y", alpha=0.3)
    save_figure(fig, os.path.join(args.out, "variance.png"))
    return results


if __name__ == "__main__":
    main()
