"""Train a VAE (AEVB, estimator B) and draw what it learned.

    python demos/vae.py                          # synthetic digits, about a minute
    python demos/vae.py --z-dim 2                # adds the 2-D manifold (AEVB Fig. 4)
    python demos/vae.py --dataset mnist --no-binarize   # the pytorch/examples setup

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

import numpy as np

import tinyvae as tv
from tinyvae import plots
from tinyvae.data.batching import binarize
from tinyvae.data.datasets import DATASET_NAMES, load_dataset
from tinyvae.files import write_json
from tinyvae.train import fit


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Train a variational autoencoder (Kingma & Welling 2013) written in "
        "NumPy with hand-written backprop, and save pictures of the result.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--dataset",
        choices=DATASET_NAMES,
        default="synthetic",
        help="synthetic digits need no download; mnist is read from "
        "--data-dir, $TINYVAE_DATA or the cache, or downloaded",
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="folder holding the MNIST files (default: $TINYVAE_DATA, then "
        "the cache, then a download)",
    )
    parser.add_argument("--epochs", type=int, default=10, help="passes through the data")
    parser.add_argument("--seed", type=int, default=1, help="seed of every random draw")
    parser.add_argument("--z-dim", type=int, default=20, help="latent dimensions J")
    parser.add_argument(
        "--hidden",
        type=int,
        nargs="+",
        default=[400],
        help="hidden layer sizes of the encoder (the decoder mirrors them)",
    )
    parser.add_argument(
        "--activation",
        default="relu",
        choices=sorted(tv.nn.ACTIVATIONS),
        help="nonlinearity of the hidden layers",
    )
    parser.add_argument(
        "--init",
        default="glorot_uniform",
        choices=["glorot_uniform", "he_uniform", "aevb_normal", "pytorch"],
        help="weight initialisation",
    )
    parser.add_argument("--batch-size", type=int, default=128, help="minibatch size M")
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam step size")
    parser.add_argument(
        "--n-samples", type=int, default=1, help="L, samples of z per example in the ELBO estimate"
    )
    parser.add_argument(
        "--binarize",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="dynamically binarize the pixels (a true Bernoulli likelihood); "
        "--no-binarize trains on grey levels with a Bernoulli-form "
        "cross-entropy, as pytorch/examples does",
    )
    parser.add_argument(
        "--out", default=os.path.join("out", "vae-<dataset>-z<z-dim>"), help="output folder"
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue from <out>/checkpoint.npz if it exists"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    args = parser.parse_args(argv)
    for name in ("epochs", "z_dim", "batch_size", "n_samples"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.lr <= 0 or any(h < 1 for h in args.hidden):
        parser.error("--lr and --hidden must be positive")
    return args


def main(argv=None):
    args = parse_args(argv)
    out = args.out.replace("<dataset>", args.dataset).replace("<z-dim>", str(args.z_dim))
    started = time.perf_counter()
    try:
        data = load_dataset(args.dataset, data_dir=args.data_dir)
    except (FileNotFoundError, ImportError) as error:
        sys.exit(f"error: {error}\n(demos/vae.py also accepts --data-dir FOLDER)")
    os.makedirs(out, exist_ok=True)
    print(f"writing results to {out}/")
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
        likelihood="bernoulli",
        init=args.init,
        rng=init_rng,
    )
    optimizer = tv.Adam(model.parameters(), lr=args.lr)
    what = (
        "dynamically binarized pixels, Bernoulli likelihood"
        if args.binarize
        else "grey levels with Bernoulli cross-entropy (not a likelihood; for parity with "
        "pytorch/examples)"
    )
    print(f"{model} with {model.num_parameters():,} parameters; {what}")
    print(
        "loss = -ELBO (estimator B, analytic KL, "
        f"L={args.n_samples}) in nats per example; the test loss samples z"
    )

    history = fit(
        model,
        optimizer,
        data.x_train,
        x_test,
        epochs=args.epochs,
        batch_size=args.batch_size,
        rng=train_rng,
        binarize=args.binarize,
        n_samples=args.n_samples,
        checkpoint=os.path.join(out, "checkpoint.npz"),
        resume=args.resume,
        progress=not args.no_progress,
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
        model.sample(64, figure_rng),
        shape,
        8,
        8,
        "samples: mean of p(x|z) for z ~ N(0, I)",
    )
    ylabel = "ELBO (nats per example)" if args.binarize else "-(BCE + KL) per example"
    plots.learning_curves(os.path.join(out, "elbo.png"), history, ylabel)
    mu, _ = model.encode(x_test)
    model.clear_cache()
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
    sys.exit(main() and 0)
