"""A VAE's training loop, written out: the file to copy to start work of your own.

    python demos/aevb/loop.py        # 10 epochs on the built-in synthetic digits, under a minute

Trains a VAE (Kingma & Welling 2014, estimator B of eq. (10)) on tinyvae's
synthetic digits with dynamic binarization, prints the test ELBO after every
epoch, and writes 64 samples from the prior to loop-samples.png.
"""

import argparse
import time

import numpy as np

import tinyvae as tv
from tinyvae import plots


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="A VAE's training loop, written out.")
    parser.add_argument(
        "--dataset",
        default="synthetic",
        choices=["synthetic", "mnist"],
        help="the data (default: synthetic; mnist reads TINYVAE_DATA)",
    )
    return parser.parse_args(argv)  # fmt: skip


def main():
    args = parse_args()
    tv.set_blas_threads("auto")  # as fit does: the cores other programs leave free
    data = tv.load_dataset(args.dataset)
    rng = np.random.default_rng(0)
    x_test = tv.binarize(data.x_test, np.random.default_rng(1))  # binarized once, as in the papers
    model = tv.VAE(x_dim=784, hidden=(400,), z_dim=20, activation="relu",
                   likelihood="bernoulli", rng=rng)  # fmt: skip
    opt = tv.Adam(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    for epoch in range(1, 11):
        for x in tv.batches(data.x_train, batch_size=128, rng=rng):
            x = tv.binarize(x, rng)  # dynamic binarization: fresh binary pixels every pass
            loss = model.loss(x, rng=rng)  # batch mean of -ELBO, nats per example
            model.zero_grad()
            model.backward()  # manual backprop of that loss, into every parameter's grads
            opt.step()
        elbo = model.elbo(x_test, rng=rng).mean()  # per-example bound, z sampled; the mean
        print(f"epoch {epoch:2d}  last batch loss {loss:7.2f}  test ELBO {elbo:7.2f}"
              f"  ({time.perf_counter() - start:.0f} s)")  # fmt: skip
    samples = model.sample_means(64, rng)  # decoder means of z ~ N(0, I)
    plots.image_grid("loop-samples.png", samples, data.image_shape, 8, 8, "samples from the prior")
    print("wrote loop-samples.png")


if __name__ == "__main__":
    main()
