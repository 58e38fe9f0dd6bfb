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

    python demos/estimator_variance.py                  # MNIST (or --dataset synthetic)

Writes variance.png and variance.json into the output folder.
"""

import argparse
import os
import sys

import numpy as np
from matplotlib.figure import Figure

import tinyvae as tv
from tinyvae.data.datasets import DATASET_NAMES
from tinyvae.evaluation import gradient_variance
from tinyvae.files import write_json
from tinyvae.plots import save_figure

ESTIMATORS = [("score", False), ("score", True), ("A", False), ("B", False)]


def label(estimator, baseline):
    return "score+b" if baseline else estimator


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--dataset", choices=DATASET_NAMES, default="mnist")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--z-dim", type=int, default=20)
    parser.add_argument("--hidden", type=int, default=500)
    parser.add_argument(
        "--train-epochs",
        type=int,
        default=1,
        help="epochs of estimator-B training before measuring",
    )
    parser.add_argument("--draws", type=int, default=200, help="noise draws per estimator")
    parser.add_argument(
        "--samples", type=int, nargs="+", default=[1, 10], help="values of L to measure at"
    )
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=os.path.join("out", "estimator-variance"))
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    print(f"writing results to {args.out}/")
    rng = np.random.default_rng(args.seed)
    data = tv.load_dataset(args.dataset, data_dir=args.data_dir)
    x_train = data.x_train if args.dataset == "binarized_mnist" else tv.binarize(data.x_train, rng)
    model = tv.VAE(
        x_train.shape[1], (args.hidden,), args.z_dim, activation="tanh", init="aevb_normal", rng=rng
    )
    tv.fit(
        model,
        tv.Adam(model.parameters()),
        x_train,
        epochs=args.train_epochs,
        batch_size=args.batch_size,
        rng=rng,
        progress=False,
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
    colours = ["#d62728" if k.startswith("score") else "#1f77b4" for k in keys]
    ax.bar(range(len(keys)), values, color=colours)
    ax.set_yscale("log")
    ax.set_xticks(range(len(keys)), keys, rotation=30, ha="right")
    ax.set_ylabel("variance of the encoder gradient\n(mean over entries, log scale)")
    ax.set_title(
        f"{args.dataset}, {args.draws} draws on one minibatch of {args.batch_size}", fontsize=9
    )
    ax.grid(axis="y", alpha=0.3)
    save_figure(fig, os.path.join(args.out, "variance.png"))
    return results


if __name__ == "__main__":
    sys.exit(main() and 0)
