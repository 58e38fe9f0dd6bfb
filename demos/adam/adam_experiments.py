"""The experiments of Adam (Kingma & Ba 2014, thesis chapter 7) at laptop scale, on MNIST.

    python demos/adam/adam_experiments.py --quick                  # every part, about 35 seconds
    python demos/adam/adam_experiments.py                          # the chapter page's numbers
    python demos/adam/adam_experiments.py --resume                 # continue an interrupted grid

The parts:
  bias     Figure 4: a VAE (784-500-50, softplus units, Bernoulli pixels, estimator B)
           trained with Adam for every beta1 in {0, 0.9}, beta2 in {0.99, 0.999,
           0.9999} and step size 1e-5 ... 1e-1, with and without the bias
           correction; the loss (-ELBO per image, the mean over an epoch's
           minibatches) after the first and after the last epoch, as the paper's
           2 x 3 panels; a run that diverged, or whose loss passed 1000 nats (it
           starts near 636), counts as unstable;
  logreg   Figure 1: multiclass logistic regression with an L2 penalty, step size
           alpha / sqrt(t); Adam, SGD with Nesterov momentum (0.9) and AdaGrad, each
           at its best alpha of a small grid; the training cost per epoch;
  mlp      Figure 2: an MLP with two hidden layers of 1000 ReLU units and binary
           dropout (on the inputs too), constant step size; Adam, AdaMax, RMSProp,
           AdaGrad and SGD with Nesterov momentum (0.9), each at its better step size
           of two; the training cost (with the dropout noise) per epoch.

Every run is trained by tinyvae.fit on batches of 128 from the same start (one seed
for every run of a part: the same initial weights and batches), so the runs of a
part differ only in the optimizer. The bias part trains on the first --bias-images
training images (dynamically binarized); the classifiers on all 60,000 (grey
levels). A run whose loss becomes NaN or infinite is recorded as diverged.

Each finished run is saved at once as runs/<part>/<run>.json; --resume skips the
runs already there, so an interrupted grid continues where it stopped.

Writes into the output folder (printed at the start):
  bias.png, logreg.png, mlp.png   the three figures
  table.md                        the findings in numbers
  results.json                    every run of the grid, with its settings
"""

import dataclasses
import json
import math
import os
import sys
import time

# This clone's tinyvae, even when Python starts in the folder that holds the clone:
# see "Running from the folder above a clone" in tinyvae/cli.py.
sys.path.append(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator, NullFormatter
from tqdm.auto import tqdm

import tinyvae as tv
from tinyvae import cli, plots
from tinyvae.files import atomic_write, write_json

PARTS = ("bias", "logreg", "mlp")
CAP = 1000  # nats per image: this VAE starts near 636 on MNIST, so a loss above this blew up
STRIP = 1150  # where the bias figure marks the unstable runs, above a line at CAP
BETA1S, BETA2S, LOG10_LRS = (0.0, 0.9), (0.99, 0.999, 0.9999), (-5, -4, -3, -2, -1)
# The step-size grids of the classifiers, per optimizer.
LOGREG_LRS = {
    "adam": (3e-3, 1e-2, 3e-2, 1e-1, 3e-1),
    "sgd_nesterov": (3e-2, 1e-1, 3e-1, 1.0),
    "adagrad": (3e-2, 1e-1, 3e-1, 1.0),
}
MLP_LRS = {
    "adam": (1e-4, 1e-3),
    "adamax": (2e-4, 2e-3),
    "rmsprop": (1e-4, 1e-3),
    "adagrad": (1e-3, 1e-2),
    "sgd_nesterov": (1e-2, 1e-1),
}
# What each run's spec records beyond the grid's own values, so that a saved run made
# with other settings is never taken for one of this grid.
OPTIMIZER_SETTINGS = {
    "adam": {},
    "adamax": {},
    "rmsprop": {"rho": 0.9},
    "adagrad": {},
    "sgd_nesterov": {"momentum": 0.9},
}
MODELS = {
    "bias": "VAE 784-500-50-500-784, softplus, Bernoulli, estimator B",
    "logreg": "softmax regression 784-10, L2",
    "mlp": "MLP 784-1000-1000-10, ReLU, binary dropout on every layer's input",
}
LABELS = {
    "adam": "Adam",
    "adamax": "AdaMax",
    "rmsprop": "RMSProp",
    "adagrad": "AdaGrad",
    "sgd_nesterov": "SGD Nesterov",
}
PAPER = {
    "bias": "without bias correction, beta2 close to 1 is unstable, most of all early in "
    "training and at larger step sizes; with it, Adam is as good as or better than without at "
    "every setting (Kingma & Ba, section 6.4, Figure 4)",
    "logreg": "Adam converges as fast as SGD with Nesterov momentum and faster than AdaGrad "
    "(Kingma & Ba, section 6.1, Figure 1, MNIST)",
    "mlp": "Adam converges faster than the other methods (Kingma & Ba, section 6.2, Figure 2a)",
}


def parse_args(argv=None):
    parser = cli.parser(__doc__)
    parser.add_argument("--data-dir", default=None, help=cli.DATA_DIR_HELP)
    parser.add_argument(
        "--parts", nargs="+", choices=PARTS, default=list(PARTS), help="which parts to run"
    )
    parser.add_argument(
        "--bias-epochs", type=cli.integer(2), default=10, help="epochs of each VAE run"
    )
    parser.add_argument(
        "--bias-images", type=cli.integer(128, 60_000), default=15_000,
        help="training images of the bias part (the first ones)",
    )  # fmt: skip
    parser.add_argument(
        "--logreg-epochs", type=cli.integer(1), default=20,
        help="epochs of each logistic regression run",
    )  # fmt: skip
    parser.add_argument(
        "--l2", type=float, default=1e-4,
        help="the logistic regression's L2 penalty, l2/2 ||W||^2 per example",
    )  # fmt: skip
    parser.add_argument("--mlp-epochs", type=cli.integer(1), default=6, help="epochs per MLP run")
    parser.add_argument(
        "--dropout", type=float, default=0.5, help="the MLP's dropout rate p, on every layer"
    )
    parser.add_argument("--seed", type=cli.integer(0), default=1, help="seed of every run")
    parser.add_argument(
        "--quick", action="store_true",
        help="a smoke run of about 35 seconds: 2,000-5,000 training images and 2-3 epochs",
    )  # fmt: skip
    parser.add_argument(
        "--resume", action="store_true",
        help="keep the finished runs in <out>/runs and train only the missing ones",
    )  # fmt: skip
    parser.add_argument(
        "--overwrite", action="store_true",
        help="train every run again, replacing the finished ones as the new ones finish",
    )  # fmt: skip
    parser.add_argument(
        "--out", default=None,
        help="output folder (default: out/adam-experiments, or out/adam-experiments-quick with "
        "--quick)",
    )  # fmt: skip
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)
    if not math.isfinite(args.l2) or args.l2 < 0:
        parser.error(f"--l2: expected a number >= 0, got {args.l2}")
    if not 0.0 < args.dropout < 1.0:
        parser.error(f"--dropout: expected a rate strictly between 0 and 1, got {args.dropout}")
    if args.resume and args.overwrite:
        parser.error("--resume and --overwrite contradict each other; pass one of them")
    args.out = cli.output_folder(args.out, os.path.join("out", "adam-experiments"), args.quick)
    if args.quick:
        args.bias_images, args.bias_epochs = 2_000, 2
        args.logreg_epochs, args.mlp_epochs = 3, 2
    return args


# -- the grid ---------------------------------------------------------------------------------
def grid(args):
    """Every run of the requested parts: (part, name, spec), spec a dict of plain values."""
    runs = []
    if "bias" in args.parts:
        for beta1 in BETA1S:
            for beta2 in BETA2S:
                for log10_lr in LOG10_LRS:
                    for correction in (True, False):
                        spec = {
                            "optimizer": "adam", "lr": 10.0**log10_lr, "beta1": beta1,
                            "beta2": beta2, "bias_correction": correction,
                            "epochs": args.bias_epochs, "images": args.bias_images,
                        }  # fmt: skip
                        runs.append(("bias", bias_key(beta1, beta2, log10_lr, correction), spec))
    classifiers = (
        ("logreg", LOGREG_LRS, {"epochs": args.logreg_epochs, "l2": args.l2,
                                "lr_decay": "inverse_sqrt"}),
        ("mlp", MLP_LRS, {"epochs": args.mlp_epochs, "dropout": args.dropout,
                          "lr_decay": "constant"}),
    )  # fmt: skip
    for part, lrs, settings in classifiers:
        if part in args.parts:
            for optimizer, values in lrs.items():
                for lr in values:
                    spec = {"optimizer": optimizer, "lr": lr, **OPTIMIZER_SETTINGS[optimizer],
                            **settings}  # fmt: skip
                    runs.append((part, f"{optimizer}-lr={lr:g}", spec))
    for part, _, spec in runs:
        spec.update(model=MODELS[part], seed=args.seed, batch_size=128, quick=args.quick)
    return runs


def run_path(out, part, name):
    return os.path.join(out, "runs", part, name + ".json")


def load_finished(out, runs, resume):
    """The saved result of every run in ``runs`` that has one, checked against its spec.

    Without ``resume`` an existing result is refused (so it is never replaced by
    accident, nor kept by mistake); pass --resume or --overwrite.
    """
    finished = {}
    for part, name, spec in runs:
        path = run_path(out, part, name)
        if not os.path.exists(path):
            continue
        if not resume:
            raise cli.UsageError(
                f"{path} holds a finished run; pass --resume to continue the grid "
                "or --overwrite to train every run again"
            )
        try:
            with open(path, encoding="utf-8") as f:
                saved = json.load(f)
            check_saved_run(saved, part)
        except (OSError, ValueError, TypeError) as error:
            raise cli.UsageError(
                f"{path} is not a readable run ({error}); delete it to train that run again"
            ) from error
        saved_spec = saved["spec"]
        changed = sorted(
            k for k in spec.keys() | saved_spec.keys() if spec.get(k) != saved_spec.get(k)
        )
        if changed:
            key = changed[0]
            raise cli.UsageError(
                f"{path} was trained with {key} = {saved_spec.get(key)!r}, this grid asks for "
                f"{spec.get(key)!r}; use another --out, or --overwrite to train again"
            )
        finished[part, name] = saved
    return finished


def check_saved_run(saved, part):
    """Raise ValueError unless ``saved`` is a whole result of a run of ``part``."""
    if not isinstance(saved, dict) or not isinstance(saved.get("spec"), dict):
        raise ValueError("no spec")
    epochs, diverged = saved["spec"].get("epochs"), saved.get("diverged_at_epoch")
    losses = saved.get("loss_per_epoch")
    if not isinstance(epochs, int):
        raise ValueError(f"epochs {epochs!r} in its spec")
    if not (diverged is None or (isinstance(diverged, int) and 1 <= diverged <= epochs)):
        raise ValueError(f"diverged_at_epoch {diverged!r}")
    expected = epochs if diverged is None else diverged - 1
    if not (
        isinstance(losses, list)
        and len(losses) == expected
        and all(isinstance(x, (int, float)) and math.isfinite(x) for x in losses)
    ):
        raise ValueError(f"expected {expected} finite losses, one per epoch trained")
    if part != "bias" and diverged is None and not 0 <= saved.get("test_error", -1) <= 1:
        raise ValueError("no test error")


def run_grid(out, runs, finished, train_one, progress):
    """Train the runs not in ``finished``, saving each as it ends; returns every result."""
    results = {}
    with tqdm(
        total=len(runs), initial=len(finished), desc="grid runs", disable=not progress
    ) as bar:
        for part, name, spec in runs:
            if (part, name) in finished:
                results[part, name] = finished[part, name]
                continue
            bar.set_postfix_str(f"{part} {name}")
            result = {"part": part, "name": name, "spec": spec, **train_one(part, spec)}
            write_json(run_path(out, part, name), result)
            results[part, name] = result
            bar.update()
    return results


# -- one run ------------------------------------------------------------------------------------
def make_optimizer(spec, parameters):
    """The optimizer a run's spec names, with the spec's settings."""
    name, lr = spec["optimizer"], spec["lr"]
    decay = spec.get("lr_decay", "constant")
    if name == "adam":
        return tv.Adam(
            parameters, lr=lr, beta1=spec.get("beta1", 0.9), beta2=spec.get("beta2", 0.999),
            bias_correction=spec.get("bias_correction", True), lr_decay=decay,
        )  # fmt: skip
    if name == "adamax":
        return tv.AdaMax(parameters, lr=lr, lr_decay=decay)
    if name == "rmsprop":
        return tv.RMSProp(parameters, lr=lr, rho=spec["rho"], lr_decay=decay)
    if name == "adagrad":
        return tv.AdaGrad(parameters, lr=lr, lr_decay=decay)
    return tv.SGD(parameters, lr=lr, momentum=spec["momentum"], nesterov=True, lr_decay=decay)


def train_epochs(objective, optimizer, x, spec, rng, labels=None, binarize=False):
    """fit, one epoch at a time: the loss of each epoch, and where it diverged (or None)."""
    losses = []
    started = time.perf_counter()
    result = {"optimizer": repr(optimizer), "loss_per_epoch": losses, "diverged_at_epoch": None}
    for epoch in range(1, spec["epochs"] + 1):
        try:
            history = tv.fit(
                objective, optimizer,
                tv.Batches(x, labels, batch_size=spec["batch_size"], binarize=binarize),
                epochs=1, rng=rng, progress=False,
            )  # fmt: skip
        except tv.TrainingDiverged:
            result["diverged_at_epoch"] = epoch
            break
        losses.append(history.train_loss[0])
    result["seconds"] = time.perf_counter() - started
    return result


def make_trainer(data):
    """``train_one(part, spec)`` on ``data``: the numbers of one run."""

    def train_one(part, spec):
        rng = np.random.default_rng(spec["seed"])
        if part == "bias":
            model = tv.VAE(784, (500,), 50, activation="softplus", rng=rng)
            objective = tv.SGVB_B(model)
            optimizer = make_optimizer(spec, objective.parameters())
            x = data.x_train[: spec["images"]]
            # the grid's largest step sizes overflow on purpose: fit stops such a run
            # and it is recorded as diverged, so numpy's warnings would say nothing new
            with np.errstate(over="ignore", invalid="ignore"):
                return train_epochs(objective, optimizer, x, spec, rng, binarize=True)
        if part == "logreg":
            model = tv.DropoutMLP(784, (), 10, "none", rng=rng)
            objective = tv.VariationalDropout(model, len(data.x_train), l2=spec["l2"])
            optimizer = make_optimizer(spec, objective.parameters())  # lr / sqrt(t)
            result = train_epochs(objective, optimizer, data.x_train, spec, rng, data.y_train)
        else:
            model = tv.DropoutMLP(784, (1000, 1000), 10, "binary", p=spec["dropout"], rng=rng)
            objective = tv.VariationalDropout(model, len(data.x_train))
            optimizer = make_optimizer(spec, objective.parameters())
            result = train_epochs(objective, optimizer, data.x_train, spec, rng, data.y_train)
        if result["diverged_at_epoch"] is None:
            result["test_error"] = model.error(data.x_test, data.y_test)
        return result

    return train_one


# -- the script -----------------------------------------------------------------------------------
def main(argv=None):
    args = parse_args(argv)
    with cli.user_errors():
        return run(args)


def run(args):
    started = time.perf_counter()
    cli.check_writable(args.out)
    runs = grid(args)
    finished = {} if args.overwrite else load_finished(args.out, runs, args.resume)
    print(f"writing results to {args.out}/ ({len(runs)} runs, {len(finished)} finished before)")
    data = tv.load_dataset("mnist", data_dir=args.data_dir)
    if args.quick:
        data = dataclasses.replace(data, x_train=data.x_train[:5_000], y_train=data.y_train[:5_000])
    results = run_grid(args.out, runs, finished, make_trainer(data), not args.no_progress)
    by_part = {part: {} for part in args.parts}
    for (part, name), result in results.items():
        by_part[part][name] = result
    summary = {}
    if "bias" in by_part:
        bias_figure(os.path.join(args.out, "bias.png"), args, by_part["bias"])
        summary["bias"] = bias_summary(by_part["bias"])
    for part in ("logreg", "mlp"):
        if part in by_part:
            best = best_runs(by_part[part])
            path = os.path.join(args.out, f"{part}.png")
            classifier_figure(path, args, part, best, len(data.x_train))
            summary[part] = {optimizer: run["name"] for optimizer, run in best.items()}
    minutes = {
        "this call": (time.perf_counter() - started) / 60,
        "training, every run": sum(r["seconds"] for r in results.values()) / 60,
    }
    table = write_table(os.path.join(args.out, "table.md"), args, by_part, summary, minutes)
    write_json(
        os.path.join(args.out, "results.json"),
        {"settings": vars(args), "minutes": minutes, "summary": summary, "runs": by_part},
    )
    print("\n" + table)
    print(f"total {minutes['this call']:.1f} min; figures and table in {args.out}/")
    return results


# -- what the runs say ----------------------------------------------------------------------------
def final_loss(run):
    """The last epoch's loss, or infinity if the run diverged."""
    return math.inf if run["diverged_at_epoch"] is not None else run["loss_per_epoch"][-1]


def best_runs(runs):
    """Per optimizer, the run of the grid with the lowest final training cost (a run that
    diverged only if every step size of that optimizer diverged)."""
    best = {}
    for run in runs.values():
        optimizer = run["spec"]["optimizer"]
        key = (final_loss(run), run["diverged_at_epoch"] is not None and -run["diverged_at_epoch"])
        if optimizer not in best or key < best[optimizer][0]:
            best[optimizer] = (key, run)
    return {optimizer: run for optimizer, (_, run) in best.items()}


def bias_key(beta1, beta2, log10_lr, correction):
    return f"b1={beta1}-b2={beta2}-lr=1e{log10_lr}-" + (
        "corrected" if correction else "uncorrected"
    )


def unstable(run):
    """Diverged, or blew up past CAP (this VAE starts near 636 nats per image)."""
    return run["diverged_at_epoch"] is not None or max(run["loss_per_epoch"]) > CAP


def bias_summary(runs):
    """Per (beta1, beta2): how many step sizes were unstable or ended lower, each way."""
    summary = {}
    for beta1 in BETA1S:
        for beta2 in BETA2S:
            counts = {"uncorrected unstable": 0, "corrected unstable": 0, "corrected lower": 0}
            best = {True: math.inf, False: math.inf}
            for log10_lr in LOG10_LRS:
                on = runs[bias_key(beta1, beta2, log10_lr, True)]
                off = runs[bias_key(beta1, beta2, log10_lr, False)]
                counts["uncorrected unstable"] += unstable(off)
                counts["corrected unstable"] += unstable(on)
                counts["corrected lower"] += final_loss(on) < final_loss(off)
                for correction, run in ((True, on), (False, off)):
                    if not unstable(run):
                        best[correction] = min(best[correction], final_loss(run))
            counts["best corrected"], counts["best uncorrected"] = best[True], best[False]
            summary[f"beta1={beta1}, beta2={beta2}"] = counts
    return summary


def nats(loss):
    return f"{loss:.1f}" if loss < CAP else f"{loss:.2g}"


def write_table(path, args, by_part, summary, minutes):
    lines = []
    if "bias" in by_part:
        runs = by_part["bias"]
        last = args.bias_epochs
        lines += [
            f"Bias correction: VAE loss (-ELBO per image) after epoch 1 / epoch {last}, "
            f"{args.bias_images} images, batches of 128 (inf: diverged). Paper: "
            + PAPER["bias"]
            + ".",
            "",
            "| beta1 | beta2 | correction | " + " | ".join(f"lr 1e{e}" for e in LOG10_LRS) + " |",
            "|---|---|---|" + "---:|" * len(LOG10_LRS),
        ]
        for beta1 in BETA1S:
            for beta2 in BETA2S:
                for correction in (True, False):
                    cells = []
                    for log10_lr in LOG10_LRS:
                        run = runs[bias_key(beta1, beta2, log10_lr, correction)]
                        if run["diverged_at_epoch"] is not None:
                            cells.append(f"inf (epoch {run['diverged_at_epoch']})")
                        else:
                            loss = run["loss_per_epoch"]
                            cells.append(f"{nats(loss[0])} / {nats(loss[-1])}")
                    lines.append(
                        f"| {beta1} | {beta2} | {'yes' if correction else 'no'} | "
                        + " | ".join(cells)
                        + " |"
                    )
        lines += [
            "",
            f"Per panel, of the {len(LOG10_LRS)} step sizes: how many were unstable (diverged, "
            f"or a loss above {CAP} at some epoch) with and without bias correction, at how "
            "many the corrected run ended lower, and the lowest final loss of the stable runs "
            "each way.",
            "",
            "| beta1, beta2 | unstable, corrected | unstable, uncorrected | corrected lower | "
            "best, corrected | best, uncorrected |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for panel, counts in summary["bias"].items():
            lines.append(
                f"| {panel} | {counts['corrected unstable']} | "
                f"{counts['uncorrected unstable']} | {counts['corrected lower']} | "
                f"{counts['best corrected']:.1f} | {counts['best uncorrected']:.1f} |"
            )
        lines.append("")
    for part, title in (
        ("logreg", f"Logistic regression (L2 {args.l2}, step size alpha / sqrt(t))"),
        ("mlp", f"MLP 784-1000-1000-10, ReLU, dropout {args.dropout}, constant step size"),
    ):
        if part not in by_part:
            continue
        runs = by_part[part]
        epochs = args.logreg_epochs if part == "logreg" else args.mlp_epochs
        lines += [
            f"{title}: training cost per example after epoch 1 / epoch {epochs}, and the "
            f"test error; * marks each optimizer's best step size. Paper: {PAPER[part]}.",
            "",
            "| optimizer | step size | cost, epoch 1 | cost, last | test error (%) |",
            "|---|---:|---:|---:|---:|",
        ]
        best = {run["name"] for run in best_runs(runs).values()}
        for run in runs.values():
            loss = run["loss_per_epoch"]
            star = " *" if run["name"] in best else ""
            if run["diverged_at_epoch"] is not None:
                cells = f"diverged (epoch {run['diverged_at_epoch']}) | | "
            else:
                cells = f"{loss[0]:.4f} | {loss[-1]:.4f} | {100 * run['test_error']:.2f}"
            lines.append(
                f"| {LABELS[run['spec']['optimizer']]}{star} | {run['spec']['lr']:g} | {cells} |"
            )
        lines.append("")
    lines.append(
        f"seed {args.seed}; the runs trained for {minutes['training, every run']:.1f} min in "
        f"all; this call took {minutes['this call']:.1f} min, with loading and figures"
        + ("; --quick: 2,000 / 5,000 training images" if args.quick else "")
    )
    table = "\n".join(lines) + "\n"
    with atomic_write(path) as f:
        f.write(table.encode())
    return table


# -- figures ---------------------------------------------------------------------------------------
def bias_figure(path, args, runs):
    """The paper's Figure 4: a panel per (beta1, beta2), loss against log10 step size.

    A loss above CAP (the run blew up, and may have come back) is drawn at CAP as a
    triangle, outside the lines; a run that diverged is a cross at CAP.
    """
    fig = Figure(figsize=(10, 6.5), layout="constrained")
    axes = fig.subplots(len(BETA1S), len(BETA2S), sharex=True, squeeze=False)
    low = min(loss for run in runs.values() for loss in run["loss_per_epoch"])
    last = args.bias_epochs
    for row, beta1 in enumerate(BETA1S):
        for col, beta2 in enumerate(BETA2S):
            ax = axes[row, col]
            for correction, color in ((True, "tab:red"), (False, "tab:green")):
                shift = -0.08 if correction else 0.08  # side by side, both visible
                for epoch, style, width in ((1, ":", 1.0), (last, "-", 1.8)):
                    ys, blown, crashed = [], [], []
                    for log10_lr in LOG10_LRS:
                        losses = runs[bias_key(beta1, beta2, log10_lr, correction)][
                            "loss_per_epoch"
                        ]
                        loss = losses[epoch - 1] if len(losses) >= epoch else math.nan
                        if math.isnan(loss):
                            crashed.append(log10_lr)
                        elif loss > CAP:
                            blown.append(log10_lr)
                        ys.append(loss if loss <= CAP else math.nan)
                    ax.plot(LOG10_LRS, ys, style, color=color, lw=width, marker="o", ms=3)
                    if epoch == last:
                        ax.plot(np.add(crashed, shift), [STRIP] * len(crashed), "x",
                                color=color, ms=7, mew=2)  # fmt: skip
                    hollow = "none" if epoch == 1 else color
                    ax.plot(np.add(blown, shift), [STRIP] * len(blown), "^", color=color,
                            ms=6, mfc=hollow)  # fmt: skip
            ax.axhline(CAP, color="grey", lw=0.8)  # above it: the runs that were unstable
            ax.set_yscale("log")
            ax.set_ylim(0.9 * low, 1.3 * CAP)
            ticks = [t for t in (100, 150, 200, 300, 500, 1000) if t >= 0.9 * low]
            ax.set_yticks(ticks, [str(t) for t in ticks])
            ax.yaxis.set_minor_formatter(NullFormatter())
            ax.set_title(f"beta1 = {beta1}, beta2 = {beta2}", fontsize=9)
            ax.grid(alpha=0.3)
            if row == len(BETA1S) - 1:
                ax.set_xlabel("log10 step size")
            if col == 0:
                ax.set_ylabel("loss (-ELBO, nats per image)")
    proxies, names = [], []
    for color, label in (("tab:red", "bias correction"), ("tab:green", "no bias correction")):
        proxies += [
            Line2D([], [], color=color, ls=":", lw=1.0, marker="o", ms=3),
            Line2D([], [], color=color, ls="-", lw=1.8, marker="o", ms=3),
            Line2D([], [], color=color, ls="", marker="^", ms=6),
            Line2D([], [], color=color, ls="", marker="x", ms=7, mew=2),
        ]
        names += [
            f"{label}, epoch 1",
            f"{label}, epoch {last}",
            f"{label}: loss above {CAP} (hollow: at epoch 1)",
            f"{label}: diverged (NaN)",
        ]
    fig.legend(proxies, names, loc="outside lower center", ncols=2, fontsize=8)
    fig.suptitle(
        f"Adam with and without bias correction: a VAE on {args.bias_images} MNIST images,\n"
        f"the loss after epoch 1 (dotted) and epoch {last} (solid)",
        fontsize=10,
    )
    plots.save_figure(fig, path)


def classifier_figure(path, args, part, best, n_train):
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    for optimizer, run in best.items():
        loss = run["loss_per_epoch"]
        diverged = run["diverged_at_epoch"]
        note = f", diverged at epoch {diverged}" if diverged is not None else ""
        ax.plot(
            range(1, len(loss) + 1), loss, marker="o", ms=3,
            label=f"{LABELS[optimizer]} (step size {run['spec']['lr']:g}{note})",
        )  # fmt: skip
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(f"epochs (passes over the {n_train:,} training images)")
    ax.set_ylabel("training cost per example")
    if part == "logreg":
        ax.set_title(
            f"MNIST logistic regression, L2 {args.l2}, step size alpha / sqrt(t)", fontsize=9
        )
    else:
        ax.set_title(
            f"MNIST MLP 1000-1000 ReLU, dropout {args.dropout}: training cost with the noise",
            fontsize=9,
        )
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    plots.save_figure(fig, path)


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
