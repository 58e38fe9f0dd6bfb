"""Semi-supervised MNIST with M1, M2 and M1+M2 (Kingma, Rezende, Mohamed & Welling 2014).

    python demos/semi_supervised/semi_supervised.py --quick  # every stage, about 40 seconds
    python demos/semi_supervised/semi_supervised.py  # the table's run at 100 labels
    python demos/semi_supervised/semi_supervised.py --labels 100 600 1000 3000
    python demos/semi_supervised/semi_supervised.py --models m2 --m2-epochs 30   # one model only
    python demos/semi_supervised/semi_supervised.py --resume --m1m2-epochs 200  # train on

A second phase at a smaller step, from the M2 an earlier run saved in FILE (its folder's
m2-100.npz), written to another folder DIR:
    python demos/semi_supervised/semi_supervised.py --models m2 --init-from FILE --out DIR --lr 1e-3

The stages, each saved in the output folder so that --resume continues it:
  M1       a VAE (2 x 600 softplus units, z = 50) on all 50,000 training images
  M1+clf   softmax regression on z ~ q(z|x) of the labelled images only (the paper
           uses a transductive SVM here; this is a plainer classifier)
  M2       the generative semi-supervised model on the images (1 x 500 units by
           default, z = 50)
  M1+M2    M2 on z1 ~ q(z1|x) of M1, redrawn every batch, with a Gaussian p(z1|y, z2)
           (all 50 units of z1, or M1's active ones: --m1-units)
  styles   an M2 with z of 2 dimensions, for Figure 1(a)

Writes into the output folder (printed at the start):
  table.md          test error of every model beside the paper's Table 1, with budgets
  curves.png        test error and test bound per epoch of M2 and M1+M2
  styles.png        Figure 1(a): each panel one label, z over a grid of the 2-D plane
  analogies.png     Figure 1(b): z inferred from a test image (left), decoded with each label
  results.json      every number, the settings and the histories
  *.npz             checkpoints of M1, of each M2 and M1+M2 run, and of the styles model
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
from tqdm.auto import trange

import tinyvae as tv
from tinyvae import cli, plots
from tinyvae.checkpoint import read_checkpoint
from tinyvae.data.batching import binarize
from tinyvae.data.semi_supervised import labelled_subset, split_mnist
from tinyvae.files import atomic_write, write_json

MODELS = ("m1", "m2", "m1m2", "styles")
LABEL_COUNTS = (100, 600, 1000, 3000)
# Table 1 of the paper: test error in % (mean +- std over runs where given)
PAPER = {
    100: {"M1+TSVM": "11.82 ± 0.25", "M2": "11.97 ± 1.71", "M1+M2": "3.33 ± 0.14"},
    600: {"M1+TSVM": "5.72 ± 0.05", "M2": "4.94 ± 0.13", "M1+M2": "2.59 ± 0.05"},
    1000: {"M1+TSVM": "4.24 ± 0.07", "M2": "3.60 ± 0.56", "M1+M2": "2.40 ± 0.02"},
    3000: {"M1+TSVM": "3.49 ± 0.04", "M2": "3.92 ± 0.63", "M1+M2": "2.18 ± 0.04"},
}


def parse_args(argv=None):
    parser = cli.parser(__doc__)
    parser.add_argument("--data-dir", default=None, help=cli.DATA_DIR_HELP)
    parser.add_argument(
        "--models",
        nargs="+",
        choices=MODELS,
        default=list(MODELS),
        help="which stages to run (m1m2 and the M1 classifier need M1: trained here or "
        "saved by an earlier run in the same folder)",
    )
    parser.add_argument(
        "--labels",
        nargs="+",
        type=cli.integer(1),
        choices=LABEL_COUNTS,
        default=[100],
        help="numbers of labelled training images, balanced over the 10 classes",
    )
    parser.add_argument("--m1-epochs", type=cli.integer(1), default=30, help="passes of M1")
    parser.add_argument(
        "--m2-epochs", type=cli.integer(1), default=20, help="passes of M2 over the unlabelled"
    )
    parser.add_argument(
        "--m1m2-epochs", type=cli.integer(1), default=100, help="passes of M1+M2 likewise"
    )
    parser.add_argument(
        "--styles-epochs", type=cli.integer(1), default=10, help="passes of the 2-D M2"
    )
    parser.add_argument(
        "--m1-units",
        choices=("all", "active"),
        default="all",
        help="the units of M1's z1 that M1+M2 models: all 50, or active, those whose "
        "posterior mean varies over the training images with a standard deviation above 0.1 "
        "(as the authors' code; 0.4 points worse after 150 passes here)",
    )
    parser.add_argument(
        "--hidden",
        type=cli.integer(1),
        default=500,
        help="units of the one hidden layer of every network of M2 and M1+M2 (the authors' "
        "code: 300 for M1+M2 at 100 labels, 500 otherwise)",
    )
    parser.add_argument("--batch-size", type=cli.integer(1), default=100, help="unlabelled rows")
    parser.add_argument(
        "--labelled-batch-size",
        type=cli.integer(1),
        default=100,
        help="labelled rows added to every batch (drawn in turn from the labelled set)",
    )
    parser.add_argument("--lr", type=cli.positive_float, default=1e-3, help="Adam step size")
    parser.add_argument(
        "--alpha-scale",
        type=cli.positive_float,
        default=0.1,
        help="alpha = this * N / N_labelled per labelled example (the paper's alpha = 0.1 N)",
    )
    parser.add_argument(
        "--labelled-weight",
        type=labelled_weight,
        default=1.0,
        metavar="W|paper",
        help="weight of the labelled rows' mean loss against the unlabelled rows' mean: a "
        "number, or paper, N_labelled / N_unlabelled, the weight eq. 9's sums give them",
    )
    parser.add_argument(
        "--init-from",
        default=None,
        metavar="CHECKPOINT",
        help="start the one M2 or M1+M2 stage asked for from the model saved in CHECKPOINT "
        "(an earlier run's, same labels and --seed; for M1+M2, the same M1 in --out) with a "
        "new optimizer: a second phase at "
        "another --lr; its passes and minutes are added to the table's and the curves' (give "
        "it again with --resume: the checkpoint does not record it)",
    )
    parser.add_argument(
        "--seed", type=cli.integer(0), default=1, help="seed of the labelled subset and all draws"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run of about 40 seconds: 10,000 training images, 2 epochs per stage",
    )
    parser.add_argument(
        "--out",
        default=None,
        help="output folder (default: out/semi-supervised, or out/semi-supervised-quick with "
        "--quick)",
    )
    continuing = parser.add_mutually_exclusive_group()
    continuing.add_argument(
        "--resume",
        action="store_true",
        help="continue every saved stage up to its --*-epochs; stages without a checkpoint "
        "start afresh",
    )
    continuing.add_argument(
        "--overwrite",
        action="store_true",
        help="start every stage afresh, replacing its checkpoint",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    args = parser.parse_args(argv)
    if len(set(args.labels)) != len(args.labels):
        parser.error(f"--labels: each count once, got {args.labels}")
    if args.init_from is not None:
        stages = [kind for kind in args.models if kind in ("m2", "m1m2")]
        if len(stages) != 1 or len(args.labels) != 1:
            parser.error(
                "--init-from: starts one stage, so ask for one of m2 and m1m2 in --models and "
                f"one count in --labels (got --models {' '.join(args.models)} and --labels "
                f"{' '.join(map(str, args.labels))})"
            )
    args.out = cli.output_folder(args.out, os.path.join("out", "semi-supervised"), args.quick)
    if args.quick:
        args.m1_epochs = args.m2_epochs = args.m1m2_epochs = args.styles_epochs = 2
    return args


def labelled_weight(text):
    """--labelled-weight: "paper" or a number > 0."""
    return text if text == "paper" else cli.positive_float(text)


def stage_settings(args, key):
    """What the checkpoint of stage ``key`` records of the options, compared before the
    data is loaded (alpha too is recorded, but depends on the number of training images)."""
    asked = {"batch_size": args.batch_size, "optimizer": cli.optimizer_setting(tv.Adam, lr=args.lr)}
    if key != "m1":  # the M2 stages: labelled rows in every batch, and how many labels
        labelled = args.labels[0] if key == "styles" else int(key.split("-")[1])
        asked.update(labelled=labelled, labelled_batch_size=args.labelled_batch_size)
    return asked


def kept_units(m1, x, which):
    """The units of M1's z1 that M1+M2 models: all, or the active ones, whose posterior
    mean has a variance above 0.01 over ``x`` (a standard deviation above 0.1)."""
    if which == "all":
        return np.arange(m1.z_dim)
    _, variances = tv.active_units(m1, x, threshold=0.01)
    return np.flatnonzero(variances > 0.01)


def first_phase(path, key, own_path):
    """The run a second phase (--init-from ``path``) continues, for stage ``key``: its
    passes, seconds and history, read and checked before any data is loaded."""
    if not os.path.isfile(path):
        raise cli.UsageError(f"--init-from {path}: no such checkpoint")
    if os.path.exists(own_path) and os.path.samefile(path, own_path):
        raise cli.UsageError(
            f"--init-from {path} is this run's own checkpoint, which the second phase would "
            "overwrite; give the second phase another --out"
        )
    metadata = read_checkpoint(path)[1]  # CheckpointError if it is not one
    settings, config = metadata.get("settings") or {}, metadata.get("model_config") or {}
    kind, n = key.split("-")
    likelihood = "bernoulli" if kind == "m2" else "gaussian"  # M1+M2's M2 models codes z1
    history = metadata.get("history") or {}
    if settings.get("estimator") != "m2" or config.get("likelihood") != likelihood:
        raise cli.UsageError(
            f"--init-from {path}: expected a checkpoint of the {kind} stage, an M2 with a "
            f"{likelihood} likelihood; it holds {config or 'no model settings'}"
        )
    if settings.get("labelled") != int(n):
        raise cli.UsageError(
            f"--init-from {path}: its run had {settings.get('labelled')} labels, this one {n}"
        )
    return {
        "path": os.path.abspath(path),
        "epochs": metadata.get("epoch"),
        "optimizer": settings.get("optimizer"),
        "seconds": sum(history.get("seconds", [])),
        "history": history,
    }


def main(argv=None):
    args = parse_args(argv)
    with cli.user_errors():
        return run(args)


def run(args):
    started = time.perf_counter()
    out = args.out
    cli.check_writable(out)
    paths = {"m1": os.path.join(out, "m1.npz"), "styles": os.path.join(out, "styles.npz")}
    for n in args.labels:
        paths[f"m2-{n}"] = os.path.join(out, f"m2-{n}.npz")
        paths[f"m1m2-{n}"] = os.path.join(out, f"m1m2-{n}.npz")
    epochs = {"m1": args.m1_epochs, "styles": args.styles_epochs}
    epochs.update({f"m2-{n}": args.m2_epochs for n in args.labels})
    epochs.update({f"m1m2-{n}": args.m1m2_epochs for n in args.labels})
    wanted = [key for key in paths if key.split("-")[0] in args.models]
    if "m1m2" in args.models and "m1" not in args.models and not os.path.exists(paths["m1"]):
        raise cli.UsageError(
            f"--models m1m2 needs M1: train it too (--models m1 m1m2) or keep {paths['m1']}"
        )
    starts = {
        key: cli.prepare_stage(
            paths[key], args.resume, args.overwrite, epochs[key], stage_settings(args, key)
        )
        for key in wanted
    }
    init = {  # the second phase's first: {stage: what it continues}
        key: first_phase(args.init_from, key, paths[key])
        for key in wanted
        if args.init_from is not None and key.startswith(("m2-", "m1m2-"))
    }
    print(f"writing results to {out}/")

    mnist, _ = split_mnist(tv.load_dataset("mnist", data_dir=args.data_dir))
    x_train, y_train = mnist.x_train, mnist.y_train
    if args.quick:
        x_train, y_train = x_train[:10_000], y_train[:10_000]
    seeds = np.random.SeedSequence(args.seed).spawn(3)
    init_rng, test_rng, train_rng = (np.random.default_rng(s) for s in seeds)
    x_test = binarize(mnist.x_test, test_rng)  # one fixed binarization of the test set
    print(f"MNIST: {len(x_train)} training images, {len(x_test)} test images")

    results = {"settings": vars(args), "runs": {}}

    def training_labels(n):
        """The labelled rows for ``n`` labels, and every row's label (-1: unlabelled)."""
        rows = labelled_subset(y_train, n, seed=args.seed)
        labels = np.full(len(x_train), -1)
        labels[rows] = y_train[rows]
        return rows, labels

    def alpha_for(n):
        """The classification weight per labelled example (tv.paper_alpha for 0.1)."""
        return args.alpha_scale * len(x_train) / n

    def weight_for(n):
        """The labelled rows' weight (tv.paper_labelled_weight for "paper")."""
        if args.labelled_weight == "paper":
            return tv.paper_labelled_weight(n, len(x_train) - n)
        return args.labelled_weight

    progress = not args.no_progress

    def train(key, objective, labels=None, on_epoch=None):
        """fit one stage with its own checkpoint; returns the history."""
        resume, message = starts[key]
        print(f"\n== {key}: {message}")
        optimizer = tv.Adam(objective.parameters(), lr=args.lr)
        data = tv.Batches(x_train, labels, batch_size=args.batch_size, binarize=True)
        return tv.fit(
            objective,
            optimizer,
            data,
            x_test,
            epochs=epochs[key],
            rng=train_rng,
            on_epoch=on_epoch,
            checkpoint=paths[key],
            resume=resume,
            progress=True if progress else "epochs",
        )

    # -- M1: a VAE on every training image -------------------------------------------
    m1 = tv.VAE(784, hidden=(600, 600), z_dim=50, activation="softplus", rng=init_rng)
    if "m1" in args.models:
        history = train("m1", tv.SGVB_B(m1))
        results["runs"]["m1"] = run_record(history)
    elif "m1m2" in args.models:
        tv.load_checkpoint(paths["m1"], m1)
        print(f"M1 from {paths['m1']}")

    if "m1m2" in args.models:
        units = kept_units(m1, x_train, args.m1_units)
        if len(units) == 0:
            raise cli.UsageError(
                "--m1-units active: M1 has no active unit (none whose posterior mean varies "
                "over the training images with a standard deviation above 0.1); train M1 "
                "longer (--m1-epochs) or give --m1-units all"
            )
        results["m1_units"] = units.tolist()
        print(f"M1+M2 models {len(units)} of M1's {m1.z_dim} units of z1 ({args.m1_units})")

    for n in args.labels:
        rows, labels = training_labels(n)
        alpha = alpha_for(n)
        if "m1" in args.models:
            error = m1_classifier(m1, x_train[rows], y_train[rows], mnist, train_rng, progress)
            results["runs"][f"m1clf-{n}"] = {"test_error": error}
            print(f"M1 + softmax regression, {n} labels: test error {100 * error:.2f}%")
        for kind in ("m2", "m1m2"):
            key = f"{kind}-{n}"
            if kind not in args.models:
                continue
            if kind == "m2":
                model = tv.M2(784, hidden=(args.hidden,), z_dim=50, rng=init_rng)
                objective = tv.SemiSupervised(
                    model, alpha, labelled_batch_size=args.labelled_batch_size,
                    labelled_weight=weight_for(n),
                )  # fmt: skip
            else:
                model = tv.M2(
                    len(units),
                    hidden=(args.hidden,),
                    z_dim=50,
                    likelihood="gaussian",
                    rng=init_rng,
                )
                objective = tv.SemiSupervised(
                    model, alpha, features=m1, labelled_batch_size=args.labelled_batch_size,
                    labelled_weight=weight_for(n),
                    feature_units=units if args.m1_units == "active" else None,
                )  # fmt: skip
            print(f"{model}, {objective}")
            if key in init:
                tv.load_checkpoint(args.init_from, model)  # the parameters only
                print(f"starting from {args.init_from}, after its {init[key]['epochs']} passes")

            def test_error(epoch, objective=objective):
                return {"test_error": objective.error(mnist.x_test, mnist.y_test)}

            history = train(key, objective, labels, test_error)
            results["runs"][key] = run_record(history, init.get(key))
            print(f"{key}: test error {100 * history.metrics['test_error'][-1]:.2f}%")
            if kind == "m2" and n == args.labels[0]:
                analogies(os.path.join(out, "analogies.png"), model, mnist)

    if "styles" in args.models:
        n = args.labels[0]
        _, labels = training_labels(n)
        model = tv.M2(784, hidden=(500,), z_dim=2, rng=init_rng)
        history = train(
            "styles",
            tv.SemiSupervised(
                model,
                alpha_for(n),
                labelled_batch_size=args.labelled_batch_size,
                labelled_weight=weight_for(n),
            ),  # fmt: skip
            labels,
        )
        results["runs"]["styles"] = run_record(history)
        styles(os.path.join(out, "styles.png"), model)

    curves(os.path.join(out, "curves.png"), results["runs"])
    table = write_table(os.path.join(out, "table.md"), args, results["runs"])
    results["seconds"] = time.perf_counter() - started
    write_json(os.path.join(out, "results.json"), results)
    print("\n" + table)
    print(f"total {results['seconds'] / 60:.1f} min; figures and table in {out}/")
    return results


def run_record(history, init=None):
    """What results.json keeps of one stage's run; ``init``, the run a second phase
    continues (``first_phase``)."""
    record = {
        "history": history.to_dict(),
        "epochs": len(history.epoch),
        "seconds": sum(history.seconds),
    }
    if init is not None:
        record["init_from"] = init
    return record


def m1_classifier(m1, x_labelled, y_labelled, mnist, rng, progress, steps=2000):
    """Softmax regression on z ~ q(z|x) of the labelled images, z redrawn every step.

    The test images are classified at the mean of q(z|x). Returns the test error.
    """
    classifier = tv.Classifier(m1.z_dim, hidden=(), rng=rng)
    optimizer = tv.Adam(classifier.parameters(), lr=1e-3)
    params = m1.encode(binarize(x_labelled, rng))
    for _ in trange(steps, desc="M1 classifier", leave=False, disable=not progress):
        eps = rng.standard_normal(params[0].shape).astype(np.float32)
        z, _ = m1.posterior.sample_from(params, eps)
        classifier.loss(z, y_labelled)
        optimizer.zero_grad()
        classifier.backward()
        optimizer.step()
    z_test = m1.encode(binarize(mnist.x_test, rng))[0]
    return classifier.error(z_test, mnist.y_test)


def analogies(path, model, mnist, rows=8):
    """Figure 1(b): test images (left) and the style inferred from each, with every label."""
    x = mnist.x_test[:rows] >= 0.5
    decoded = model.analogies(x.astype(np.float32), mnist.y_test[:rows])  # (rows, 10, 784)
    images = np.concatenate([x[:, None].astype(np.float32), decoded], axis=1)
    plots.image_grid(
        path,
        images.reshape(-1, 784),
        (28, 28),
        rows,
        11,
        "left: a test image; then E[x|y, z] for y = 0..9, z = the mean of q(z|x, y)",
    )


def styles(path, model, n=7):
    """Figure 1(a): for each label, E[x|y, z] over an n x n grid of z in the 2-D plane."""
    codes = plots.manifold_grid_codes(n)
    fig = Figure(figsize=(10, 4.4))
    for k in range(10):
        images = model.decode_mean(codes, np.full(len(codes), k)).reshape(-1, 28, 28)
        ax = fig.add_subplot(2, 5, k + 1)
        ax.imshow(plots.tile(images, n, n), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(f"y = {k}", fontsize=9)
        ax.axis("off")
    fig.suptitle("M2 with a 2-D z: each panel one label, z on the same grid (styles)", fontsize=10)
    plots.save_figure(fig, path)


def curves(path, runs):
    """Test error and test bound per epoch of every M2 and M1+M2 run."""
    semi = {key: run for key, run in runs.items() if key.startswith(("m2-", "m1m2-"))}
    if not semi:
        return
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    ax_error, ax_bound = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for key, run in semi.items():
        kind, n = key.split("-")
        name = {"m2": "M2", "m1m2": "M1+M2 (U of z1)"}[kind] + f", {n} labels"
        h, init = run["history"], run.get("init_from")
        epochs = np.asarray(h["epoch"])
        if init is not None:  # a second phase: its first phase's curve, then its own
            before = init["history"]
            ax_error.plot(
                before["epoch"], 100 * np.asarray(before["metrics"]["test_error"]),
                color="0.6", label=f"{name}, first phase",
            )  # fmt: skip
            ax_bound.plot(before["epoch"], before["test_loss"], color="0.6")
            epochs = epochs + init["epochs"]
            name += ", second phase"
        ax_error.plot(epochs, 100 * np.asarray(h["metrics"]["test_error"]), label=name)
        ax_bound.plot(epochs, h["test_loss"], label=name)
    ax_error.set_title("test error of argmax q(y|x) (%)", fontsize=9)
    ax_error.set_ylim(0, None)
    ax_bound.set_title("test U(x), minus the bound on log p(x) (nats)", fontsize=9)
    for ax in (ax_error, ax_bound):
        ax.set_xlabel("epoch (pass over the unlabelled images)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))  # whole passes
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    plots.save_figure(fig, path)


def write_table(path, args, runs):
    """Table 1 at laptop scale, beside the paper's numbers; written as Markdown."""
    lines = [
        "| labels | model | test error (%) | paper (%) | passes | minutes |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    m1 = runs.get("m1")
    for n in args.labels:
        for key, name, paper in (
            (f"m1clf-{n}", "M1 + softmax regression", "M1+TSVM"),
            (f"m2-{n}", "M2", "M2"),
            (f"m1m2-{n}", "M1+M2", "M1+M2"),
        ):
            if key not in runs:
                continue
            run = runs[key]
            if key.startswith("m1clf"):
                error, passes = run["test_error"], f"M1: {m1['epochs']}" if m1 else "M1 saved"
                minutes = f"{m1['seconds'] / 60:.0f} (M1)" if m1 else ""
            else:
                error = run["history"]["metrics"]["test_error"][-1]
                passes, minutes = run["epochs"], f"{run['seconds'] / 60:.0f}"
                init = run.get("init_from")
                if init is not None:  # a second phase: the first's budget, plus its own
                    passes = f"{init['epochs']} + {passes}"
                    minutes = f"{init['seconds'] / 60:.0f} + {minutes}"
            lines.append(
                f"| {n} | {name} | {100 * error:.2f} | {PAPER[n][paper]} ({paper}) | "
                f"{passes} | {minutes} |"
            )
    lines.append("")
    lines.append(
        f"seed {args.seed}; Adam lr {args.lr}; batches of {args.batch_size} unlabelled + "
        f"{args.labelled_batch_size} labelled images; alpha = {args.alpha_scale} N / N_labelled "
        f"per labelled example; labelled rows' weight {args.labelled_weight}; M2's networks "
        f"{args.hidden} units; M1+M2 on {'all' if args.m1_units == 'all' else 'the active'} "
        "units of M1's z1; the paper ran "
        "3000 passes"
        + ("; --quick: 10,000 training images" if args.quick else "")
        + "".join(
            f"; {key} is a second phase from {run['init_from']['path']} "
            f"(its first: {run['init_from']['optimizer']})"
            for key, run in runs.items()
            if "init_from" in run
        )
    )
    table = "\n".join(lines)
    with atomic_write(path) as f:
        f.write((table + "\n").encode())
    return table


if __name__ == "__main__":
    main()
