"""The pytorch/examples VAE, trained in PyTorch, as a reference for demos/aevb/vae.py.

Same setup as ``python demos/aevb/vae.py --dataset mnist --no-binarize``:
784-400-20, ReLU, Bernoulli cross-entropy on grey levels plus analytic KL,
Adam 1e-3, batch 128, test loss with sampled z, in nats per example.
PyTorch is an optional dependency of this script only
(``pip install torch==2.13.0``); ``--help`` works without it.

    python benchmarks/pytorch_reference.py --epochs 10 --json out/pytorch-reference.json
"""

import os
import sys
import time

# This clone's tinyvae, even when Python starts in the folder that holds the clone:
# see "Running from the folder above a clone" in tinyvae/cli.py.
sys.path.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np

from tinyvae import cli
from tinyvae.data.datasets import load_dataset
from tinyvae.files import write_json

TORCH_INSTALL = "pip install torch==2.13.0"


def parse_args(argv=None):
    parser = cli.parser(__doc__)
    parser.add_argument("--data-dir", default=None, help=cli.DATA_DIR_HELP)
    parser.add_argument("--epochs", type=cli.integer(1), default=10, help="passes through MNIST")
    parser.add_argument("--seed", type=cli.integer(0), default=1, help="seed of every random draw")
    parser.add_argument(
        "--json", default=None, help="also write the per-epoch numbers to this file"
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    with cli.user_errors():
        return train(args)


def train(args):
    """Check PyTorch, the output folder and the data, then train and report per epoch."""
    torch = cli.require("torch", TORCH_INSTALL)
    from torch_vae import TorchVAE, loss_sum  # needs torch, now known to be there

    if args.json:
        cli.check_writable(os.path.dirname(args.json) or ".")
    data = load_dataset("mnist", data_dir=args.data_dir)
    torch.manual_seed(args.seed)
    x_train, x_test = torch.from_numpy(data.x_train), torch.from_numpy(data.x_test)
    model = TorchVAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(args.seed)
    history = {"epoch": [], "train_loss": [], "test_loss": [], "seconds": []}
    for epoch in range(1, args.epochs + 1):
        started = time.perf_counter()
        total = 0.0
        for idx in np.array_split(rng.permutation(len(x_train)), np.ceil(len(x_train) / 128)):
            x = x_train[torch.from_numpy(idx)]
            loss = loss_sum(model, x)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        with torch.no_grad():
            test = sum(loss_sum(model, x).item() for x in torch.split(x_test, 1000))
        history["epoch"].append(epoch)
        history["train_loss"].append(total / len(x_train))
        history["test_loss"].append(test / len(x_test))
        history["seconds"].append(time.perf_counter() - started)
        print(
            f"epoch {epoch:3d}  train loss {history['train_loss'][-1]:8.3f}  "
            f"test loss {history['test_loss'][-1]:8.3f}  ({history['seconds'][-1]:.1f} s)",
            flush=True,
        )
    if args.json:
        write_json(args.json, {"torch_version": torch.__version__, "history": history})
    return history


if __name__ == "__main__":
    main()
