"""IWAE Table 1 at laptop scale: a VAE (k = 1) against an IWAE (k = 5).

Burda, Grosse & Salakhutdinov (2015), Table 1, two-stochastic-layer-free row:
784-200-200-50 tanh networks on dynamically binarized MNIST, reporting the
test log-likelihood estimated by L_5000 and the number of active units:
VAE (k = 1) 86.76 nats and 19 units, IWAE (k = 5) 85.54 nats and 22 units,
after 3280 passes through the data. We afford far fewer passes (--epochs),
so our numbers are higher (worse); the comparison between the two is the point.

    python demos/aevb/iwae_table.py  # the chapter page's table: 10 epochs per model
    python demos/aevb/iwae_table.py --quick              # a smoke run of about ten seconds
    python demos/aevb/iwae_table.py --resume --epochs 20 # 10 more epochs of both models

Writes into the output folder (printed at the start):
  iwae.json          the numbers and the settings
  curves.png         test bound per epoch
  active_units.png   Var_x E[z_u|x] per unit, sorted
  vae.npz, iwae.npz  a checkpoint per model, so that --resume continues it
"""

import os
import sys
import time

# This clone's tinyvae, even when Python starts in the folder that holds the clone:
# see "Running from the folder above a clone" in tinyvae/cli.py.
sys.path.append(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

import tinyvae as tv
from tinyvae import cli
from tinyvae.evaluation import active_units, log_likelihood
from tinyvae.files import write_json
from tinyvae.plots import save_figure

PAPER = {
    "VAE (k=1)": {"nll": 86.76, "active_units": 19},
    "IWAE (k=5)": {"nll": 85.54, "active_units": 22},
}
MNIST_TRAIN, MNIST_TEST = 60000, 10000
ACTIVE_THRESHOLD = 1e-2  # a unit is active if Var_x E[z_u|x] exceeds it (Burda et al.)
QUICK_IMAGES = 10_000  # --quick trains on the first 10,000 training images


def parse_args(argv=None):
    parser = cli.parser(__doc__)
    parser.add_argument("--data-dir", default=None, help=cli.DATA_DIR_HELP)
    parser.add_argument(
        "--epochs",
        type=cli.integer(1),
        default=10,
        help="passes through the data per model, as many as the chapter page's table",
    )
    parser.add_argument(
        "--batch-size", type=cli.integer(1, MNIST_TRAIN), default=100, help="minibatch size"
    )
    parser.add_argument("--lr", type=cli.positive_float, default=1e-3, help="Adam step size")
    parser.add_argument(
        "--k-train", type=cli.integer(1), default=5, help="samples k of the IWAE's bound"
    )
    parser.add_argument(
        "--k-eval", type=cli.integer(1), default=5000, help="k of the L_k evaluation"
    )
    parser.add_argument(
        "--test-subset",
        type=cli.integer(0, MNIST_TEST),
        default=1000,
        help=f"test images for L_k (0: all {MNIST_TEST})",
    )
    parser.add_argument("--seed", type=cli.integer(0), default=0, help="seed of every random draw")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a smoke run of about ten seconds: {QUICK_IMAGES:,} training images, 2 epochs, "
        "L_500 on 200 test images",
    )
    parser.add_argument(
        "--out",
        default=None,
        help="output folder (default: out/iwae-table, or out/iwae-table-quick with --quick)",
    )
    continuing = parser.add_mutually_exclusive_group()
    continuing.add_argument(
        "--resume",
        action="store_true",
        help="continue both saved runs up to --epochs; a run without a checkpoint starts afresh",
    )
    continuing.add_argument(
        "--overwrite",
        action="store_true",
        help="start both runs afresh, replacing their checkpoints and the earlier results",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    args = parser.parse_args(argv)
    args.out = cli.output_folder(args.out, os.path.join("out", "iwae-table"), args.quick)
    if args.quick:
        args.epochs, args.k_eval, args.test_subset = 2, 500, 200
    return args


def main(argv=None):
    args = parse_args(argv)
    with cli.user_errors():
        return make_table(args)


def make_table(args):
    """Check the output folder and the checkpoints and load MNIST, then train both models,
    evaluate and draw."""
    cli.check_writable(args.out)
    # name: (estimator, k, checkpoint); a checkpoint per estimator, so that a --resume
    # with another --k-train is refused (its n_samples differs) rather than started afresh
    runs = {
        "VAE (k=1)": ("B", 1, os.path.join(args.out, "vae.npz")),
        f"IWAE (k={args.k_train})": ("iwae", args.k_train, os.path.join(args.out, "iwae.npz")),
    }
    # what each checkpoint records of the options, compared before MNIST is loaded
    adam = cli.optimizer_setting(tv.Adam, lr=args.lr, eps=1e-4)  # eps as in IWAE
    starts = {
        name: cli.prepare_stage(
            path,
            args.resume,
            args.overwrite,
            args.epochs,
            asked={"batch_size": args.batch_size, "n_samples": k, "optimizer": adam},
        )
        for name, (_, k, path) in runs.items()
    }
    if not args.resume:  # a resumed run replaces the results it continues
        cli.refuse_earlier_results(args.out, args.overwrite, "iwae.json")
    print(f"writing results to {args.out}/")
    data = tv.load_dataset("mnist", data_dir=args.data_dir)
    x_train = data.x_train[:QUICK_IMAGES] if args.quick else data.x_train
    test_rng = np.random.default_rng([args.seed, 1])
    x_test = tv.binarize(data.x_test, test_rng)  # binarized once, like the paper
    subset = x_test[: args.test_subset or len(x_test)]

    results = {"settings": vars(args), "paper": PAPER, "models": {}}
    histories = {}
    for name, (estimator, k, path) in runs.items():
        resume, message = starts[name]
        print(f"{name}, {args.epochs} epochs: {message}")
        rng = np.random.default_rng(args.seed)
        model = tv.VAE(784, (200, 200), 50, activation="tanh", rng=rng, estimator=estimator)
        objective = tv.make_objective(model, estimator, n_samples=k)  # the bound trained on
        optimizer = tv.Adam(model.parameters(), lr=args.lr, eps=1e-4)  # eps as in IWAE
        histories[name] = tv.fit(
            objective,
            optimizer,
            tv.Batches(x_train, batch_size=args.batch_size, binarize=True),
            x_test,
            epochs=args.epochs,
            rng=rng,
            checkpoint=path,
            resume=resume,
            progress="epochs" if args.no_progress else True,
        )
        train_seconds = float(sum(histories[name].seconds))  # every epoch's, resumed or not
        started = time.perf_counter()
        ll = log_likelihood(model, subset, k=args.k_eval, rng=rng)
        count, variances = active_units(model, x_test, ACTIVE_THRESHOLD)
        results["models"][name] = {
            "test_nll": float(-ll.mean()),
            "test_nll_stderr": float(ll.std() / np.sqrt(len(ll))),
            "active_units": count,
            "unit_variances": variances.tolist(),
            "final_test_elbo": -histories[name].test_loss[-1],
            "epochs": args.epochs,
            "train_seconds": train_seconds,
            "eval_seconds": time.perf_counter() - started,
            "history": histories[name].to_dict(),
        }
        print(
            f"{name}: -L_{args.k_eval} = {-ll.mean():.2f} nats on {len(subset)} test images, "
            f"{count} active units"
        )
    write_json(os.path.join(args.out, "iwae.json"), results)

    fig = Figure(figsize=(5, 3.5))
    ax = fig.add_subplot()
    for name, history in histories.items():
        ax.plot(history.epoch, -np.asarray(history.test_loss), "o-", label=name)
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_ylabel("test ELBO (estimator B, nats)")
    ax.set_title("binarized MNIST, 784-200-200-50: test ELBO per epoch", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend()
    save_figure(fig, os.path.join(args.out, "curves.png"))

    fig = Figure(figsize=(5, 3.5))
    ax = fig.add_subplot()
    for name, model_results in results["models"].items():
        ax.semilogy(
            range(1, len(model_results["unit_variances"]) + 1),
            sorted(model_results["unit_variances"], reverse=True),
            "o-",
            ms=3,
            label=f"{name}: {model_results['active_units']} active",
        )
    ax.axhline(
        ACTIVE_THRESHOLD, color="grey", ls="--", lw=1, label=f"active above {ACTIVE_THRESHOLD:g}"
    )
    ax.set_xlabel("latent unit (sorted by variance)")
    ax.set_ylabel("Var_x E[z_u | x]")
    ax.set_title("active units: how much each unit's posterior mean varies", fontsize=9)
    ax.legend(fontsize=8)
    save_figure(fig, os.path.join(args.out, "active_units.png"))
    return results


if __name__ == "__main__":
    main()
