"""fit on tv.Batches(x, labels): M2 trained on batches mixing labelled and unlabelled rows."""

import numpy as np
import pytest

import tinyvae as tv
from tinyvae.checkpoint import CheckpointError


def clustered(n, seed, D=20):
    """Binary vectors around 10 prototypes, one per class: a toy for M2."""
    rng = np.random.default_rng(seed)
    prototypes = np.random.default_rng(42).random((10, D)) < 0.5
    labels = rng.integers(0, 10, n)
    x = prototypes[labels] ^ (rng.random((n, D)) < 0.05)
    return x.astype(np.float32), labels


def semi_labels(y, per_class=2, seed=0):
    """-1 but for ``per_class`` rows of each class."""
    labels = np.full(len(y), -1)
    rows = tv.data.semi_supervised.labelled_subset(y, 10 * per_class, seed)
    labels[rows] = y[rows]
    return labels


def setup(seed=0, labelled_batch_size=100):
    model = tv.M2(20, hidden=(16,), z_dim=2, rng=np.random.default_rng(seed))
    objective = tv.SemiSupervised(model, alpha=5.0, labelled_batch_size=labelled_batch_size)
    return objective, tv.Adam(objective.parameters(), lr=1e-2)


def test_fit_with_labels_learns_to_classify_from_twenty_labels():
    x, y = clustered(600, seed=1)
    x_test, y_test = clustered(300, seed=2)
    objective, optimizer = setup(labelled_batch_size=10)
    before = objective.error(x_test, y_test)

    def test_error(epoch):
        return {"test_error": objective.error(x_test, y_test)}

    history = tv.fit(
        objective,
        optimizer,
        tv.Batches(x, semi_labels(y), batch_size=50),
        x_test,
        epochs=6,
        rng=np.random.default_rng(3),
        on_epoch=test_error,
        progress=False,
    )
    assert before > 0.5
    assert history.metrics["test_error"][-1] < 0.1
    assert history.test_loss[-1] < history.test_loss[0]  # -U(x) on the test set improves
    assert len(history.metrics["test_error"]) == 6


def test_a_resumed_semi_supervised_run_equals_an_uninterrupted_one(tmp_path):
    x, y = clustered(200, seed=1)
    data = tv.Batches(x, semi_labels(y), batch_size=40)

    def metric(objective):
        return lambda epoch: {"test_error": objective.error(x, y)}

    objective, optimizer = setup(labelled_batch_size=10)
    straight = tv.fit(
        objective,
        optimizer,
        data,
        x,
        epochs=2,
        rng=np.random.default_rng(5),
        on_epoch=metric(objective),
        progress=False,
    )
    path = tmp_path / "m2.npz"
    objective, optimizer = setup(labelled_batch_size=10)
    tv.fit(
        objective,
        optimizer,
        data,
        x,
        epochs=1,
        rng=np.random.default_rng(5),
        checkpoint=path,
        on_epoch=metric(objective),
        progress=False,
    )
    # other weights: the checkpoint must restore them
    objective, optimizer = setup(seed=9, labelled_batch_size=10)
    resumed = tv.fit(
        objective,
        optimizer,
        data,
        x,
        epochs=2,
        rng=np.random.default_rng(0),
        checkpoint=path,
        resume=True,
        on_epoch=metric(objective),
        progress=False,
    )
    assert resumed.train_loss == straight.train_loss
    assert resumed.metrics == straight.metrics
    objective, optimizer = setup(labelled_batch_size=10)
    with pytest.raises(CheckpointError, match="labelled: 20 in the checkpoint, 30 asked"):
        tv.fit(
            objective,
            optimizer,
            tv.Batches(x, semi_labels(y, 3), batch_size=40),
            x,
            epochs=3,
            rng=np.random.default_rng(0),
            checkpoint=path,
            resume=True,
            progress=False,
        )
    objective, optimizer = setup()  # labelled batches of 100: another run
    with pytest.raises(CheckpointError, match="labelled_batch_size: 10 in the checkpoint, 100"):
        tv.fit(objective, optimizer, data, x, epochs=3, rng=np.random.default_rng(0),
               checkpoint=path, resume=True, progress=False)  # fmt: skip


def test_fit_refuses_bad_labels_before_training():
    x, y = clustered(100, seed=1)
    objective, optimizer = setup()
    before = [param.copy() for _, param, _ in objective.parameters()]
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    no_nines = np.where(y == 9, -1, semi_labels(y))
    cases = [
        (no_nines, ValueError, "no example of class 9"),
        (semi_labels(y)[:50], ValueError, r"labels: expected shape \(100,\)"),
        (np.where(y == 3, 12, -1), ValueError, "labels: expected integers 0..9, or -1"),
    ]
    for labels, error, message in cases:
        with pytest.raises(error, match=message):
            tv.fit(objective, optimizer, tv.Batches(x, labels), epochs=1, rng=rng, progress=False)
    with pytest.raises(ValueError, match="labels: SGVB_B trains without labels"):
        vae = tv.VAE(20, hidden=(8,), z_dim=2, rng=np.random.default_rng(1))
        tv.fit(vae, tv.Adam(vae.parameters()), tv.Batches(x, semi_labels(y)), epochs=1, rng=rng)
    with pytest.raises(TypeError, match="on_epoch: expected a function"):
        tv.fit(objective, optimizer, x, epochs=1, rng=rng, on_epoch=3)
    assert all(np.array_equal(a, p) for a, (_, p, _) in zip(before, objective.parameters()))
    assert rng.bit_generator.state == state


def test_fit_trains_an_m2_of_three_classes():
    rng = np.random.default_rng(0)
    model = tv.M2(x_dim=6, n_classes=3, hidden=(4,), z_dim=2, rng=rng)
    x = (rng.uniform(size=(30, 6)) > 0.5).astype(np.float32)
    labels = np.full(30, -1)
    labels[:6] = [0, 1, 2, 0, 1, 2]
    objective = tv.SemiSupervised(model, alpha=1.0, labelled_batch_size=3)
    history = tv.fit(objective, tv.Adam(objective.parameters()),
                     tv.Batches(x, labels, batch_size=10), epochs=2, rng=rng,
                     progress=False)  # fmt: skip
    assert len(history.train_loss) == 2 and np.isfinite(history.train_loss).all()
    labels[labels == 2] = 1  # no example of class 2 left
    with pytest.raises(ValueError, match="labelled set has no example of class 2"):
        tv.fit(objective, tv.Adam(objective.parameters()), tv.Batches(x, labels), epochs=1,
               rng=rng, progress=False)  # fmt: skip
