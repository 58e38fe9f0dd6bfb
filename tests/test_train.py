"""tinyvae.train: training end to end, exact resumption and divergence handling.

The toy data and model (``helpers.prototype_data``, ``helpers.make_vae_adam``)
are shared with tests/test_checkpoint.py and tests/objectives/test_wake_sleep.py.
"""

import math

import numpy as np
import pytest
from helpers import make_vae_adam, prototype_data

import tinyvae as tv
from tinyvae.checkpoint import CheckpointError
from tinyvae.train import TrainingDiverged, evaluate, fit


def test_training_improves_the_test_elbo_by_a_clear_margin():
    x_train, x_test = prototype_data(1200, seed=0), prototype_data(300, seed=1)
    model, opt, rng = make_vae_adam()
    before = evaluate(model, x_test, rng)
    history = fit(
        model, opt, tv.Batches(x_train, batch_size=50), x_test, epochs=12, rng=rng, progress=False
    )
    after = history.test_loss[-1]
    # An untrained model costs more than log 2 per bit (22 nats); the six prototypes
    # with 5 % flipped bits can be coded in about 2 + 32 * H(0.05) = 11 nats.
    assert before > 20
    assert after < 15
    assert history.epoch == list(range(1, 13))
    assert history.train_loss[-1] < history.train_loss[0]


def test_a_resumed_run_equals_an_uninterrupted_one_bit_for_bit(tmp_path):
    x_train, x_test = prototype_data(300, seed=0), prototype_data(100, seed=1)

    data = tv.Batches(x_train, batch_size=32, binarize=True)
    model, opt, rng = make_vae_adam(seed=7)
    straight = fit(model, opt, data, x_test, epochs=4, rng=rng, progress=False)
    expected = model.state_dict()

    path = tmp_path / "run.npz"
    model, opt, rng = make_vae_adam(seed=7)
    fit(model, opt, data, x_test, epochs=2, rng=rng, checkpoint=path, progress=False)
    model, opt, rng = make_vae_adam(seed=999)  # a fresh process: other weights, other seed
    resumed = fit(
        model, opt, data, x_test, epochs=4, rng=rng, checkpoint=path, resume=True, progress=False
    )

    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, expected[name], err_msg=name)
    assert resumed.train_loss == straight.train_loss
    assert resumed.test_loss == straight.test_loss
    assert opt.t == 4 * int(np.ceil(300 / 32))


@pytest.mark.filterwarnings("ignore:.*encountered:RuntimeWarning")
def test_divergence_stops_with_a_clear_message_and_keeps_the_last_checkpoint(tmp_path):
    x_train = tv.Batches(prototype_data(200, seed=0), batch_size=50)
    model, _, rng = make_vae_adam()
    path = tmp_path / "run.npz"
    fit(
        model,
        tv.SGD(model.parameters(), lr=1e-3),
        x_train,
        epochs=1,
        rng=rng,
        checkpoint=path,
        progress=False,
    )
    good = path.read_bytes()
    explosive = tv.SGD(model.parameters(), lr=1e9)
    with pytest.raises(TrainingDiverged, match="learning rate") as info:
        fit(
            model,
            explosive,
            x_train,
            epochs=5,
            rng=rng,
            checkpoint=path,
            resume=False,
            progress=False,
        )
    assert str(path) in str(info.value)
    assert path.read_bytes() == good


def test_resuming_with_other_settings_is_refused(tmp_path):
    x_train = prototype_data(100, seed=0)
    path = tmp_path / "run.npz"
    model, opt, rng = make_vae_adam()
    fit(
        model,
        opt,
        tv.Batches(x_train, batch_size=32),
        epochs=1,
        rng=rng,
        checkpoint=path,
        progress=False,
    )
    model, opt, rng = make_vae_adam()
    with pytest.raises(CheckpointError, match="batch_size: 32 in the checkpoint, 64 asked"):
        fit(
            model,
            opt,
            tv.Batches(x_train, batch_size=64),
            epochs=2,
            rng=rng,
            checkpoint=path,
            resume=True,
            progress=False,
        )


def test_bad_test_data_is_rejected_before_training(tmp_path):
    model, opt, rng = make_vae_adam()
    before = model.state_dict()
    with pytest.raises(ValueError, match="NaN"):
        fit(
            model,
            opt,
            prototype_data(100, seed=0),
            np.full((5, 32), np.nan, np.float32),
            epochs=1,
            rng=rng,
            progress=False,
        )
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_aevb_setup_trains(tmp_path):
    """Estimator A, N/M scaling, weight prior and AdaGrad together improve the bound."""
    rng = np.random.default_rng(9)
    prototypes = rng.uniform(size=(4, 16)) > 0.5
    x = prototypes[rng.integers(4, size=400)].astype(np.float32)
    model = tv.VAE(x_dim=16, hidden=(20,), z_dim=2, activation="tanh", init="aevb_normal", rng=rng)
    before = -model.elbo(x, rng=rng).mean()
    history = tv.fit(
        tv.MAP(tv.SGVB_A(model), n_data=len(x)),
        tv.AdaGrad(model.parameters(), lr=0.1),
        tv.Batches(x, batch_size=50),
        x,
        epochs=20,
        rng=rng,
        progress=False,
    )
    # 16 bits from 4 prototypes: about 11 nats at the start, log 4 = 1.4 at best
    assert before > 10 and history.test_loss[-1] < 5


def test_a_decaying_step_size_resumes_bit_for_bit(tmp_path):
    """lr / sqrt(t) follows from the saved step count: nothing to restore but t."""
    x_train = prototype_data(200, seed=0)

    def train(epochs, checkpoint=None, resume=False, seed=7):
        model, _, rng = make_vae_adam(seed=seed)
        opt = tv.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True,
                     lr_decay="inverse_sqrt")  # fmt: skip
        fit(model, opt, tv.Batches(x_train, batch_size=32), epochs=epochs, rng=rng,
            checkpoint=checkpoint, resume=resume, progress=False)  # fmt: skip
        return model.state_dict(), opt

    straight, opt = train(2)
    assert opt.current_lr() == pytest.approx(0.05 / math.sqrt(opt.t))
    path = tmp_path / "run.npz"
    train(1, checkpoint=path)
    resumed, _ = train(2, checkpoint=path, resume=True, seed=99)
    for name, value in straight.items():
        np.testing.assert_array_equal(resumed[name], value, err_msg=name)


@pytest.mark.parametrize(
    "other",
    [
        lambda p: tv.SGD(p, lr=0.05, momentum=0.9),
        lambda p: tv.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
        lambda p: tv.RMSProp(p, lr=0.05),
    ],
    ids=["heavy-ball", "constant-lr", "rmsprop"],
)
def test_resuming_under_another_optimizer_setting_is_refused(tmp_path, other):
    x_train = prototype_data(100, seed=0)
    path = tmp_path / "run.npz"
    model, _, rng = make_vae_adam()
    opt = tv.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True,
                 lr_decay="inverse_sqrt")  # fmt: skip
    data = tv.Batches(x_train, batch_size=32)
    fit(model, opt, data, epochs=1, rng=rng, checkpoint=path, progress=False)
    model, _, rng = make_vae_adam()
    with pytest.raises(CheckpointError):
        fit(model, other(model.parameters()), data, epochs=2, rng=rng, checkpoint=path,
            resume=True, progress=False)  # fmt: skip


def test_without_x_test_fit_records_no_test_loss():
    rng = np.random.default_rng(0)
    model = tv.VAE(x_dim=6, hidden=(4,), z_dim=2, rng=rng)
    x = (rng.uniform(size=(20, 6)) > 0.5).astype(np.float32)
    history = tv.fit(model, tv.Adam(model.parameters()), x, epochs=2, rng=rng, progress=False)
    assert history.test_loss == [] and len(history.train_loss) == 2


def test_the_0_2_keywords_still_work_warn_and_equal_the_new_form_bit_for_bit(tmp_path):
    """fit's 0.2 keywords translate into tv.Batches, the objective and tv.MAP exactly."""
    x_train, x_test = prototype_data(90, seed=0), prototype_data(30, seed=1)
    path = tmp_path / "old.npz"

    model, _, rng = make_vae_adam(seed=3)
    opt = tv.Adam(model.parameters(), lr=1e-4)
    with pytest.warns(DeprecationWarning, match=r"tinyvae 0\.2's.*tv\.Batches"):
        old = fit(model, opt, x_train, x_test, epochs=2, rng=rng, batch_size=40, binarize=True,
                  estimator="iwae", n_samples=2, scale_to_dataset=True, weight_prior=True,
                  checkpoint=path, progress=False, verbose=False)  # fmt: skip
    old_state = model.state_dict()

    model, _, rng = make_vae_adam(seed=3)
    opt = tv.Adam(model.parameters(), lr=1e-4)
    new = fit(
        tv.MAP(tv.IWAE(model, 2), n_data=len(x_train)),
        opt,
        tv.Batches(x_train, batch_size=40, binarize=True),
        x_test,
        epochs=2,
        rng=rng,
        progress=False,
    )

    assert new.epoch == old.epoch == [1, 2]
    assert new.train_loss == old.train_loss
    assert new.test_loss == old.test_loss
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, old_state[name], err_msg=name)
    assert opt.t == 2 * 3  # 90 rows in batches of 40, the last one smaller

    # and the old run's checkpoint records the new form's settings: it resumes under it
    model, _, rng = make_vae_adam(seed=4)
    resumed = fit(
        tv.MAP(tv.make_objective(model, "iwae", 2), n_data=len(x_train)),
        tv.Adam(model.parameters(), lr=1e-4),
        tv.Batches(x_train, batch_size=40, binarize=True),
        x_test,
        epochs=2,
        rng=rng,
        checkpoint=path,
        resume=True,
        progress=False,
    )
    assert resumed.train_loss == old.train_loss
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, old_state[name], err_msg=name)
