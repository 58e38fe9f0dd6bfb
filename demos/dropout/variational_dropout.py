"""Variational dropout and the local reparameterization trick on MNIST (Kingma et al. 2015).

    python demos/dropout/variational_dropout.py --quick                 # every part, 75 seconds
    python demos/dropout/variational_dropout.py                         # the chapter page's numbers
    python demos/dropout/variational_dropout.py --parts widths --widths 100 200 400 800 --epochs 20

The parts:
  variance  Table 1: the variance of the gradient of the bound with respect to the
            weights of the bottom and the top layer of a classifier trained with
            variational dropout (type B), after a short and a longer run, when its
            noise is drawn by the local reparameterization trick, by a weight sample
            per example, by one weight sample for the minibatch, or not at all;
  widths    Figure 1: test error against the width of an MLP with three hidden
            layers, for no dropout, binary dropout, Gaussian dropout A and B, and
            variational dropout A, A2 and B; and the rates variational dropout learns;
  speed     examples per second of a training step, local trick against a weight
            sample per example, on the same network;
  target    one longer run of a 3-layer MLP with variational dropout, stopped after
            --target-epochs or --target-minutes, whichever comes first, with the
            step size constant for the first half of the epochs and then falling
            linearly, to 2 / (target epochs) of it in the last;
            test error per epoch (paper: about 1 %);
  sparse    a rate per weight (type B), learned under each KL approximation, Kingma
            et al.'s cubic (alpha capped at 1) and Molchanov, Ashukha & Vetrov's
            (2017) fit (alpha free to grow): the test error, the share of weights
            with log alpha > 3 (prunable: their noise swamps their mean), and the
            test error with those weights set to 0. Its step size falls as the
            target run's does.

Every network has ReLU units and is trained by Adam (lr 1e-3) on batches of 100 of
the 60,000 training images (grey levels), the objective being
tinyvae.objectives.VariationalDropout (with no KL where no rate is learned).

Writes into the output folder (printed at the start):
  table.md        the variance table beside the paper's, the test errors, the speeds
  widths.png      test error against width, one line per kind of dropout
  alphas.png      the dropout rates alpha learned per layer
  target.png      the target run's test error per epoch
  sparse.png      the learned log alpha of every weight under each KL, and the share
                  above 3 and the test error per epoch
  results.json    every number and the settings
"""

import dataclasses
import os
import statistics
import sys
import time

# This clone's tinyvae, even when Python starts in the folder that holds the clone:
# see "Running from the folder above a clone" in tinyvae/cli.py.
sys.path.append(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, NullFormatter
from tqdm.auto import tqdm

import tinyvae as tv
from tinyvae import cli, plots
from tinyvae.files import atomic_write, write_json
from tinyvae.models.dropout_mlp import DROPOUTS
from tinyvae.objectives.dropout_kl import APPROXIMATIONS as KL_APPROXIMATIONS

PARTS = ("variance", "widths", "speed", "target", "sparse")
PRUNE_LOG_ALPHA = 3.0  # Molchanov et al. 2017: a weight whose log alpha exceeds 3 is dropped
COLORS = [f"C{i}" for i in range(len(DROPOUTS))]  # one colour per kind of dropout, in every figure
WIDTH_STYLES = ("-", "--", ":")
SAMPLINGS = ("local", "separate", "shared", "none")
# Kingma et al. (2015), Table 1: top layer after 10 / 100 epochs, bottom layer after 10 / 100
PAPER_VARIANCE = {
    "local": (7.8e3, 1.2e3, 1.9e2, 1.1e2),
    "separate": (1.4e4, 2.6e3, 4.3e2, 2.5e2),
    "shared": (4.9e4, 4.3e3, 8.5e2, 3.3e2),
    "none": (2.8e3, 5.9e1, 1.3e2, 9.0e0),
}


def parse_args(argv=None):
    parser = cli.parser(__doc__)
    parser.add_argument("--data-dir", default=None, help=cli.DATA_DIR_HELP)
    parser.add_argument(
        "--parts", nargs="+", choices=PARTS, default=list(PARTS), help="which parts to run"
    )
    parser.add_argument(
        "--variance-width", type=cli.integer(1), default=256,
        help="units in each of the 3 hidden layers of the variance part's network",
    )  # fmt: skip
    parser.add_argument(
        "--variance-epochs", nargs=2, type=cli.integer(1), default=[2, 10],
        metavar=("SHORT", "LONG"), help="measure the variances after these many epochs",
    )  # fmt: skip
    parser.add_argument(
        "--draws", type=cli.integer(2), default=30,
        help="minibatches (and noise draws) per variance estimate",
    )  # fmt: skip
    parser.add_argument(
        "--variance-batch", type=cli.integer(1), default=1000,
        help="the minibatch size of the variance estimates (training uses 100)",
    )  # fmt: skip
    parser.add_argument(
        "--widths", nargs="+", type=cli.integer(1), default=[100, 200, 400],
        help="hidden-layer widths of the widths part",
    )  # fmt: skip
    parser.add_argument(
        "--dropouts", nargs="+", choices=DROPOUTS, default=list(DROPOUTS),
        help="kinds of dropout of the widths part",
    )  # fmt: skip
    parser.add_argument("--epochs", type=cli.integer(1), default=5, help="epochs per width run")
    parser.add_argument(
        "--seeds", nargs="+", type=cli.integer(0), default=[1],
        help="seeds of the widths part: every network is trained once per seed",
    )  # fmt: skip
    parser.add_argument(
        "--p", type=float, default=0.2,
        help="dropout rate (binary), or alpha = p / (1 - p) (Gaussian: fixed, or the learned "
        "ones' start)",
    )  # fmt: skip
    parser.add_argument(
        "--speed-width", type=cli.integer(1), default=512, help="hidden width of the speed part"
    )
    parser.add_argument("--repeats", type=cli.integer(3), default=10, help="timed steps per way")
    parser.add_argument(
        "--target-width", type=cli.integer(1), default=1024,
        help="units in each of the 3 hidden layers of the target run",
    )  # fmt: skip
    parser.add_argument(
        "--target-dropout", choices=[d for d in DROPOUTS if d.startswith("variational")],
        default="variational_B", help="the variational dropout of the target run",
    )  # fmt: skip
    parser.add_argument(
        "--target-epochs", type=cli.integer(1), default=30,
        help="epochs of the target run (its step size schedule is planned for these)",
    )  # fmt: skip
    parser.add_argument(
        "--target-minutes", type=cli.positive_float, default=60.0,
        help="stop the target run after the first epoch that ends past this many minutes",
    )  # fmt: skip
    parser.add_argument(
        "--sparse-hidden", nargs="+", type=cli.integer(1), default=[300, 100],
        help="hidden layers of the sparse part's network (Molchanov et al.'s LeNet-300-100)",
    )  # fmt: skip
    parser.add_argument(
        "--sparse-epochs", type=cli.integer(1), default=20,
        help="epochs of each of the sparse part's two runs",
    )  # fmt: skip
    parser.add_argument(
        "--kl", choices=KL_APPROXIMATIONS, default="kingma",
        help="the KL approximation of every learned rate: Kingma et al.'s (alpha <= 1) "
        "or Molchanov et al.'s (any alpha)",
    )  # fmt: skip
    parser.add_argument(
        "--seed",
        type=cli.integer(0),
        default=1,
        help="seed of the variance, speed and target parts",
    )
    parser.add_argument(
        "--quick", action="store_true",
        help="a smoke run of about 75 seconds: 10,000 training images, small networks, 1-2 epochs",
    )  # fmt: skip
    parser.add_argument(
        "--out", default=None,
        help="output folder (default: out/variational-dropout, or out/variational-dropout-quick "
        "with --quick)",
    )  # fmt: skip
    parser.add_argument(
        "--overwrite", action="store_true",
        help="replace the results of an earlier run in the output folder",
    )  # fmt: skip
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    args = parser.parse_args(argv)
    if not 0.0 < args.p < 1.0:
        parser.error(f"--p: expected a rate strictly between 0 and 1, got {args.p}")
    if len(set(args.seeds)) < len(args.seeds):
        parser.error(f"--seeds: each seed once, got {args.seeds}")
    if args.variance_epochs[0] >= args.variance_epochs[1]:
        parser.error(f"--variance-epochs: SHORT must be below LONG, got {args.variance_epochs}")
    args.out = cli.output_folder(args.out, os.path.join("out", "variational-dropout"), args.quick)
    if args.quick:
        args.variance_width, args.variance_epochs, args.draws = 64, [1, 2], 10
        args.widths, args.epochs, args.speed_width, args.repeats = [32, 64], 1, 128, 3
        args.target_width, args.target_epochs = 64, 2
        args.sparse_hidden, args.sparse_epochs = [64, 32], 2
    return args


def train(model, data, epochs, rng, progress, on_epoch=None, kl="kingma"):
    """fit the variational objective; returns the History."""
    objective = tv.VariationalDropout(model, n_train=len(data.x_train), kl_approximation=kl)
    optimizer = tv.Adam(objective.parameters(), lr=1e-3)
    return tv.fit(
        objective, optimizer, tv.Batches(data.x_train, data.y_train, batch_size=100),
        epochs=epochs, rng=rng, on_epoch=on_epoch, progress=progress,
    )  # fmt: skip


def gradient_variance(model, data, batches, rng, noise=True):
    """Mean over the weights of Var[dL/dtheta] for the bottom and the top layer.

    L is the bound on the whole training set (the paper's scale): N times
    minus the per-example loss. Each draw is one of ``batches`` (rows of the
    training set; the same minibatches for every way of drawing the noise, so
    that the ways differ in their noise only) with fresh noise, drawn the way
    ``model.sampling`` says (``noise=False``: the test-time network, so only
    the minibatch varies).
    """
    objective = tv.VariationalDropout(model, n_train=len(data.x_train))
    N = len(data.x_train)
    grads = {"bottom": [], "top": []}
    for rows in batches:
        eps = None if noise else [None] * len(model.layers)
        objective.zero_grad()
        objective.loss(data.x_train[rows], rng=rng, eps=eps, labels=data.y_train[rows])
        objective.backward()
        for name, layer in (("bottom", model.layers[0]), ("top", model.layers[-1])):
            grads[name].append(-N * layer.grads["theta"].astype(np.float64))
    objective.zero_grad()
    return {name: float(np.mean(np.var(np.stack(g), axis=0))) for name, g in grads.items()}


def variance_part(args, data, rng, progress):
    """Table 1: train once with the local trick, measure every way at both epoch counts."""
    width = args.variance_width
    model = tv.DropoutMLP(
        784, (width,) * 3, 10, "variational_B", p=args.p, rng=rng,
    )  # fmt: skip
    short, long = args.variance_epochs
    results = {}
    done = 0
    for epochs in (short, long):
        train(model, data, epochs - done, rng, progress)
        done = epochs
        results[epochs] = {}
        N, M = len(data.x_train), args.variance_batch
        batches = [rng.choice(N, size=M, replace=False) for _ in range(args.draws)]
        for sampling in SAMPLINGS:
            model.set_sampling("local" if sampling == "none" else sampling)
            variances = gradient_variance(model, data, batches, rng, sampling != "none")
            results[epochs][sampling] = variances
            print(f"after epoch {epochs}, {sampling:8s}: {results[epochs][sampling]}")
        model.set_sampling("local")
    return {"width": width, "batch": args.variance_batch, "epochs": [short, long],
            "variances": results}  # fmt: skip


def widths_part(args, data, progress):
    """Figure 1: test error per width, kind of dropout and seed; the learned rates.

    Every network of one seed starts from that seed's generator, so that the
    kinds of dropout of a seed see the same initial weights' draws and batches.
    """
    runs = {}
    total = len(args.widths) * len(args.dropouts) * len(args.seeds)
    with tqdm(total=total, desc="width runs", disable=not progress) as bar:
        for seed in args.seeds:
            for width in args.widths:
                for dropout in args.dropouts:
                    rng = np.random.default_rng([seed, width])
                    runs[width_key(dropout, width, seed)] = width_run(
                        args, data, width, dropout, rng
                    )
                    bar.update()
                    error = runs[width_key(dropout, width, seed)]["test_error"]
                    bar.write(
                        f"seed {seed} width {width:4d} {dropout:15s} test error {100 * error:.2f}%"
                    )
    return runs


def width_key(dropout, width, seed):
    return f"{dropout}-{width}-seed{seed}"


def width_run(args, data, width, dropout, rng):
    """One network of the widths part: its test error per epoch and its learned rates."""
    model = tv.DropoutMLP(784, (width,) * 3, 10, dropout, p=args.p, rng=rng)
    started = time.perf_counter()
    history = train(
        model, data, args.epochs, rng, False, kl=args.kl,
        on_epoch=lambda epoch: {"test_error": model.error(data.x_test, data.y_test)},
    )  # fmt: skip
    errors = history.metrics["test_error"]
    run = {
        "width": width, "dropout": dropout, "test_error": errors[-1],
        "test_error_per_epoch": errors, "seconds": time.perf_counter() - started,
    }  # fmt: skip
    if model.learns_rates:
        run["alpha_per_layer"] = learned_alphas(model)
    return run


def learned_alphas(model):
    """The geometric mean of the learned alpha of each layer."""
    return [float(np.exp(np.mean(layer.params["log_alpha"]))) for layer in model.layers]


def width_errors(args, runs, dropout, width):
    """The test errors (%) of every seed's run of one kind of dropout and width."""
    return [100 * runs[width_key(dropout, width, seed)]["test_error"] for seed in args.seeds]


def speed_part(args, data, rng):
    """ms per training step: local trick against separate weight samples, alternating."""
    width = args.speed_width
    model = tv.DropoutMLP(784, (width,) * 3, 10, "variational_B", p=args.p, rng=rng)
    objective = tv.VariationalDropout(model, n_train=len(data.x_train))
    optimizer = tv.Adam(objective.parameters(), lr=1e-4)
    x, y = data.x_train[:100], data.y_train[:100]

    def step():
        objective.loss(x, rng=rng, labels=y)
        optimizer.zero_grad()
        objective.backward()
        optimizer.step()

    times = {"local": [], "separate": []}
    for sampling in times:  # warm up
        model.set_sampling(sampling)
        step()
    for _ in range(args.repeats):
        for sampling in times:
            model.set_sampling(sampling)
            started = time.perf_counter()
            step()
            times[sampling].append(time.perf_counter() - started)
    ms = {sampling: 1000 * statistics.median(t) for sampling, t in times.items()}
    return {
        "width": width,
        "ms_per_step": ms,
        "examples_per_s": {sampling: 100_000 / v for sampling, v in ms.items()},
        "separate / local": ms["separate"] / ms["local"],
    }


def target_part(args, data, rng, progress):
    """One longer variational dropout run, within a time budget."""
    width, epochs = args.target_width, args.target_epochs
    model = tv.DropoutMLP(784, (width,) * 3, 10, args.target_dropout, p=args.p, rng=rng)
    objective = tv.VariationalDropout(model, n_train=len(data.x_train), kl_approximation=args.kl)
    lr = 1e-3
    optimizer = tv.Adam(objective.parameters(), lr=lr)
    started = time.perf_counter()
    errors = []
    with tqdm(total=epochs, desc="target run (epochs)", disable=not progress) as bar:
        for epoch in range(epochs):
            optimizer.lr = step_sizes(lr, epochs)[epoch]
            tv.fit(
                objective, optimizer, tv.Batches(data.x_train, data.y_train, batch_size=100),
                epochs=1, rng=rng, progress=False,
            )  # fmt: skip
            errors.append(model.error(data.x_test, data.y_test))
            minutes = (time.perf_counter() - started) / 60
            bar.update()
            bar.set_postfix(test_error=f"{100 * errors[-1]:.2f}%", minutes=f"{minutes:.1f}")
            if minutes > args.target_minutes:
                bar.write(f"target run: stopped after {epoch + 1} epochs, {minutes:.1f} min")
                break
    run = {
        "width": width, "dropout": args.target_dropout, "kl": args.kl,
        "epochs_planned": epochs, "epochs_run": len(errors), "test_error_per_epoch": errors,
        "test_error": errors[-1], "minutes": (time.perf_counter() - started) / 60,
    }  # fmt: skip
    if model.learns_rates:
        run["alpha_per_layer"] = learned_alphas(model)
    return run


def step_sizes(lr, epochs):
    """The step size of each epoch: constant for the first half, then linearly down to
    lr * 2 / epochs in the last."""
    return [lr * min(1.0, 2 * (epochs - epoch) / epochs) for epoch in range(epochs)]


def pruned_error(model, data, threshold=PRUNE_LOG_ALPHA):
    """The test error of the network with every weight whose log alpha exceeds
    ``threshold`` set to 0, and the share of weights so set."""
    kept = [layer.params["theta"].copy() for layer in model.layers]
    try:
        dropped = 0
        for layer in model.layers:
            prunable = layer.params["log_alpha"] > threshold
            layer.params["theta"][prunable] = 0.0
            dropped += int(prunable.sum())
        error = model.error(data.x_test, data.y_test)
    finally:
        for layer, theta in zip(model.layers, kept):
            layer.params["theta"][...] = theta
    return error, dropped / sum(layer.params["theta"].size for layer in model.layers)


def sparse_part(args, data, progress):
    """A rate per weight under each KL: test error, prunable share, error after pruning."""
    runs = {}
    for kl in KL_APPROXIMATIONS:
        rng = np.random.default_rng(args.seed)
        model = tv.DropoutMLP(
            784, args.sparse_hidden, 10, "variational_B", p=args.p, granularity="weight", rng=rng
        )
        objective = tv.VariationalDropout(model, n_train=len(data.x_train), kl_approximation=kl)
        optimizer = tv.Adam(objective.parameters(), lr=1e-3)
        started = time.perf_counter()
        history = {"test_error": [], "prunable": [], "pruned_error": []}
        desc = f"sparse part, {kl} KL (epochs)"
        for lr in tqdm(step_sizes(1e-3, args.sparse_epochs), desc=desc, disable=not progress):
            optimizer.lr = lr
            tv.fit(
                objective, optimizer, tv.Batches(data.x_train, data.y_train, batch_size=100),
                epochs=1, rng=rng, progress=False,
            )  # fmt: skip
            history["test_error"].append(model.error(data.x_test, data.y_test))
            error, share = pruned_error(model, data)
            history["pruned_error"].append(error)
            history["prunable"].append(share)
        log_alpha = np.concatenate([layer.params["log_alpha"].ravel() for layer in model.layers])
        runs[kl] = {
            "hidden": list(args.sparse_hidden), "epochs": args.sparse_epochs,
            "test_error": history["test_error"][-1], "prunable": history["prunable"][-1],
            "pruned_error": history["pruned_error"][-1],
            "prunable_per_layer": [
                float(np.mean(layer.params["log_alpha"] > PRUNE_LOG_ALPHA))
                for layer in model.layers
            ],
            "log_alpha_quantiles": {
                str(q): float(np.quantile(log_alpha, q)) for q in (0.05, 0.25, 0.5, 0.75, 0.95)
            },
            "log_alpha_histogram": np.histogram(log_alpha, bins=60, range=(-6, 12))[0].tolist(),
            "history": history, "minutes": (time.perf_counter() - started) / 60,
        }  # fmt: skip
    return runs


def main(argv=None):
    args = parse_args(argv)
    with cli.user_errors():
        return run(args)


def run(args):
    started = time.perf_counter()
    cli.check_writable(args.out)
    earlier = os.path.join(args.out, "results.json")
    if os.path.exists(earlier) and not args.overwrite:
        raise cli.UsageError(
            f"{earlier} holds the results of an earlier run; pass --overwrite to replace "
            "them, or another --out"
        )
    print(f"writing results to {args.out}/")
    mnist = tv.load_dataset("mnist", data_dir=args.data_dir)
    if args.quick:
        mnist = dataclasses.replace(
            mnist, x_train=mnist.x_train[:10_000], y_train=mnist.y_train[:10_000]
        )
    if "variance" in args.parts and args.variance_batch > len(mnist.x_train):
        raise cli.UsageError(
            f"--variance-batch {args.variance_batch}: more than the {len(mnist.x_train)} "
            "training images"
        )
    rng = np.random.default_rng(args.seed)
    progress = not args.no_progress
    results = {"settings": vars(args)}
    if "variance" in args.parts:
        results["variance"] = variance_part(args, mnist, rng, progress)
    if "widths" in args.parts:
        results["widths"] = widths_part(args, mnist, progress)
        widths_figure(os.path.join(args.out, "widths.png"), args, results["widths"])
        first_seed = {
            k: r for k, r in results["widths"].items() if k.endswith(f"-seed{args.seeds[0]}")
        }
        alphas_figure(os.path.join(args.out, "alphas.png"), first_seed)
    if "speed" in args.parts:
        results["speed"] = speed_part(args, mnist, rng)
    if "target" in args.parts:
        results["target"] = target_part(args, mnist, rng, progress)
        target_figure(os.path.join(args.out, "target.png"), results["target"])
    if "sparse" in args.parts:
        results["sparse"] = sparse_part(args, mnist, progress)
        sparse_figure(os.path.join(args.out, "sparse.png"), results["sparse"])
    results["seconds"] = time.perf_counter() - started
    table = write_table(os.path.join(args.out, "table.md"), args, results)
    write_json(os.path.join(args.out, "results.json"), results)
    print("\n" + table)
    print(f"total {results['seconds'] / 60:.1f} min; figures and table in {args.out}/")
    return results


def write_table(path, args, results):
    lines = []
    if "variance" in results:
        v = results["variance"]
        short, long = v["epochs"]
        lines += [
            f"Gradient variance (mean over the weights of Var[dL/dtheta], L the bound on the "
            f"training set; {args.draws} minibatches of {v['batch']}, the same for every way; "
            f"784-{v['width']}x3-10, "
            "variational dropout B), beside Kingma et al. (2015) Table 1 (10 / 100 epochs):",
            "",
            f"| way | top, {short} ep. | top, {long} ep. | bottom, {short} ep. | "
            f"bottom, {long} ep. | paper: top 10 / 100, bottom 10 / 100 |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for sampling in SAMPLINGS:
            cells = [
                v["variances"][e][sampling][layer]
                for layer in ("top", "bottom")
                for e in (short, long)
            ]
            paper = " / ".join(f"{x:.1e}" for x in PAPER_VARIANCE[sampling])
            lines.append(
                f"| {sampling} | " + " | ".join(f"{c:.2e}" for c in cells) + f" | {paper} |"
            )
        lines.append("")
    if "widths" in results:
        runs = results["widths"]
        seeds = ", ".join(map(str, args.seeds))
        spread = " (mean ± std over the seeds)" if len(args.seeds) > 1 else ""
        lines += [
            f"Test error (%) after {args.epochs} epochs, 3 hidden layers of each width, "
            f"p = {args.p}, seeds {seeds}{spread}:",
            "",
            "| dropout | " + " | ".join(str(w) for w in args.widths) + " |",
            "|---|" + "---:|" * len(args.widths),
        ]
        for dropout in args.dropouts:
            cells = [mean_std(width_errors(args, runs, dropout, w)) for w in args.widths]
            lines.append(f"| {dropout} | " + " | ".join(cells) + " |")
        lines.append("")
    if "speed" in results:
        s = results["speed"]
        lines.append(
            f"Speed, 784-{s['width']}x3-10, batches of 100: local trick "
            f"{s['examples_per_s']['local']:.0f} examples/s, a weight sample per example "
            f"{s['examples_per_s']['separate']:.0f} examples/s "
            f"({s['separate / local']:.1f}x slower)."
        )
    if "target" in results:
        t = results["target"]
        lines.append(
            f"\nTarget run, 784-{t['width']}x3-10, {t['dropout']} ({t['kl']} KL): test error "
            f"{100 * t['test_error']:.2f}% after {t['epochs_run']} of {t['epochs_planned']} "
            f"epochs, {t['minutes']:.1f} min (best epoch "
            f"{100 * min(t['test_error_per_epoch']):.2f}%; paper: about 1%)."
        )
    if "sparse" in results:
        runs = results["sparse"]
        net = "-".join(map(str, [784, *args.sparse_hidden, 10]))
        lines += [
            f"\nA rate per weight, {net}, variational dropout B, {args.sparse_epochs} epochs "
            f"each (alpha starts at {args.p / (1 - args.p):.2f}):",
            "",
            "| KL | test error (%) | weights with log alpha > 3 (%) | test error, those set to "
            "0 (%) | minutes |",
            "|---|---:|---:|---:|---:|",
        ]
        for kl, r in runs.items():
            lines.append(
                f"| {kl} | {100 * r['test_error']:.2f} | {100 * r['prunable']:.1f} | "
                f"{100 * r['pruned_error']:.2f} | {r['minutes']:.1f} |"
            )
    lines.append(
        f"\nseed {args.seed}"
        + (f" (widths: seeds {', '.join(map(str, args.seeds))})" if "widths" in results else "")
        + ("; --quick: 10,000 training images" if args.quick else "")
    )
    table = "\n".join(lines) + "\n"
    with atomic_write(path) as f:
        f.write(table.encode())
    return table


def mean_std(values):
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


def widths_figure(path, args, runs):
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    for dropout in args.dropouts:
        errors = [width_errors(args, runs, dropout, w) for w in args.widths]
        style = "--" if dropout.startswith("variational") else "-"
        means = [statistics.mean(e) for e in errors]
        color = COLORS[DROPOUTS.index(dropout)]
        if len(args.seeds) == 1:
            ax.plot(args.widths, means, style, color=color, marker="o", ms=4, label=dropout)
        else:
            ax.errorbar(
                args.widths, means, yerr=[statistics.stdev(e) for e in errors], fmt=style,
                color=color, marker="o", ms=4, capsize=2, label=dropout,
            )  # fmt: skip
    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(NullFormatter())  # only the widths themselves are labelled
    ax.set_xticks(args.widths, [str(w) for w in args.widths])
    ax.set_xlabel("units per hidden layer (3 layers)")
    ax.set_ylabel("test error (%)")
    seeds = f", mean ± std of {len(args.seeds)} seeds" if len(args.seeds) > 1 else ""
    epochs = f"{args.epochs} epoch" + ("s" if args.epochs > 1 else "")
    ax.set_title(f"MNIST, {epochs}: test error against width{seeds}", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    plots.save_figure(fig, path)


def alphas_figure(path, runs):
    learned = {key: run for key, run in runs.items() if "alpha_per_layer" in run}
    if not learned:
        return
    fig = Figure(figsize=(6, 3.5), layout="constrained")
    ax = fig.add_subplot()
    widths = sorted({run["width"] for run in learned.values()})
    for run in learned.values():
        alphas = run["alpha_per_layer"]
        ax.plot(
            range(1, len(alphas) + 1), alphas, WIDTH_STYLES[widths.index(run["width"]) % 3],
            color=COLORS[DROPOUTS.index(run["dropout"])], marker="o", ms=4,
            label=f"{run['dropout']}, {run['width']} units",
        )  # fmt: skip
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("layer (1: the input layer)")
    ax.set_ylabel("learned alpha (geometric mean over the layer)")
    ax.set_yscale("log")
    ax.set_title(
        "the rates variational dropout learns (colour: the kind, as in the widths figure; "
        "line: the width)", fontsize=8,
    )  # fmt: skip
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    plots.save_figure(fig, path)


def target_figure(path, run):
    fig = Figure(figsize=(6, 3.5), layout="constrained")
    ax = fig.add_subplot()
    errors = [100 * e for e in run["test_error_per_epoch"]]
    ax.plot(range(1, len(errors) + 1), errors, marker="o", ms=3)
    ax.axhline(1.5, color="grey", ls="--", lw=1, label="1.5 % (the target)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("MNIST test error (%)")
    ax.set_title(f"784-{run['width']}x3-10, {run['dropout']}, {run['minutes']:.0f} min", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    plots.save_figure(fig, path)


def sparse_figure(path, runs):
    fig = Figure(figsize=(12, 3.5), layout="constrained")
    hist, share, error = fig.subplots(1, 3)
    edges = np.linspace(-6, 12, 61)
    for i, (kl, run) in enumerate(runs.items()):
        counts = np.asarray(run["log_alpha_histogram"])
        hist.stairs(counts / counts.sum(), edges, color=f"C{i}", label=f"{kl} KL")
        history = run["history"]
        epochs = range(1, len(history["prunable"]) + 1)
        share.plot(epochs, [100 * p for p in history["prunable"]], color=f"C{i}", marker="o", ms=3)
        error.plot(epochs, [100 * e for e in history["test_error"]], color=f"C{i}", label=kl)
        pruned = [100 * e for e in history["pruned_error"]]
        error.plot(epochs, pruned, color=f"C{i}", ls=":", label=f"{kl}, pruned")
    hist.axvline(PRUNE_LOG_ALPHA, color="grey", ls="--", lw=1, label="log alpha = 3")
    hist.set_xlabel("learned log alpha of a weight")
    hist.set_ylabel("share of the weights")
    hist.set_title("the rates at the end (one per weight)", fontsize=9)
    hist.legend(fontsize=8)
    largest = max(100 * max(run["history"]["prunable"]) for run in runs.values())
    share.set_ylim(0, max(5.0, 1.1 * largest))  # from 0, also when nothing is prunable yet
    share.set_ylabel("weights with log alpha > 3 (%)")
    share.set_title("prunable weights", fontsize=9)
    error.set_ylabel("MNIST test error (%)")
    error.set_title("test error, and with the prunable weights set to 0", fontsize=9)
    error.legend(fontsize=7)
    for ax in (share, error):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
    for ax in (hist, share, error):
        ax.grid(alpha=0.3)
    plots.save_figure(fig, path)


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
