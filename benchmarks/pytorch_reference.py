"""The pytorch/examples VAE, trained in PyTorch, as a reference for demos/vae.py.

Same setup as ``python demos/vae.py --dataset mnist --no-binarize``:
784-400-20, ReLU, Bernoulli cross-entropy on grey levels plus analytic KL,
Adam 1e-3, batch 128, test loss with sampled z, in nats per example.
PyTorch is an optional dependency of this script only (``pip install torch``).

    python benchmarks/pytorch_reference.py --epochs 10 --json out/pytorch-reference.json
"""

import argparse
import json
import math
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from tinyvae.data.datasets import load_dataset


class TorchVAE(nn.Module):
    def __init__(self, x_dim=784, hidden=400, z_dim=20):
        super().__init__()
        self.enc, self.enc_mu, self.enc_logvar = (
            nn.Linear(x_dim, hidden),
            nn.Linear(hidden, z_dim),
            nn.Linear(hidden, z_dim),
        )
        self.dec, self.dec_out = nn.Linear(z_dim, hidden), nn.Linear(hidden, x_dim)

    def forward(self, x):
        h = F.relu(self.enc(x))
        mu, logvar = self.enc_mu(h), self.enc_logvar(h)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        return self.dec_out(F.relu(self.dec(z))), mu, logvar


def loss_sum(model, x):
    """Summed over the batch: Bernoulli cross-entropy plus KL(q || N(0, I))."""
    logits, mu, logvar = model(x)
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kl


def iwae_bound(model, x, k, max_rows=2000):
    """L_k (Burda et al. 2015, eq. 8) for each row of x, max_rows (sample, example)
    pairs at a time, as tinyvae.log_likelihood does."""
    log_2pi = math.log(2 * math.pi)
    samples_per_chunk = max(1, max_rows // len(x))
    with torch.no_grad():
        h = F.relu(model.enc(x))
        mu, logvar = model.enc_mu(h), model.enc_logvar(h)
        log_w = []
        for start in range(0, k, samples_per_chunk):
            eps = torch.randn(min(samples_per_chunk, k - start), *mu.shape)
            z = mu + torch.exp(0.5 * logvar) * eps
            logits = model.dec_out(F.relu(model.dec(z)))
            log_px = -F.binary_cross_entropy_with_logits(
                logits, x.expand_as(logits), reduction="none"
            ).sum(-1)
            log_pz = -0.5 * (z**2 + log_2pi).sum(-1)
            log_qz = -0.5 * (eps**2 + logvar + log_2pi).sum(-1)
            log_w.append(log_px + log_pz - log_qz)
        return torch.logsumexp(torch.cat(log_w), dim=0) - math.log(k)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", default=None, help="write per-epoch numbers here")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    data = load_dataset("mnist")
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
            f"test loss {history['test_loss'][-1]:8.3f}  ({history['seconds'][-1]:.1f} s)"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"torch_version": torch.__version__, "history": history}, f, indent=2)


if __name__ == "__main__":
    main()
