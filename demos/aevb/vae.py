"""Train a VAE (AEVB, estimator B) and draw what it learned.

    python demos/aevb/vae.py                          # synthetic digits, about a minute
    python demos/aevb/vae.py --z-dim 2                # adds the 2-D manifold (AEVB Fig. 4)
    python demos/aevb/vae.py --dataset mnist --no-binarize   # the pytorch/examples setup
    python demos/aevb/vae.py --dataset frey --epochs 100     # faces: a Gaussian decoder
    python demos/aevb/vae.py --resume --epochs 20     # 10 more epochs of the first run

Writes into the output folder (printed at the start):
  reconstructions.png  test images and their reconstructions
  samples.png          decoder means for z drawn from the prior
  elbo.png             train and test ELBO per epoch
  latent.png           posterior means of the test set, coloured by label (if labelled)
  manifold.png         (only with --z-dim 2) decoder means over the latent plane
  history.json         the numbers behind elbo.png and the settings of the run
  checkpoint.npz       model, optimizer and RNG state (--resume continues from it)
"""

import argparse
import os
import sys
import time

# This clone's tinyvae, even when Python starts in the folder that holds the clone:
# see "Running from the folder above a clone" in tinyvae/cli.py.
sys.path.append(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np

import tinyvae as tv
from tinyvae import cli, plots
from tinyvae.data.batching import binarize
from tinyvae.data.datasets import DATASET_NAMES
from tinyvae.files import write_json
from tinyvae.nn.activations import ACTIVATIONS
from tinyvae.nn.linear import INITS


def parse_args(argv=None):
    parser = cli.parser(__doc__)
    parser.add_argument(
        "--dataset",
        choices=DATASET_NAMES,
        default="synthetic",
        help="synthetic digits need no download; the others are read from --data-dir, "
        "$TINYVAE_DATA or the cache, or downloaded (frey needs SciPy)",
    )
    parser.add_argument("--data-dir", default=None, help=cli.DATA_DIR_HELP)
    parser.add_argument("--epochs", type=cli.integer(1), default=10, help="passes through the data")
    parser.add_argument("--seed", type=cli.integer(0), default=1, help="seed of every random draw")
    parser.add_argument("--z-dim", type=cli.integer(1), default=20, help="latent dimensions J")
    parser.add_argument(
        "--hidden",
        type=cli.integer(1),
        nargs="+",
        default=[400],
        help="hidden layer sizes of the encoder (the decoder mirrors them)",
    )
    parser.add_argument(
        "--activation",
        default="relu",
        choices=sorted(ACTIVATIONS),
        help="nonlinearity of the hidden layers",
    )
    parser.add_argument(
        "--init", default="glorot_uniform", choices=INITS, help="weight initialisation"
    )
    parser.add_argument("--batch-size", type=cli.integer(1), default=128, help="minibatch size M")
    parser.add_argument("--lr", type=cli.positive_float, default=1e-3, help="Adam step size")
    parser.add_argument(
        "--n-samples",
        type=cli.integer(1),
        default=1,
        help="L, samples of z per example in the ELBO estimate",
    )
    parser.add_argument(
        "--likelihood",
        choices=["bernoulli", "gaussian"],
        default=None,
        help="p(x|z): gaussian (mean in (0, 1), AEVB appendix C.2) models grey levels; "
        "bernoulli models binary pixels. Default: gaussian for --dataset frey unless "
        "--binarize is given, bernoulli otherwise",
    )
    parser.add_argument(
        "--binarize",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="dynamically binarize the pixels (a true Bernoulli likelihood); --no-binarize "
        "trains on grey levels (with bernoulli a Bernoulli-form cross-entropy, as "
        "pytorch/examples does). Default: on for bernoulli, off for gaussian",
    )
    parser.add_argument(
        "--out",
        default=os.path.join("out", "vae-<dataset>-z<z-dim>"),
        help="output folder (<dataset> and <z-dim> are filled in)",
    )
    continuing = parser.add_mutually_exclusive_group()
    continuing.add_argument(
        "--resume",
        action="store_true",
        help="continue the run saved in <out>/checkpoint.npz up to --epochs epochs in total",
    )
    continuing.add_argument(
        "--overwrite",
        action="store_true",
        help="start a new run even though <out>/checkpoint.npz exists (it is replaced)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    args = parser.parse_args(argv)

    if args.likelihood is None:
        grey_faces = args.dataset == "frey" and not args.binarize
        args.likelihood = "gaussian" if grey_faces else "bernoulli"
    if args.binarize is None:
        args.binarize = args.likelihood == "bernoulli"
    if args.likelihood == "gaussian" and args.binarize:
        parser.error(
            "--likelihood gaussian models grey levels; it cannot be combined with --binarize"
        )
    if args.likelihood == "gaussian" and args.dataset == "binarized_mnist":
        parser.error(
            "--likelihood gaussian models grey levels, but binarized_mnist's pixels are 0 or 1: "
            "use --likelihood bernoulli"
        )
    return args


def describe(args):
    """What the model is trained on, and what the reported loss means."""
    if args.likelihood == "gaussian":
        return (
            "grey levels, Gaussian likelihood with means in (0, 1)",
            "ELBO (nats per example; a density, can be > 0)",
        )
    if args.binarize:
        return "dynamically binarized pixels, Bernoulli likelihood", "ELBO (nats per example)"
    return (
        "grey levels with Bernoulli cross-entropy (not a likelihood; for parity with "
        "pytorch/examples)",
        "-(BCE + KL) per example",
    )


def asked_settings(args):
    """What a checkpoint records of the options (the model's config and fit's settings),
    in the form it records them, so that --resume compares them before the data loads.

    Not here: x_dim, known once the data is loaded (the checkpoint's loading compares it),
    and --seed and --init, which a checkpoint does not record (its weights and RNG state
    replace what they would make).
    """
    return {
        "hidden": list(args.hidden),
        "z_dim": args.z_dim,
        "activation": args.activation,
        "likelihood": args.likelihood,
        "bounded_mean": args.likelihood == "gaussian",
        "batch_size": args.batch_size,
        "binarize": args.binarize,
        "n_samples": args.n_samples,
        "optimizer": cli.optimizer_setting(tv.Adam, lr=args.lr),
    }


def main(argv=None):
    args = parse_args(argv)
    out = args.out.replace("<dataset>", args.dataset).replace("<z-dim>", str(args.z_dim))
    args.out = out  # history.json records the folder itself
    checkpoint = os.path.join(out, "checkpoint.npz")
    with cli.user_errors(checkpoint):
        return train_and_draw(args, out, checkpoint)


def train_and_draw(args, out, checkpoint):
    """Every check first (output folder, checkpoint, data), then the training and figures."""
    started = time.perf_counter()
    cli.check_writable(out)
    resume, message = cli.prepare_checkpoint(
        checkpoint, args.resume, args.overwrite, args.epochs, asked_settings(args)
    )
    print(f"writing results to {out}/; {message}")
    data = tv.load_dataset(args.dataset, data_dir=args.data_dir)
    print(
        f"{args.dataset}: {len(data.x_train)} training and {len(data.x_test)} test images "
        f"({time.perf_counter() - started:.1f} s to load)"
    )

    # Independent streams for model init, the fixed test binarization, and training.
    init_rng, test_rng, train_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(args.seed).spawn(3)
    )
    x_test = binarize(data.x_test, test_rng) if args.binarize else data.x_test
    model = tv.VAE(
        x_dim=data.x_train.shape[1],
        hidden=args.hidden,
        z_dim=args.z_dim,
        activation=args.activation,
        likelihood=args.likelihood,
        bounded_mean=args.likelihood == "gaussian",
        init=args.init,
        rng=init_rng,
    )
    optimizer = tv.Adam(model.parameters(), lr=args.lr)
    what, ylabel = describe(args)
    print(f"{model} with {model.num_parameters():,} parameters; {what}")
    print(
        "loss = -ELBO (estimator B, analytic KL, "
        f"L={args.n_samples}) in nats per example; the test loss samples z"
    )

    history = tv.fit(
        tv.SGVB_B(model, n_samples=args.n_samples),  # AEVB eq. (10) with L samples
        optimizer,
        tv.Batches(data.x_train, batch_size=args.batch_size, binarize=args.binarize),
        x_test,
        epochs=args.epochs,
        rng=train_rng,
        checkpoint=checkpoint,
        resume=resume,
        progress="epochs" if args.no_progress else True,
    )

    figure_rng = np.random.default_rng(args.seed)
    shape = data.image_shape
    plots.reconstruction_grid(
        os.path.join(out, "reconstructions.png"),
        x_test,
        model.reconstruct(x_test[:48], figure_rng),
        shape,
    )
    plots.image_grid(
        os.path.join(out, "samples.png"),
        model.sample_means(64, figure_rng),
        shape,
        8,
        8,
        "samples: mean of p(x|z) for z ~ N(0, I)",
    )
    plots.learning_curves(
        os.path.join(out, "elbo.png"),
        history,
        ylabel,
        f"{args.dataset}, J = {args.z_dim}, {args.likelihood} likelihood",
    )
    mu, _ = model.encode(x_test)
    if data.y_test is not None:
        plots.latent_scatter(
            os.path.join(out, "latent.png"),
            mu,
            data.y_test,
            f"{args.dataset} test set in the latent space (J = {args.z_dim})",
        )
    if args.z_dim == 2:
        plots.manifold(os.path.join(out, "manifold.png"), model, shape)

    write_json(
        os.path.join(out, "history.json"),
        {
            "settings": vars(args),
            "model": model.config(),
            "history": history.to_dict(),
            "final_test_loss": history.test_loss[-1],
        },
    )
    print(
        f"final test loss {history.test_loss[-1]:.2f} nats per example; "
        f"total {time.perf_counter() - started:.0f} s; figures in {out}/"
    )
    return history


if __name__ == "__main__":
    main()
