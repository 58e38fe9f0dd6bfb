"""tinyvae.distributions.energies: each energy's gradient, and log Z where it is known."""

import math

import numpy as np
import pytest

from tinyvae.distributions.energies import ENERGIES, banana, log_normalizer
from tinyvae.gradcheck import numerical_gradient, rel_error


@pytest.mark.parametrize("name", ENERGIES)
def test_energy_gradient(name):
    rng = np.random.default_rng(0)
    z = rng.normal(0.0, 2.0, size=(9, 2))
    dy = rng.normal(size=9)  # a random upstream gradient per row
    energy = ENERGIES[name]
    U, dU = energy(z)
    assert U.shape == (9,) and dU.shape == (9, 2)
    numeric = numerical_gradient(lambda: energy(z)[0], z, dy)
    assert rel_error(dU * dy[:, None], numeric) < 1e-7


def test_banana_normalizer_has_a_closed_form():
    """z1 ~ N(0, 1.5^2), z2 | z1 ~ N(1 - z1^2 / 4, 0.5^2): Z = 2 pi * 1.5 * 0.5."""
    assert log_normalizer(banana) == pytest.approx(math.log(2 * math.pi * 1.5 * 0.5), abs=1e-4)


def test_normalizer_of_a_standard_gaussian():
    def gaussian(z):
        return 0.5 * np.sum(z * z, axis=1), z

    assert log_normalizer(gaussian) == pytest.approx(math.log(2 * math.pi), abs=1e-6)


@pytest.mark.parametrize("name", ENERGIES)
def test_every_target_is_finite_and_normalizable(name):
    rng = np.random.default_rng(1)
    U, dU = ENERGIES[name](rng.normal(0.0, 5.0, size=(1000, 2)))
    assert np.isfinite(U).all() and np.isfinite(dU).all()
    log_z = log_normalizer(ENERGIES[name])
    assert np.isfinite(log_z)
    # the box holds the mass: a wider box changes log Z by less than 1e-3
    assert log_normalizer(ENERGIES[name], limit=12.0, n=1201) == pytest.approx(log_z, abs=1e-3)
