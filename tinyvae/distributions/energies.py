"""Unnormalized 2-D target densities p(z) = exp(-U(z)) / Z, for fitting flows by hand.

Rezende & Mohamed (2015, "Variational Inference with Normalizing Flows",
Table 1 and Figure 3) fit a flow q(z) to such a density by minimizing

    KL(q || p) = E_q[ log q(z) + U(z) ] + log Z,

which needs samples of q with their log-density (what an IAF gives) and the
gradient of the energy U at the samples, by the reparameterization trick.
Each energy here returns ``(U, dU/dz)`` for z of shape (N, 2), the gradient
written out by hand.

    banana   a Gaussian bent along a parabola
    ring     a ring of radius 2 with two bumps (Rezende & Mohamed's U1)
    wave     a sine-shaped ridge (their U2)
    waves    two sine-shaped ridges that split (their U3)

Rezende & Mohamed draw U2 and U3 on the box [-4, 4]^2 and leave z1 free, so
exp(-U) does not integrate; here both add 1/2 (z1 / 2)^2, a Gaussian of
standard deviation 2 along z1, so that Z is finite and the KL is defined.
"""

import numpy as np


def _logaddexp_and_weights(a, b):
    """log(e^a + e^b) and the weights e^a / (e^a + e^b), e^b / (...), stably."""
    top = np.maximum(a, b)
    ea, eb = np.exp(a - top), np.exp(b - top)
    total = ea + eb
    return top + np.log(total), ea / total, eb / total


def banana(z):
    """U = 1/2 (z1 / 1.5)^2 + 1/2 ((z2 + 0.25 z1^2 - 1) / 0.5)^2."""
    z1, z2 = z[:, 0], z[:, 1]
    t = z2 + 0.25 * z1**2 - 1
    U = 0.5 * (z1 / 1.5) ** 2 + 0.5 * (t / 0.5) ** 2
    dt = t / 0.25  # dU/dt
    # dt/dz1 = 0.5 z1, dt/dz2 = 1
    dU = np.stack([z1 / 2.25 + dt * 0.5 * z1, dt], axis=1)
    return U, dU


def ring(z):
    """U1 = 1/2 ((|z| - 2) / 0.4)^2 - log(e^a + e^b), a, b = -1/2 ((z1 -+ 2) / 0.6)^2."""
    z1 = z[:, 0]
    r = np.maximum(np.sqrt(np.sum(z * z, axis=1)), 1e-12)  # |z|; z = 0 has probability 0
    a, b = -0.5 * ((z1 - 2) / 0.6) ** 2, -0.5 * ((z1 + 2) / 0.6) ** 2
    log_bumps, wa, wb = _logaddexp_and_weights(a, b)
    U = 0.5 * ((r - 2) / 0.4) ** 2 - log_bumps
    # d|z|/dz = z / |z|; d log(e^a + e^b) = wa da + wb db, da/dz1 = -(z1 - 2) / 0.36
    dU = ((r - 2) / 0.16 / r)[:, None] * z
    dU[:, 0] += wa * (z1 - 2) / 0.36 + wb * (z1 + 2) / 0.36
    return U, dU


def _w1(z1):
    """w1 = sin(2 pi z1 / 4) and its derivative."""
    return np.sin(0.5 * np.pi * z1), 0.5 * np.pi * np.cos(0.5 * np.pi * z1)


def wave(z):
    """U2 = 1/2 ((z2 - w1(z1)) / 0.4)^2, plus 1/2 (z1 / 2)^2."""
    z1, z2 = z[:, 0], z[:, 1]
    w1, dw1 = _w1(z1)
    t = (z2 - w1) / 0.16  # dU/dz2
    U = 0.5 * ((z2 - w1) / 0.4) ** 2 + 0.5 * (z1 / 2) ** 2
    dU = np.stack([-t * dw1 + z1 / 4, t], axis=1)
    return U, dU


def waves(z):
    """U3 = -log(e^a + e^b), plus 1/2 (z1 / 2)^2, with
    a = -1/2 ((z2 - w1) / 0.35)^2 and b = -1/2 ((z2 - w1 + w2) / 0.35)^2;

    w2 = 3 exp(-1/2 ((z1 - 1) / 0.6)^2) opens a second ridge below the first.
    """
    z1, z2 = z[:, 0], z[:, 1]
    w1, dw1 = _w1(z1)
    w2 = 3.0 * np.exp(-0.5 * ((z1 - 1) / 0.6) ** 2)
    dw2 = -w2 * (z1 - 1) / 0.36
    u, v = z2 - w1, z2 - w1 + w2
    a, b = -0.5 * (u / 0.35) ** 2, -0.5 * (v / 0.35) ** 2
    log_sum, wa, wb = _logaddexp_and_weights(a, b)
    U = -log_sum + 0.5 * (z1 / 2) ** 2
    # da/du = -u / 0.35^2 with du/dz1 = -w1', du/dz2 = 1; likewise b with dv/dz1 = -w1' + w2'
    da, db = -u / 0.1225, -v / 0.1225
    dU1 = -(wa * da * -dw1 + wb * db * (dw2 - dw1)) + z1 / 4
    dU2 = -(wa * da + wb * db)
    return U, np.stack([dU1, dU2], axis=1)


ENERGIES = {"banana": banana, "ring": ring, "wave": wave, "waves": waves}


def log_normalizer(energy, limit=8.0, n=801):
    """log Z = log of the integral of exp(-U) over [-limit, limit]^2, by the midpoint rule.

    Every target here has all but a negligible part of its mass in that box,
    so this is log Z to the accuracy of the grid (about 1e-4 with 801^2 points).
    """
    edges = np.linspace(-limit, limit, n + 1)
    centres = 0.5 * (edges[:-1] + edges[1:])
    cell = (edges[1] - edges[0]) ** 2
    z1, z2 = np.meshgrid(centres, centres, indexing="ij")
    U, _ = energy(np.stack([z1.ravel(), z2.ravel()], axis=1))
    top = np.max(-U)
    return float(top + np.log(np.sum(np.exp(-U - top)) * cell))
