"""The doors of M2, the dropout classifiers and the optimizers: a bad argument, or a model
of another family, is refused by name before anything changes.

As in test_doors.py, each case runs while a loss() waits for its backward(); afterwards
the parameters, gradients, optimizer state, the caller's rng and every cache must be as
before, the pending backward must still run, and no file may have been written.
"""

import numpy as np
import pytest
from helpers import assert_unchanged, world_snapshot

import tinyvae as tv
from tinyvae.evaluation import active_units, gradient_variance, log_likelihood
from tinyvae.objectives import make_objective

N, D, K = 12, 6, 3


class World:
    """A model of one family with a loss() pending, its optimizer, the caller's rng, data."""

    def __init__(self, tmp_path, family):
        self.tmp, self.rng = tmp_path, np.random.default_rng(0)
        data = np.random.default_rng(1)
        self.x = (data.uniform(size=(N, D)) > 0.5).astype(np.float32)
        self.y = np.arange(N) % K
        if family == "vae":
            self.model = tv.VAE(x_dim=D, hidden=(5,), z_dim=2, rng=data)
            self.objective = tv.SGVB_B(self.model)
            labels = None
        elif family == "semi-supervised":
            self.model = tv.M2(x_dim=D, n_classes=K, hidden=(5,), z_dim=2, rng=data)
            self.objective = tv.SemiSupervised(self.model, alpha=1.0)
            labels = np.where(np.arange(N) < 6, self.y, -1)
        else:
            self.model = tv.DropoutMLP(D, (5,), K, "variational_B", rng=data)
            self.objective = tv.VariationalDropout(self.model, n_train=N)
            labels = self.y
        self.labels = labels
        self.opt = tv.Adam(self.model.parameters(), lr=1e-3)
        self.loss(np.random.default_rng(2))
        self.objective.backward()
        self.opt.step()  # state worth protecting
        self.loss(np.random.default_rng(3))  # pending

    def loss(self, rng):
        if self.labels is None:
            return self.objective.loss(self.x, rng=rng)
        return self.objective.loss(self.x, rng=rng, labels=self.labels)


M2_HINT = r"got M2, a semi-supervised model \(tv.M2\); use tv.SemiSupervised\(model, alpha\)"
MLP_HINT = (
    r"got DropoutMLP, a classifier \(tv.DropoutMLP\); use tv.VariationalDropout\(model, n_train\)"
)
VAE_WANTED = r"expected a VAE \(tv.VAE or tv.HierarchicalVAE\), "

# (family, what is tried, the call, the exception, what the message must say)
CASES = []
for optimizer in (tv.Adam, tv.AdaMax, tv.SGD, tv.AdaGrad, tv.RMSProp):
    name = optimizer.__name__
    CASES += [
        ("vae", f"{name}(model)", lambda w, o=optimizer: o(w.model), TypeError,
         r"parameters: expected model.parameters\(\), .* got the VAE itself"),
        ("vae", f"{name}(objective)", lambda w, o=optimizer: o(w.objective), TypeError,
         r"got the SGVB_B itself; pass its .parameters\(\)"),
        ("vae", f"{name}(model.parameters)", lambda w, o=optimizer: o(w.model.parameters),
         TypeError, r"got the function Module.parameters without its call"),
    ]  # fmt: skip
CASES += [
    ("vae", "SemiSupervised(VAE)", lambda w: tv.SemiSupervised(w.model, alpha=1.0), TypeError,
     r"SemiSupervised: expected a semi-supervised model \(tv.M2\), got VAE, a VAE .* use an "
     r"ELBO estimator"),
    ("vae", "VariationalDropout(VAE)", lambda w: tv.VariationalDropout(w.model, n_train=N),
     TypeError, r"VariationalDropout: expected a classifier \(tv.DropoutMLP\), got VAE"),
    ("vae", "paper_alpha swapped", lambda w: tv.paper_alpha(100, 60_000), ValueError,
     r"n_labelled: expected at most n_train=100 .* got 60000; the order is "
     r"paper_alpha\(n_train, n_labelled\)"),
]  # fmt: skip
for family, hint in (("semi-supervised", M2_HINT), ("classifier", MLP_HINT)):
    CASES += [
        (family, "SGVB_A", lambda w: tv.SGVB_A(w.model), TypeError, "SGVB_A: " + VAE_WANTED + hint),
        (family, "SGVB_B", lambda w: tv.SGVB_B(w.model), TypeError, "SGVB_B: " + VAE_WANTED + hint),
        (family, "IWAE", lambda w: tv.IWAE(w.model, 2), TypeError, "IWAE: " + VAE_WANTED + hint),
        (family, "ScoreFunction", lambda w: tv.ScoreFunction(w.model, 2), TypeError,
         "ScoreFunction: " + VAE_WANTED + hint),
        (family, "WakeSleep", lambda w: tv.WakeSleep(w.model), TypeError,
         "WakeSleep: " + VAE_WANTED + hint),
        (family, "make_objective", lambda w: make_objective(w.model, "iwae", 2), TypeError,
         "IWAE: " + VAE_WANTED + hint),
        (family, "log_likelihood", lambda w: log_likelihood(w.model, w.x, k=2, rng=w.rng),
         TypeError, "log_likelihood: " + VAE_WANTED + hint),
        (family, "active_units", lambda w: active_units(w.model, w.x), TypeError,
         "active_units: " + VAE_WANTED + hint),
        (family, "gradient_variance", lambda w: gradient_variance(w.model, w.x, "A", 2, w.rng),
         TypeError, "gradient_variance: " + VAE_WANTED + hint),
        (family, "fit(model)", lambda w: tv.fit(w.model, w.opt, w.x, epochs=1, rng=w.rng),
         TypeError, "fit: " + VAE_WANTED + hint),
    ]  # fmt: skip


def vd_loss(w, eps):
    return w.objective.loss(w.x, labels=w.y, eps=eps)


def noise(w, *shapes, dtype=np.float32, fill=0.0):
    return [np.full(shape, fill, dtype) for shape in shapes]


CASES += [
    ("classifier", "eps one array", lambda w: vd_loss(w, np.zeros((N, D), np.float32)),
     ValueError, r"eps: expected a list of 2 noise arrays, one per layer .* got ndarray"),
    ("classifier", "eps three arrays", lambda w: vd_loss(w, noise(w, (N, 5), (N, K), (N, K))),
     ValueError, r"eps: expected a list of 2 noise arrays, .* got list of 3"),
    ("classifier", "eps wrong shape", lambda w: vd_loss(w, noise(w, (N - 1, 5), (N, K))),
     ValueError, rf"eps\[0\]: expected shape \({N}, 5\), got \({N - 1}, 5\)"),
    ("classifier", "eps float64", lambda w: vd_loss(w, noise(w, (N, 5), (N, K), dtype=float)),
     TypeError, r"eps\[0\]: expected dtype float32"),
    ("classifier", "eps NaN", lambda w: vd_loss(w, noise(w, (N, 5), (N, K), fill=np.nan)),
     ValueError, r"eps\[0\]: contains NaN"),
    ("classifier", "bound eps NaN",
     lambda w: w.objective.bound(w.x, labels=w.y, eps=noise(w, (N, 5), (N, K), fill=np.nan)),
     ValueError, r"eps\[0\]: contains NaN"),
    ("classifier", "bound without labels", lambda w: w.objective.bound(w.x, rng=w.rng),
     ValueError, r"labels: VariationalDropout.bound of a classifier needs the label"),
]  # fmt: skip
for method in ("error", "log_likelihood"):
    CASES += [
        ("classifier", f"{method} y short", lambda w, m=method: getattr(w.model, m)(w.x, w.y[1:]),
         ValueError, rf"y: expected shape \({N},\), one per row, got \({N - 1},\)"),
        ("classifier", f"{method} y -1", lambda w, m=method: getattr(w.model, m)(w.x, w.y - 1),
         ValueError, rf"y: expected integers 0..{K - 1}, got values from -1 to {K - 2}"),
        ("classifier", f"{method} y = K", lambda w, m=method: getattr(w.model, m)(w.x, w.y + 1),
         ValueError, rf"y: expected integers 0..{K - 1}, got values from 1 to {K}"),
        ("classifier", f"{method} y float", lambda w, m=method: getattr(w.model, m)(w.x, w.y * 1.0),
         TypeError, r"y: expected integers 0..2, got dtype float64"),
    ]  # fmt: skip
for method in ("predict", "error", "log_likelihood"):
    for batch_size, error in ((0, ValueError), (-1, ValueError), (2.5, TypeError)):
        CASES.append(
            ("classifier", f"{method} batch_size={batch_size}",
             lambda w, m=method, b=batch_size: getattr(w.model, m)(
                 *((w.x,) if m == "predict" else (w.x, w.y)), batch_size=b),
             error, rf"batch_size: expected an integer >= 1, got {batch_size}")
        )  # fmt: skip


@pytest.mark.parametrize(
    "family, label, call, error, message", CASES, ids=[f"{c[0]}: {c[1]}" for c in CASES]
)
def test_refused_by_name_and_nothing_changes(tmp_path, family, label, call, error, message):
    world = World(tmp_path, family)
    before = world_snapshot(world)
    with pytest.raises(error, match=message):
        call(world)
    assert_unchanged(before, world)
