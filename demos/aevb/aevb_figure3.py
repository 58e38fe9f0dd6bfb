"""AEVB Figure 3, analogue: marginal log-likelihood of AEVB and wake-sleep.

Kingma & Welling (2013), Figure 3, compares AEVB with wake-sleep (and Monte
Carlo EM) by the estimated marginal likelihood of MNIST, for a small model
(Nz = 3, 100 hidden units) trained on N_train = 1000 and 50000 images,
against the number of training samples evaluated. The paper estimates
log p(x) with an HMC-based estimator; we use the importance-weighted bound
L_k of Burda et al. (2015) instead (k = --k-curve along the curves and
--k-final at the end; a lower bound on log p(x) that tightens as k grows).
Monte Carlo EM is left out. The setup is that of demos/aevb/aevb_figures.py
(tanh, AdaGrad, N(0, 0.01^2) init, N/M scaling, weight prior, dynamically
binarized pixels), measured on 500 training and 500 test images.

    python demos/aevb/aevb_figure3.py                 # a few minutes on 2 cores
    python demos/aevb/aevb_figure3.py --quick         # a smoke run of under a minute

Writes figure3.png and figure3.json into the output folder.
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
from tinyvae.evaluation import log_likelihood
from tinyvae.files import write_json
from tinyvae.plots import save_figure

MNIST_TRAIN = 60000
# The curves are evaluated from step 10 on (log-spaced): a run needs at least
# 10 minibatches of 100.
MIN_SAMPLES = 1000
# --quick: samples per run, points per curve, k along the curves and at the end
QUICK = {"samples": 5e4, "evaluations": 4, "k_curve": 50, "k_final": 500}


def parse_args(argv=None):
    parser = cli.parser(__doc__)
    parser.add_argument("--data-dir", default=None, help=cli.DATA_DIR_HELP)
    parser.add_argument(
        "--train-sizes",
        type=cli.integer(100, MNIST_TRAIN),
        nargs="+",
        default=[1000, 50000],
        help="N_train of each panel: the first N MNIST training images",
    )
    parser.add_argument(
        "--samples",
        type=cli.positive_float,
        default=2e6,
        help=f"training samples evaluated per run (at least {MIN_SAMPLES})",
    )
    parser.add_argument(
        "--evaluations", type=cli.integer(2), default=8, help="log-spaced points on each curve"
    )
    parser.add_argument(
        "--k-curve", type=cli.integer(1), default=500, help="k of the L_k along the curves"
    )
    parser.add_argument(
        "--k-final", type=cli.integer(1), default=5000, help="k of the L_k after training"
    )
    parser.add_argument("--lr", type=cli.positive_float, default=0.02, help="AdaGrad step size")
    parser.add_argument("--seed", type=cli.integer(0), default=0, help="seed of every random draw")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a smoke run of under a minute: {QUICK['samples']:,.0f} training samples per run, "
        f"{QUICK['evaluations']} points per curve, L_{QUICK['k_curve']} along them and "
        f"L_{QUICK['k_final']} at the end",
    )
    parser.add_argument(
        "--out",
        default=None,
        help="output folder (default: out/aevb-figure3, or out/aevb-figure3-quick with --quick)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the results of an earlier run in the output folder",
    )
    args = parser.parse_args(argv)
    if args.samples < MIN_SAMPLES:
        parser.error(
            f"--samples must be at least {MIN_SAMPLES} (10 minibatches of 100: the curves "
            "start there)"
        )
    args.out = cli.output_folder(args.out, os.path.join("out", "aevb-figure3"), args.quick)
    if args.quick:
        for option, value in QUICK.items():
            setattr(args, option, value)
    return args


def curve_evaluator(model, curve, checkpoints, images, k, rng):
    """A step callback that appends L_k of each image set to ``curve`` at ``checkpoints``."""

    def evaluate(step):
        if step in checkpoints:
            curve["samples"].append(step * 100)
            for name, x in images.items():
                curve[name].append(float(log_likelihood(model, x, k, rng).mean()))

    return evaluate


def main(argv=None):
    args = parse_args(argv)
    with cli.user_errors():
        return draw_figure(args)


def draw_figure(args):
    """Check the output folder and load MNIST, then train, evaluate and draw."""
    cli.check_writable(args.out)
    cli.refuse_earlier_results(args.out, args.overwrite, "figure3.json")
    print(f"writing results to {args.out}/")
    data = tv.load_dataset("mnist", data_dir=args.data_dir)
    eval_rng = np.random.default_rng([args.seed, 2])
    x_test_eval = tv.binarize(data.x_test[:500], eval_rng)
    steps = int(args.samples // 100)
    checkpoints = set(np.unique(np.geomspace(10, steps, args.evaluations).astype(int)))
    results = {"settings": vars(args), "runs": {}}
    for n_train in args.train_sizes:
        x_train = data.x_train[:n_train]
        x_train_eval = tv.binarize(x_train[:500], eval_rng)
        for method in ("AEVB", "wake-sleep"):
            started = time.perf_counter()
            rng = np.random.default_rng([args.seed, n_train])
            model = tv.VAE(784, (100,), 3, activation="tanh", init="aevb_normal", rng=rng)
            curve = {"samples": [], "train": [], "test": []}

            evaluate = curve_evaluator(
                model,
                curve,
                checkpoints,
                {"train": x_train_eval, "test": x_test_eval},
                args.k_curve,
                eval_rng,
            )
            train(model, method, x_train, steps, rng, args.lr, True, evaluate)
            final = {
                name: float(log_likelihood(model, x, args.k_final, eval_rng).mean())
                for name, x in (("train", x_train_eval), ("test", x_test_eval))
            }
            results["runs"][f"{method} N={n_train}"] = {
                "curve": curve,
                "final": final,
                "seconds": time.perf_counter() - started,
            }
            print(
                f"N_train={n_train:<6} {method:<11} L_{args.k_final}: train {final['train']:8.2f}"
                f"  test {final['test']:8.2f}  ({time.perf_counter() - started:.0f} s)",
                flush=True,
            )
        write_json(os.path.join(args.out, "figure3.json"), results)

    fig = Figure(figsize=(4.2 * len(args.train_sizes), 3.6))
    for i, n_train in enumerate(args.train_sizes):
        ax = fig.add_subplot(1, len(args.train_sizes), i + 1)
        plot_methods(
            ax,
            {
                method: results["runs"][f"{method} N={n_train}"]["curve"]
                for method in ("AEVB", "wake-sleep")
            },
            f"marginal log-likelihood (L_{args.k_curve}, nats)",
        )
        ax.set_title(f"MNIST, Nz = 3, N_train = {n_train}", fontsize=9)
    fig.tight_layout()
    fig.legend(*ax.get_legend_handles_labels(), loc="center left", bbox_to_anchor=(1, 0.5))
    save_figure(fig, os.path.join(args.out, "figure3.png"))
    return results


if __name__ == "__main__":
    main()
