"""AEVB Figures 2, 4 and 5, reproduced: AEVB against wake-sleep, manifolds, samples.

Figure 2 of Kingma & Welling (2013) plots the lower bound against the number
of training samples evaluated, for AEVB and for the wake-sleep algorithm, on
MNIST (Nz = 3, 5, 10, 20, 200) and Frey Face (Nz = 2, 5, 10, 20). The paper's
setup, used here as written: one hidden layer of 500 (MNIST) or 200 (Frey
Face) tanh units in encoder and decoder, minibatches of M = 100, L = 1
sample, SGVB estimator B, AdaGrad, parameters initialised from N(0, 0.01^2),
the objective scaled to the whole data set (N/M) plus a N(0, I) weight prior.
MNIST uses a Bernoulli decoder on dynamically binarized pixels; Frey Face a
Gaussian decoder whose mean passes through a sigmoid (AEVB appendix C.2).
The paper trains up to 10^8 samples; we stop at --mnist-samples and
--frey-samples. The bound is estimated on 1000 training and 1000 test images
(all of Frey Face's held-out 10 %) with one sample of z each.

Figure 4: the learned 2-D manifolds (Nz = 2); Figure 5: random samples for
Nz = 2, 5, 10, 20 (MNIST).

    python demos/aevb_figures.py                        # about 15 minutes on 2 cores
    python demos/aevb_figures.py --mnist-samples 2e5 --frey-samples 2e5   # a quick look

Writes figure2_mnist.png, figure2_frey.png, figure4.png, figure5.png and
figures.json (every curve) into the output folder.
"""

import argparse
import os
import sys
import time

import numpy as np
from matplotlib.figure import Figure

import tinyvae as tv
from aevb_common import plot_methods, train
from tinyvae.files import write_json
from tinyvae.plots import manifold_grid_codes, save_figure, tile

SETUPS = {
    "mnist": {
        "hidden": 500,
        "likelihood": "bernoulli",
        "figure2": [3, 5, 10, 20, 200],
        "extra": [2],
    },
    "frey": {"hidden": 200, "likelihood": "gaussian", "figure2": [2, 5, 10, 20], "extra": []},
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--data-dir", default=None)
    parser.add_argument(
        "--mnist-samples", type=float, default=1e6, help="training samples evaluated per MNIST run"
    )
    parser.add_argument(
        "--frey-samples",
        type=float,
        default=1e6,
        help="training samples evaluated per Frey Face run",
    )
    parser.add_argument("--lr", type=float, default=0.02, help="AdaGrad step size")
    parser.add_argument(
        "--evaluations", type=int, default=12, help="log-spaced points on each curve"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-wake-sleep", action="store_true")
    parser.add_argument("--out", default=os.path.join("out", "aevb-figures"))
    return parser.parse_args(argv)


def train_curve(method, data, z_dim, setup, budget, args, rng):
    """Train one model, evaluating the bound at log-spaced sample counts."""
    binary = setup["likelihood"] == "bernoulli"
    model = tv.VAE(
        data.x_train.shape[1],
        (setup["hidden"],),
        z_dim,
        activation="tanh",
        likelihood=setup["likelihood"],
        bounded_mean=not binary,
        init="aevb_normal",
        rng=rng,
    )
    steps = int(budget // 100)
    checkpoints = set(np.unique(np.geomspace(10, steps, args.evaluations).astype(int)))
    eval_rng = np.random.default_rng([args.seed, 2])
    x_train_eval, x_test_eval = data.x_train[:1000], data.x_test[:1000]
    if binary:
        x_train_eval = tv.binarize(x_train_eval, eval_rng)
        x_test_eval = tv.binarize(x_test_eval, eval_rng)
    curve = {"samples": [], "train": [], "test": []}

    elbo = tv.SGVB_B(model)  # the bound is estimated with one sample of z per image

    def evaluate(step):
        if step in checkpoints:
            curve["samples"].append(step * 100)
            curve["train"].append(float(elbo.bound(x_train_eval, rng=eval_rng).mean()))
            curve["test"].append(float(elbo.bound(x_test_eval, rng=eval_rng).mean()))

    train(model, method, data.x_train, steps, rng, args.lr, binary, evaluate)
    return model, curve


def figure2(path, dataset, curves, z_dims):
    fig = Figure(figsize=(3.2 * len(z_dims), 3.2))
    for i, z_dim in enumerate(z_dims):
        ax = fig.add_subplot(1, len(z_dims), i + 1)
        plot_methods(
            ax, {method: curves.get(f"{method} Nz={z_dim}") for method in ("AEVB", "wake-sleep")}
        )
        ax.set_title(f"{dataset}, Nz = {z_dim}", fontsize=9)
        if i == 0:
            ax.set_ylabel("lower bound (nats per example)")
            ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)


def figure4(path, models, shapes):
    fig = Figure(figsize=(10, 5.4))
    for i, (name, model) in enumerate(models.items()):
        ax = fig.add_subplot(1, len(models), i + 1)
        images = model.decode_mean(manifold_grid_codes(12)).reshape(-1, *shapes[name])
        ax.imshow(tile(images, 12, 12), cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"{name}: learned 2-D manifold (Nz = 2)", fontsize=9)
        ax.axis("off")
    save_figure(fig, path)


def figure5(path, models, shape, rng):
    fig = Figure(figsize=(3 * len(models), 3.4))
    for i, (z_dim, model) in enumerate(sorted(models.items())):
        ax = fig.add_subplot(1, len(models), i + 1)
        ax.imshow(
            tile(model.sample(100, rng).reshape(-1, *shape), 10, 10), cmap="gray", vmin=0, vmax=1
        )
        ax.set_title(f"MNIST samples, Nz = {z_dim}", fontsize=9)
        ax.axis("off")
    save_figure(fig, path)


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    print(f"writing results to {args.out}/")
    results = {"settings": vars(args), "curves": {}, "seconds": {}}
    manifold_models, sample_models, shapes = {}, {}, {}
    for dataset, setup in SETUPS.items():
        data = tv.load_dataset(dataset, data_dir=args.data_dir)
        shapes[dataset] = data.image_shape
        budget = args.mnist_samples if dataset == "mnist" else args.frey_samples
        curves = results["curves"].setdefault(dataset, {})
        methods = ["AEVB"] if args.no_wake_sleep else ["AEVB", "wake-sleep"]
        for z_dim in sorted(setup["figure2"] + setup["extra"]):
            for method in methods if z_dim in setup["figure2"] else ["AEVB"]:
                started = time.perf_counter()
                rng = np.random.default_rng([args.seed, z_dim])
                model, curve = train_curve(method, data, z_dim, setup, budget, args, rng)
                key = f"{method} Nz={z_dim}"
                curves[key] = curve
                results["seconds"][f"{dataset} {key}"] = time.perf_counter() - started
                print(
                    f"{dataset:<6} {key:<18} bound after {curve['samples'][-1]:.1e} samples: "
                    f"train {curve['train'][-1]:9.2f}  test {curve['test'][-1]:9.2f}  "
                    f"({results['seconds'][f'{dataset} {key}']:.0f} s)",
                    flush=True,
                )
                if method == "AEVB" and z_dim == 2:
                    manifold_models[dataset] = model
                if method == "AEVB" and dataset == "mnist" and z_dim in (2, 5, 10, 20):
                    sample_models[z_dim] = model
        write_json(os.path.join(args.out, "figures.json"), results)
        figure2(os.path.join(args.out, f"figure2_{dataset}.png"), dataset, curves, setup["figure2"])
    figure4(os.path.join(args.out, "figure4.png"), manifold_models, shapes)
    figure5(
        os.path.join(args.out, "figure5.png"),
        sample_models,
        shapes["mnist"],
        np.random.default_rng(args.seed),
    )
    return results


if __name__ == "__main__":
    sys.exit(main() and 0)
