"""The pytorch/examples VAE in PyTorch: the model, its loss and L_k.

784-400-20, ReLU, Bernoulli cross-entropy on grey levels plus analytic KL,
as in ``python demos/aevb/vae.py --dataset mnist --no-binarize``. Imported by
pytorch_reference.py and throughput.py only once PyTorch is known to be
installed (``pip install torch==2.13.0``).
"""

import math

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 (PyTorch's own convention)


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
