"""The benchmark's matmul floor must time exactly the products of a training step."""

import os
import sys

import numpy as np

import tinyvae as tv

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks"))
import throughput  # noqa: E402


def multiply_adds_of_a_step(model, batch):
    """Count B * in * out per product: forward, weight gradient, input gradient."""
    total = 0
    linears = [
        layer
        for mlp in (model.encoder, model.decoder)
        for layer in mlp.layers
        if isinstance(layer, tv.Linear)
    ]
    for layer in linears:
        products = 3 if layer.input_grad else 2
        total += products * batch * layer.in_features * layer.out_features
    return total


def test_matmul_floor_times_the_products_of_one_step():
    operands = throughput.matmul_operands(lambda shape: np.zeros(shape, np.float32))
    for a, b in operands:
        assert a.shape[1] == b.shape[0]  # every pair is a valid product
    floor_work = sum(a.shape[0] * a.shape[1] * b.shape[1] for a, b in operands)
    model = tv.VAE(
        throughput.X_DIM, (throughput.HIDDEN,), throughput.Z_DIM, rng=np.random.default_rng(0)
    )
    assert floor_work == multiply_adds_of_a_step(model, throughput.BATCH)
