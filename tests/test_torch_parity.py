"""tinyvae against PyTorch's autograd in float64 (skipped when torch is absent).

The same weights and the same noise must give the same loss and the same
gradients; Adam must match torch.optim.Adam step for step.
"""

import numpy as np
import pytest

import tinyvae as tv

torch = pytest.importorskip("torch", reason="PyTorch is an optional oracle: pip install torch")

TORCH_ACTIVATIONS = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "elu": torch.nn.functional.elu,
    "sigmoid": torch.sigmoid,
    "softplus": torch.nn.functional.softplus,
    "leaky_relu": torch.nn.functional.leaky_relu,
}


def torch_mlp(x, weights, activation):
    """weights: list of (W, b) tensors; activation after every layer but the last."""
    for i, (W, b) in enumerate(weights):
        x = x @ W + b
        if i < len(weights) - 1:
            x = TORCH_ACTIVATIONS[activation](x)
    return x


def torch_vae_loss(model, x, eps, tensors):
    """Estimator B written with torch operations; ``tensors`` maps names to leaves."""

    def layers(prefix, mlp):
        linears = [i for i, layer in enumerate(mlp.layers) if isinstance(layer, tv.Linear)]
        return [
            (tensors[f"{prefix}.layers.{i}.W"], tensors[f"{prefix}.layers.{i}.b"]) for i in linears
        ]

    J = model.z_dim
    h = torch_mlp(x, layers("encoder", model.encoder), model.activation)
    mu, logvar = h[:, :J], h[:, J:]
    z = mu + torch.exp(0.5 * logvar) * eps  # (L, B, J)
    out = torch_mlp(z, layers("decoder", model.decoder), model.activation)
    if model.likelihood == "bernoulli":
        log_px = -torch.nn.functional.binary_cross_entropy_with_logits(
            out, x.expand_as(out), reduction="none"
        ).sum(-1)
    else:
        D = model.x_dim
        normal = torch.distributions.Normal(out[..., :D], torch.exp(0.5 * out[..., D:]))
        log_px = normal.log_prob(x).sum(-1)
    kl = -0.5 * torch.sum(1 + logvar - mu**2 - logvar.exp(), dim=-1)
    return -(log_px.mean(0) - kl).mean()


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "softplus"])
def test_vae_loss_and_gradients_match_torch(likelihood, activation):
    rng = np.random.default_rng(0)
    model = tv.VAE(
        x_dim=10,
        hidden=(7, 6),
        z_dim=3,
        activation=activation,
        likelihood=likelihood,
        rng=rng,
        dtype=np.float64,
    )
    x = rng.uniform(size=(8, 10))
    eps = rng.standard_normal((2, 8, 3))

    loss = model.loss(x, eps=eps)
    model.zero_grad()
    model.backward()

    tensors = {
        name: torch.tensor(param, requires_grad=True) for name, param, _ in model.parameters()
    }
    torch_loss = torch_vae_loss(model, torch.tensor(x), torch.tensor(eps), tensors)
    torch_loss.backward()

    assert loss == pytest.approx(torch_loss.item(), rel=1e-12)
    for name, _, grad in model.parameters():
        np.testing.assert_allclose(
            grad, tensors[name].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name
        )


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda p: tv.Adam(p, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
        (
            lambda p: tv.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
            lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
        ),
        (
            lambda p: tv.SGD(p, lr=0.05, momentum=0.9),
            lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
        ),
        (
            lambda p: tv.RMSProp(p, lr=0.01, rho=0.9, eps=1e-6),
            lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-6),
        ),
        (
            lambda p: tv.AdaMax(p, lr=0.002, beta1=0.8, beta2=0.99),
            lambda p: torch.optim.Adamax(p, lr=0.002, betas=(0.8, 0.99)),
        ),
        (
            lambda p: tv.AdaGrad(p, lr=0.1, eps=1e-6),
            lambda p: torch.optim.Adagrad(p, lr=0.1, eps=1e-6),
        ),
    ],
    ids=["adam", "sgd-nesterov", "sgd-momentum", "rmsprop", "adamax", "adagrad"],
)
def test_optimizers_match_torch_optim(ours, theirs):
    """Ten steps on a linear layer with a fresh random upstream gradient each step."""
    rng = np.random.default_rng(1)
    layer = tv.Linear(4, 3, rng=rng, dtype=np.float64)
    W = torch.tensor(layer.params["W"].copy(), requires_grad=True)
    b = torch.tensor(layer.params["b"].copy(), requires_grad=True)
    opt_ours, opt_theirs = ours(layer.parameters()), theirs([W, b])
    for _ in range(10):
        x = rng.normal(size=(6, 4))
        dy = rng.normal(size=(6, 3))
        layer.zero_grad()
        layer.forward(x)
        layer.backward(dy)
        opt_ours.step()
        opt_theirs.zero_grad()
        (torch.tensor(x) @ W + b).backward(torch.tensor(dy))
        opt_theirs.step()
    np.testing.assert_allclose(layer.params["W"], W.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.params["b"], b.detach().numpy(), rtol=1e-12)
