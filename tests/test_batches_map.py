"""tv.Batches (the training data as fit visits it) and tv.MAP (AEVB's J around an objective)."""

import numpy as np
import pytest

import tinyvae as tv
from tinyvae.gradcheck import numerical_gradient


def small_vae(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    model = tv.VAE(6, (5,), 2, activation="tanh", rng=rng)
    model.astype(dtype)
    x = (rng.uniform(size=(7, 6)) > 0.5).astype(dtype)
    return model, x, rng


def test_batches_cover_every_row_once_per_epoch_and_binarize_afresh():
    x = np.linspace(0.05, 0.95, 10 * 3).reshape(10, 3)
    data = tv.Batches(x, batch_size=4, binarize=True)
    rng = np.random.default_rng(0)
    first = list(data.epoch(rng))
    assert [len(b["x"]) for b in first] == [4, 4, 2]
    assert all(set(np.unique(b["x"])) <= {0.0, 1.0} for b in first)
    second = np.concatenate([b["x"] for b in data.epoch(rng)])
    assert not np.array_equal(np.concatenate([b["x"] for b in first]), second)
    assert data.steps(10) == 3 and tv.Batches(x, batch_size=4, drop_last=True).steps(10) == 2


def test_batches_keep_labels_with_their_rows():
    x = np.arange(12.0).reshape(6, 2)
    y = np.arange(6)
    for batch in tv.Batches(x, y, batch_size=4).epoch(np.random.default_rng(1)):
        np.testing.assert_array_equal(batch["x"][:, 0], 2.0 * batch["labels"])


def test_batches_record_what_shapes_a_run():
    x = np.zeros((5, 2))
    assert tv.Batches(x, batch_size=3).settings() == {"batch_size": 3, "binarize": False}
    assert tv.Batches(x, drop_last=True).settings()["drop_last"] is True
    assert "5 rows" in repr(tv.Batches(x))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"binarize": "yes"}, "binarize"),
        ({"drop_last": 1}, "drop_last"),
    ],
)
def test_batches_refuse_bad_settings(kwargs, message):
    with pytest.raises((TypeError, ValueError), match=message):
        tv.Batches(np.zeros((4, 2)), **kwargs)


def test_map_gradient_is_n_times_the_bound_plus_theta():
    """d(-J)/dtheta = N d(loss)/dtheta + theta (AEVB section 5), against finite differences."""
    model, x, rng = small_vae()
    n_data = 1000
    objective = tv.MAP(tv.SGVB_B(model), n_data=n_data)
    eps = rng.standard_normal((1, len(x), 2))

    def minus_j():
        penalty = sum(0.5 * np.vdot(p, p) for _, p, _ in model.parameters())
        return n_data * tv.SGVB_B(model).loss(x, eps=eps) + penalty

    loss = objective.loss(x, eps=eps)
    assert loss == pytest.approx(tv.SGVB_B(model).loss(x, eps=eps))  # the bound, reported
    objective.loss(x, eps=eps)
    model.zero_grad()
    objective.backward()
    for name, param, grad in model.parameters():
        numeric = numerical_gradient(minus_j, param, (np.ones(()),))
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6, err_msg=name)


def test_map_delegates_batches_and_records_its_settings():
    model, x, _ = small_vae(np.float32)
    objective = tv.MAP(tv.IWAE(model, 3), n_data=len(x))
    settings = objective.training_settings(tv.Batches(x, batch_size=2))
    assert settings["scale_to_dataset"] is True and settings["weight_prior"] is True
    assert settings["n_samples"] == 3 and settings["estimator"] == "iwae"
    assert objective.model is model
    assert "MAP(IWAE" in repr(objective)


def test_map_refuses_a_model_and_a_bad_n_data():
    model, _, _ = small_vae()
    with pytest.raises(TypeError, match="objective: expected a tinyvae objective"):
        tv.MAP(model, n_data=10)
    with pytest.raises(ValueError, match="n_data"):
        tv.MAP(tv.SGVB_B(model), n_data=0)


def test_fit_with_map_and_batches_trains_and_resumes_bit_for_bit(tmp_path):
    def run(epochs, resume):
        model, _, _ = small_vae(np.float32, seed=3)
        x = np.random.default_rng(4).uniform(size=(40, 6)).astype(np.float32)
        objective = tv.MAP(tv.SGVB_B(model), n_data=len(x))
        optimizer = tv.AdaGrad(model.parameters(), lr=0.01)
        data = tv.Batches(x, batch_size=8, binarize=True)
        rng = np.random.default_rng(5)
        path = tmp_path / ("resumed.npz" if resume is not None else f"straight{epochs}.npz")
        if resume is not None:
            tv.fit(objective, optimizer, data, epochs=1, rng=rng, checkpoint=path, progress=False)
            model, _, _ = small_vae(np.float32, seed=3)
            objective = tv.MAP(tv.SGVB_B(model), n_data=len(x))
            optimizer = tv.AdaGrad(model.parameters(), lr=0.01)
            rng = np.random.default_rng(99)  # restored from the checkpoint
        history = tv.fit(
            objective,
            optimizer,
            data,
            epochs=epochs,
            rng=rng,
            checkpoint=path,
            resume=resume is not None,
            progress=False,
        )
        return history, [p.copy() for _, p, _ in model.parameters()]

    straight, params = run(2, None)
    resumed, params_resumed = run(2, True)
    assert straight.train_loss == resumed.train_loss
    for a, b in zip(params, params_resumed):
        np.testing.assert_array_equal(a, b)


def test_a_resume_with_other_batches_is_refused(tmp_path):
    model, _, _ = small_vae(np.float32)
    x = np.random.default_rng(0).uniform(size=(20, 6)).astype(np.float32)
    path = tmp_path / "run.npz"
    optimizer = tv.Adam(model.parameters())
    tv.fit(model, optimizer, tv.Batches(x, batch_size=5), epochs=1, rng=np.random.default_rng(0),
           checkpoint=path, progress=False)  # fmt: skip
    with pytest.raises(tv.CheckpointError, match="batch_size: 5 in the checkpoint, 4 asked"):
        tv.fit(model, optimizer, tv.Batches(x, batch_size=4), epochs=2,
               rng=np.random.default_rng(0), checkpoint=path, resume=True,
               progress=False)  # fmt: skip


@pytest.mark.parametrize("progress", ["bars", None, 1])
def test_fit_refuses_a_progress_it_does_not_know(progress):
    model, x, _ = small_vae(np.float32)
    with pytest.raises(ValueError, match="progress: expected True, 'epochs' or False"):
        tv.fit(model, tv.Adam(model.parameters()), x.astype(np.float32), epochs=1,
               rng=np.random.default_rng(0), progress=progress)  # fmt: skip


def test_progress_epochs_prints_one_line_per_epoch_and_false_nothing(capsys):
    model, _, _ = small_vae(np.float32)
    x = np.random.default_rng(0).uniform(size=(20, 6)).astype(np.float32)
    for progress, lines in (("epochs", 2), (False, 0)):
        tv.fit(model, tv.Adam(model.parameters()), x, epochs=2, rng=np.random.default_rng(0),
               progress=progress)  # fmt: skip
        out = capsys.readouterr()
        assert (out.out + out.err).count("train loss") == lines


def small_m2():
    """An M2 of 2 classes and 30 rows, 4 of them labelled (2 per class)."""
    rng = np.random.default_rng(0)
    model = tv.M2(4, n_classes=2, hidden=(3,), z_dim=2, rng=rng)
    x = rng.uniform(size=(30, 4)).astype(np.float32)
    labels = np.full(30, -1)
    labels[:4] = [0, 1, 0, 1]
    return model, x, labels, rng


def test_semi_supervised_batches_mix_labelled_rows_into_every_batch():
    model, x, labels, rng = small_m2()
    objective = tv.SemiSupervised(model, alpha=1.0, labelled_batch_size=3)
    data = objective.check_training(tv.Batches(x, labels, batch_size=10))
    batches = list(objective.batches(data, rng))
    assert objective.steps_per_epoch(data) == len(batches) == 3  # 26 unlabelled rows
    assert all((b["labels"] >= 0).sum() == 3 for b in batches)
    settings = objective.training_settings(data)
    assert settings["labelled"] == 4 and settings["labelled_batch_size"] == 3


def test_check_input_support_names_the_data_and_the_range():
    from tinyvae.validation import check_input

    with pytest.raises(ValueError, match=r"x: Bernoulli data must lie in \[0, 1\]; got values"):
        check_input(np.array([[0.5, 1.5]]), "x", support=(0, 1, "Bernoulli data"))
    check_input(np.array([[0.0, 1.0]]), "x", support=(0, 1, "Bernoulli data"))


def test_the_0_2_labelled_batch_size_reaches_the_objective_inside_map():
    model, x, labels, rng = small_m2()
    semi = tv.SemiSupervised(model, alpha=1.0)
    with pytest.warns(DeprecationWarning):
        tv.fit(tv.MAP(semi, n_data=30), tv.Adam(model.parameters()), x, epochs=1, rng=rng,
               labels=labels, labelled_batch_size=3, batch_size=10, progress=False)  # fmt: skip
    assert semi.labelled_batch_size == 3
    vae, _, _ = small_vae(np.float32)
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="labelled_batch_size"):
        tv.fit(vae, tv.Adam(vae.parameters()), x[:, :4].repeat(2, axis=1)[:, :6], epochs=1,
               rng=rng, labelled_batch_size=3)  # fmt: skip
