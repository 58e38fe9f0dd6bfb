"""Richer posteriors and deeper models on MNIST, dynamically binarized, at one budget.

    python demos/deeper/deeper_models.py --quick                  # about 20 seconds
    python demos/deeper/deeper_models.py  # 10 epochs per model, about 25 minutes
    python demos/deeper/deeper_models.py --seeds 1 2 3  # the chapter page's table, with error bars
    python demos/deeper/deeper_models.py --models diagonal iaf-4 --epochs 30
    python demos/deeper/deeper_models.py --models diagonal two-layer --epochs 50 --kl-warmup 10

The models share the encoder and decoder of Burda et al.'s (2016) one-layer
model, 784-200-200-50 with tanh units, and differ in q(z|x) or in p:

  diagonal    q(z|x) = N(mu, diag sigma^2)                      (AEVB)
  iaf-T       the same Gaussian followed by T steps of inverse autoregressive
              flow, each a MADE of 200 ELU units reading (z, h), h 50 numbers
              more from the encoder                           (Kingma et al. 2016)
  two-layer   two stochastic layers: 784-200-200-100 for q(z1|x), 100-100-100-50
              for q(z2|z1), mirrored for p(z1|z2) and p(x|z1)  (Burda et al. 2016, §5)

Every model is trained by estimator A with one sample (the diagonal one too,
so that the posterior is the only difference), Adam with lr 1e-3 and eps 1e-4,
batches of 100 dynamically binarized images, the same passes and seeds. With
--kl-warmup the bound's KL part, log p(z) - log q(z|x), is weighted by beta rising
from 0 to 1 (tv.WarmUp; Sønderby et al. 2016, where it kept more units active).
With --free-bits the diagonal and two-layer models train on Kingma et al.'s (2016)
free-bits objective instead: each stochastic layer's KL counts as at least LAMBDA
nats on average over the batch (tv.FreeBits; the KLs in closed form where they
exist: the diagonal model's, and z2's given z1).
Reported on the test set (binarized once): the ELBO on all 10,000 images, the
log-likelihood estimate L_k (k = 5000) on a subset, the gap L_k - ELBO on that
subset, active units per stochastic layer (Var_x of the centre of q > 0.01), and
seconds per epoch.

Writes into the output folder (printed at the start):
  table.md        the numbers beside the papers', mean ± std over seeds
  curves.png      test ELBO per epoch of every run
  samples.png     64 draws from each model (the first seed's)
  results.json    every number, the settings and the histories
  <model>-seed<s>.npz   a checkpoint per run, so that --resume continues it
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
from tinyvae import cli, plots
from tinyvae.checkpoint import read_checkpoint
from tinyvae.files import atomic_write, write_json

MODELS = ("diagonal", "iaf-1", "iaf-2", "iaf-4", "two-layer")
ACTIVE_THRESHOLD = 1e-2
# Burda et al. (2016) Table 1, -L_5000 in nats after 3280 passes (MLP models, VAE / IWAE k=5);
# Kingma et al. (2016) Table 1, -ELBO / -log p(x) in nats (a convolutional ResNet VAE)
PAPERS = {
    "diagonal": "IWAE T1, 1 layer: VAE 86.76, IWAE k=5 85.54; IAF T1 (ResNet), diagonal: "
    "84.08 / 81.08",
    "iaf-1": "",
    "iaf-2": "",
    "iaf-4": "IAF T1 (ResNet), IAF depth 8: 80.80 / 79.10",
    "two-layer": "IWAE T1, 2 layers: VAE 85.33, IWAE k=5 83.89",
}


def parse_args(argv=None):
    parser = cli.parser(__doc__)
    parser.add_argument("--data-dir", default=None, help=cli.DATA_DIR_HELP)
    parser.add_argument(
        "--models", nargs="+", choices=MODELS, default=list(MODELS), help="which models to train"
    )
    parser.add_argument(
        "--seeds",
        nargs="+",
        type=cli.integer(0),
        default=[1],
        help="one run of every model per seed (weights, batches and noise)",
    )
    parser.add_argument("--epochs", type=cli.integer(1), default=10, help="passes per model")
    parser.add_argument("--lr", type=cli.positive_float, default=1e-3, help="Adam step size")
    parser.add_argument(
        "--kl-warmup",
        type=cli.integer(0),
        default=0,
        metavar="EPOCHS",
        help="weight the KL part of the bound by beta, rising linearly from 0 to 1 over the "
        "first EPOCHS passes (Sønderby et al. 2016's warm-up; 0, the default: none)",
    )
    parser.add_argument(
        "--free-bits",
        type=cli.positive_float,
        default=None,
        metavar="LAMBDA",
        help="train on the free-bits objective instead: each stochastic layer's KL counts as "
        "at least LAMBDA nats, on average over the batch (Kingma et al. 2016); for the "
        "diagonal and two-layer models (the IAF ones have no closed-form KL); default: the ELBO",
    )
    parser.add_argument(
        "--k-eval", type=cli.integer(1), default=5000, help="k of the L_k evaluation"
    )
    parser.add_argument(
        "--test-subset",
        type=cli.integer(0, 10_000),
        default=500,
        help="test images for L_k (0: all 10,000); the ELBO uses all",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run of about 20 seconds: 10,000 training images, 2 epochs, L_500 on 200",
    )
    parser.add_argument(
        "--out",
        default=None,
        help="output folder (default: out/deeper-models, or out/deeper-models-quick with --quick)",
    )
    continuing = parser.add_mutually_exclusive_group()
    continuing.add_argument(
        "--resume",
        action="store_true",
        help="continue every saved run up to --epochs; runs without a checkpoint start afresh",
    )
    continuing.add_argument(
        "--overwrite", action="store_true", help="start every run afresh, replacing its checkpoint"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    args = parser.parse_args(argv)
    if len(set(args.seeds)) != len(args.seeds):
        parser.error(f"--seeds: each seed once, got {args.seeds}")
    args.models = [m for m in MODELS if m in args.models]  # the table's order
    if args.free_bits is not None:
        if args.kl_warmup:
            parser.error("--free-bits: an objective of its own; leave out --kl-warmup")
        if not set(args.models) <= {"diagonal", "two-layer"}:
            parser.error(
                "--free-bits: for the diagonal and two-layer models (IAF has no closed-form KL); "
                f"got --models {' '.join(args.models)}"
            )
    args.out = cli.output_folder(args.out, os.path.join("out", "deeper-models"), args.quick)
    if args.quick:
        args.epochs, args.k_eval, args.test_subset = 2, 500, 200
    return args


def make_model(name, rng):
    """The model ``name`` with fresh weights drawn from ``rng``."""
    if name == "two-layer":
        return tv.HierarchicalVAE(784, (200, 200), 100, (100, 100), 50, "tanh", rng=rng)
    steps = int(name.split("-")[1]) if name.startswith("iaf") else 0
    return tv.VAE(
        784,
        (200, 200),
        50,
        "tanh",
        rng=rng,
        estimator="A",
        iaf_steps=steps,
        iaf_hidden=(200,),
        iaf_context=50,
    )


def evaluate(model, x_test, subset, args, rng):
    """Test ELBO (all images), L_k and the gap on the subset, active units."""
    elbo = model.elbo(x_test, rng=rng).astype(np.float64)
    ll = tv.log_likelihood(model, x_test[:subset], k=args.k_eval, rng=rng)
    gap = ll - elbo[:subset]  # paired: the same images, so the noise of the images cancels
    _, variances = tv.active_units(model, x_test, ACTIVE_THRESHOLD)
    layers = np.split(variances, [model.z1_dim]) if hasattr(model, "z1_dim") else [variances]
    n = len(ll)
    return {
        "test_elbo": float(elbo.mean()),
        "test_elbo_subset": float(elbo[:subset].mean()),
        "test_ll": float(ll.mean()),
        "test_ll_stderr": float(ll.std() / np.sqrt(n)),
        "gap": float(gap.mean()),
        "gap_stderr": float(gap.std() / np.sqrt(n)),
        # per stochastic layer: [z] or [z1, z2]
        "active_units": [int(np.sum(v > ACTIVE_THRESHOLD)) for v in layers],
        "units": [len(v) for v in layers],
    }


def main(argv=None):
    args = parse_args(argv)
    with cli.user_errors():
        return run(args)


def run(args):
    started = time.perf_counter()
    cli.check_writable(args.out)
    paths = {
        (name, seed): os.path.join(args.out, f"{name}-seed{seed}.npz")
        for seed in args.seeds
        for name in args.models
    }
    # what every checkpoint records of the options (the model is fixed by its file's
    # name), compared before MNIST is loaded
    asked = {
        "optimizer": cli.optimizer_setting(tv.Adam, lr=args.lr, eps=1e-4),
        "estimator": estimator_name(args),
    }
    starts = {
        key: cli.prepare_stage(path, args.resume, args.overwrite, args.epochs, asked)
        for key, path in paths.items()
    }
    print(f"writing results to {args.out}/")
    data = tv.load_dataset("mnist", data_dir=args.data_dir)
    x_train = data.x_train[:10_000] if args.quick else data.x_train
    x_test = tv.binarize(data.x_test, np.random.default_rng([0, 1]))  # one fixed binarization
    subset = args.test_subset or len(x_test)
    print(f"MNIST: {len(x_train)} training images, {len(x_test)} test images")

    runs, samples = {}, {}
    for (name, seed), path in paths.items():
        resume, message = starts[(name, seed)]
        print(f"\n== {name}, seed {seed}: {message}")
        init_rng, train_rng, eval_rng = (
            np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3)
        )
        model = make_model(name, init_rng)
        optimizer = tv.Adam(model.parameters(), lr=args.lr, eps=1e-4)  # eps as in IWAE
        batches = tv.Batches(x_train, batch_size=100, binarize=True)
        objective, on_step = model.objective, None  # estimator A
        if args.kl_warmup:
            steps = args.kl_warmup * model.objective.steps_per_epoch(batches)
            objective = tv.WarmUp(model, warmup_steps=steps)
            objective.set_step(read_checkpoint(path)[1]["steps"] if resume else 0)
            on_step = objective.set_step  # beta for the next step
        if args.free_bits is not None:
            objective = tv.FreeBits(model, args.free_bits)
        history = tv.fit(
            objective,
            optimizer,
            batches,
            x_test,
            epochs=args.epochs,
            rng=train_rng,
            on_step=on_step,
            checkpoint=path,
            resume=resume,
            progress="epochs" if args.no_progress else True,
        )
        metrics = evaluate(model, x_test, subset, args, eval_rng)
        metrics["seconds_per_epoch"] = float(np.median(history.seconds))
        metrics["parameters"] = model.num_parameters()
        runs[f"{name}-seed{seed}"] = {
            "model": name,
            "seed": seed,
            **metrics,
            "history": history.to_dict(),
        }
        print(
            f"{name}, seed {seed}: test ELBO {metrics['test_elbo']:.2f}, "
            f"L_{args.k_eval} {metrics['test_ll']:.2f} ± {metrics['test_ll_stderr']:.2f} "
            f"(gap {metrics['gap']:.2f} ± {metrics['gap_stderr']:.2f}; ± is the standard "
            f"error over the {subset} images), "
            f"{' + '.join(map(str, metrics['active_units']))} active units"
        )
        if seed == args.seeds[0]:
            samples[name] = model.sample_means(64, eval_rng)

    table = write_table(os.path.join(args.out, "table.md"), args, runs, subset)
    curves(os.path.join(args.out, "curves.png"), runs)
    samples_figure(os.path.join(args.out, "samples.png"), samples)
    results = {"settings": vars(args), "runs": runs, "seconds": time.perf_counter() - started}
    write_json(os.path.join(args.out, "results.json"), results)
    print("\n" + table)
    print(f"total {results['seconds'] / 60:.1f} min; figures and table in {args.out}/")
    return results


def estimator_name(args):
    """The training objective's name, as its checkpoints record it."""
    if args.free_bits is not None:
        return "free_bits"
    return "A_warmup" if args.kl_warmup else "A"


def mean_std(values, digits=2):
    """ "m" for one value, "m ± s" (s the sample standard deviation) for several."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f}"


def active_column(rows):
    """Active units of each stochastic layer, out of its size: "29 / 50" or "30 + 4 / 100 + 50"."""
    digits = 1 if len(rows) > 1 else 0
    counts = np.array([r["active_units"] for r in rows])  # (seeds, layers)
    active = " + ".join(mean_std(counts[:, i], digits) for i in range(counts.shape[1]))
    return f"{active} / {' + '.join(map(str, rows[0]['units']))}"


def write_table(path, args, runs, subset):
    """One row per model: means over seeds (± their standard deviation), gains over diagonal."""
    by_model = {name: [r for r in runs.values() if r["model"] == name] for name in args.models}
    diagonal = {r["seed"]: r for r in by_model.get("diagonal", [])}
    lines = [
        f"| model | test ELBO | L_{args.k_eval} | L_k - ELBO | ELBO gain over diagonal | "
        "active units | s / epoch | papers (-ELBO or -log p(x), nats) |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, rows in by_model.items():
        gains = [
            r["test_elbo"] - diagonal[r["seed"]]["test_elbo"] for r in rows if r["seed"] in diagonal
        ]
        gain = mean_std(gains) if gains and name != "diagonal" else ""
        lines.append(
            f"| {name} | {mean_std([r['test_elbo'] for r in rows])} "
            f"| {mean_std([r['test_ll'] for r in rows])} "
            f"| {mean_std([r['gap'] for r in rows])} | {gain} "
            f"| {active_column(rows)} "
            f"| {mean_std([r['seconds_per_epoch'] for r in rows])} | {PAPERS[name]} |"
        )
    seeds = ", ".join(str(s) for s in args.seeds)
    warm_up = (
        f" (its KL part weighted by beta rising from 0 to 1 over the first {args.kl_warmup} "
        f"epoch{'s' if args.kl_warmup > 1 else ''})"
        if args.kl_warmup
        else ""
    )
    objective = (
        f"the free-bits objective with lambda = {args.free_bits} nats per layer"
        if args.free_bits is not None
        else f"estimator A with one sample{warm_up}"
    )
    lines.append(
        f"\nnats, higher is better; {args.epochs} epochs of {len(runs) // len(by_model)} "
        f"run(s) per model (seeds {seeds}; ± is the std over seeds), {objective}, "
        f"Adam lr {args.lr}; ELBO on the 10,000 test images, "
        f"L_{args.k_eval} and the gap on the first {subset}. The gain is paired by seed. "
        "The papers trained for thousands of passes; the IAF paper's numbers are for a "
        "convolutional ResNet VAE, not this MLP. Active units: Var_x of q's centre > 0.01, "
        "per stochastic layer (the centre is mu; with IAF the flow of mu; with two layers "
        "z2's at z1 = mu1)." + (" --quick: 10,000 training images." if args.quick else "")
    )
    table = "\n".join(lines) + "\n"
    with atomic_write(path) as f:
        f.write(table.encode())
    return table


def curves(path, runs):
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    colours = {name: f"C{i}" for i, name in enumerate(MODELS)}
    labelled = set()
    for run in runs.values():
        h, name = run["history"], run["model"]
        label = None if name in labelled else name
        labelled.add(name)
        ax.plot(
            h["epoch"], -np.asarray(h["test_loss"]), "o-", ms=3, color=colours[name], label=label
        )
    late = [
        -loss
        for run in runs.values()
        for epoch, loss in zip(run["history"]["epoch"], run["history"]["test_loss"])
        if epoch >= 3
    ]
    if late:  # the first two epochs climb steeply; the differences that matter come after
        ax.set_ylim(min(late) - 1, max(late) + 1)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("test ELBO (nats)")
    ax.set_title("MNIST (dynamically binarized): test ELBO per epoch, every seed", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    plots.save_figure(fig, path)


def samples_figure(path, samples):
    fig = Figure(figsize=(2.4 * len(samples), 2.7), layout="constrained")
    axes = fig.subplots(1, len(samples), squeeze=False)[0]
    for ax, (name, images) in zip(axes, samples.items()):
        ax.imshow(plots.tile(images.reshape(-1, 28, 28), 8, 8), cmap="gray", vmin=0, vmax=1)
        ax.set_title(name, fontsize=9)
        ax.axis("off")
    fig.suptitle("E[x|z] for z ~ p(z), 64 draws per model", fontsize=10)
    plots.save_figure(fig, path)


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
