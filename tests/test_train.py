"""Training end to end, checkpoints, exact resumption and divergence handling."""

import json

import numpy as np
import pytest

import tinyvae as tv
from tinyvae.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from tinyvae.train import TrainingDiverged, evaluate, fit


def prototype_data(n, seed, D=32, n_prototypes=6, flip=0.05):
    """Binary vectors: random prototypes with a few bits flipped, a learnable toy."""
    rng = np.random.default_rng(seed)
    prototypes = np.random.default_rng(1234).uniform(size=(n_prototypes, D)) > 0.5
    x = prototypes[rng.integers(n_prototypes, size=n)]
    x ^= rng.uniform(size=x.shape) < flip
    return x.astype(np.float32)


def make(seed=0):
    rng = np.random.default_rng(seed)
    model = tv.VAE(x_dim=32, hidden=(24,), z_dim=2, rng=rng)
    return model, tv.Adam(model.parameters(), lr=3e-3), rng


def test_training_improves_the_test_elbo_by_a_clear_margin():
    x_train, x_test = prototype_data(1200, seed=0), prototype_data(300, seed=1)
    model, opt, rng = make()
    before = evaluate(model, x_test, rng)
    history = fit(model, opt, x_train, x_test, epochs=12, batch_size=50, rng=rng,
                  progress=False, verbose=False)
    after = history.test_loss[-1]
    # An untrained model costs more than log 2 per bit (22 nats); the six prototypes
    # with 5 % flipped bits can be coded in about 2 + 32 * H(0.05) = 11 nats.
    assert before > 20
    assert after < 15
    assert history.epoch == list(range(1, 13))
    assert history.train_loss[-1] < history.train_loss[0]


def test_a_resumed_run_equals_an_uninterrupted_one_bit_for_bit(tmp_path):
    x_train, x_test = prototype_data(300, seed=0), prototype_data(100, seed=1)

    model, opt, rng = make(seed=7)
    straight = fit(model, opt, x_train, x_test, epochs=4, batch_size=32, rng=rng,
                   binarize=True, progress=False, verbose=False)
    expected = model.state_dict()

    path = tmp_path / "run.npz"
    model, opt, rng = make(seed=7)
    fit(model, opt, x_train, x_test, epochs=2, batch_size=32, rng=rng, binarize=True,
        checkpoint=path, progress=False, verbose=False)
    model, opt, rng = make(seed=999)      # a fresh process: other weights, other seed
    resumed = fit(model, opt, x_train, x_test, epochs=4, batch_size=32, rng=rng,
                  binarize=True, checkpoint=path, resume=True, progress=False, verbose=False)

    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, expected[name], err_msg=name)
    assert resumed.train_loss == straight.train_loss
    assert resumed.test_loss == straight.test_loss
    assert opt.t == 4 * int(np.ceil(300 / 32))


@pytest.mark.filterwarnings("ignore:.*encountered:RuntimeWarning")
def test_divergence_stops_with_a_clear_message_and_keeps_the_last_checkpoint(tmp_path):
    x_train = prototype_data(200, seed=0)
    model, _, rng = make()
    path = tmp_path / "run.npz"
    fit(model, tv.SGD(model.parameters(), lr=1e-3), x_train, epochs=1, batch_size=50,
        rng=rng, checkpoint=path, progress=False, verbose=False)
    good = path.read_bytes()
    explosive = tv.SGD(model.parameters(), lr=1e9)
    with pytest.raises(TrainingDiverged, match="learning rate") as info:
        fit(model, explosive, x_train, epochs=5, batch_size=50, rng=rng, checkpoint=path,
            resume=False, progress=False, verbose=False)
    assert str(path) in str(info.value)
    assert path.read_bytes() == good


def test_checkpoint_from_another_architecture_is_rejected(tmp_path):
    model, opt, rng = make()
    path = tmp_path / "a.npz"
    save_checkpoint(path, model, opt, rng, epoch=1)
    other = tv.VAE(x_dim=32, hidden=(16,), z_dim=2, rng=np.random.default_rng(0))
    before = other.state_dict()
    with pytest.raises(CheckpointError, match=r"'hidden': \[24\]"):
        load_checkpoint(path, other, tv.Adam(other.parameters()))
    for name, value in other.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_checkpoint_with_wrong_optimizer_changes_nothing(tmp_path):
    model, opt, rng = make()
    path = tmp_path / "a.npz"
    save_checkpoint(path, model, opt, rng, epoch=1)
    fresh, _, _ = make(seed=3)
    before = fresh.state_dict()
    with pytest.raises(CheckpointError, match="Adam optimizer state, expected SGD"):
        load_checkpoint(path, fresh, tv.SGD(fresh.parameters()))
    for name, value in fresh.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_corrupt_checkpoint_is_rejected(tmp_path):
    model, opt, rng = make()
    path = tmp_path / "a.npz"
    save_checkpoint(path, model, opt, rng, epoch=1)
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(CheckpointError, match="not a readable tinyvae checkpoint"):
        load_checkpoint(path, model)


def test_checkpoints_hold_no_pickles_and_round_trip(tmp_path):
    model, opt, rng = make()
    path = tmp_path / "a.npz"
    save_checkpoint(path, model, opt, rng, epoch=3, note="hello")
    with np.load(path, allow_pickle=False) as data:          # would raise on an object array
        assert json.loads(str(data["metadata"]))["epoch"] == 3
    copy, copy_opt, copy_rng = make(seed=5)
    metadata = load_checkpoint(path, copy, copy_opt, copy_rng)
    assert metadata["note"] == "hello"
    assert copy_rng.random() == rng.random()
    for name, value in copy.state_dict().items():
        np.testing.assert_array_equal(value, model.state_dict()[name])
    assert [p.name for p in tmp_path.iterdir()] == ["a.npz"]   # no temporary left behind


def test_resuming_with_other_settings_is_refused(tmp_path):
    x_train = prototype_data(100, seed=0)
    path = tmp_path / "run.npz"
    model, opt, rng = make()
    fit(model, opt, x_train, epochs=1, batch_size=32, rng=rng, checkpoint=path,
        progress=False, verbose=False)
    model, opt, rng = make()
    with pytest.raises(CheckpointError, match="'batch_size': 32"):
        fit(model, opt, x_train, epochs=2, batch_size=64, rng=rng, checkpoint=path,
            resume=True, progress=False, verbose=False)


def test_bad_test_data_is_rejected_before_training(tmp_path):
    model, opt, rng = make()
    before = model.state_dict()
    with pytest.raises(ValueError, match="NaN"):
        fit(model, opt, prototype_data(100, seed=0), np.full((5, 32), np.nan, np.float32),
            epochs=1, rng=rng, progress=False, verbose=False)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


@pytest.mark.parametrize("corrupt", [
    lambda arrays: arrays.update({"optimizer/t": np.array([1, 2])}),
    lambda arrays: arrays.update({"optimizer/t": np.array("abc")}),
    lambda arrays: arrays.update({"rng_state": np.array(json.dumps(
        {"bit_generator": "PCG64", "state": {"state": 1}}))}),
])
def test_a_partly_bad_checkpoint_changes_nothing(tmp_path, corrupt):
    model, opt, rng = make()
    path = tmp_path / "a.npz"
    save_checkpoint(path, model, opt, rng, epoch=1)
    with np.load(path) as data:
        arrays = dict(data)
    corrupt(arrays)
    np.savez(path, **arrays)
    fresh, fresh_opt, fresh_rng = make(seed=3)
    before, rng_before = fresh.state_dict(), fresh_rng.bit_generator.state
    with pytest.raises(CheckpointError):
        load_checkpoint(path, fresh, fresh_opt, fresh_rng)
    for name, value in fresh.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    assert fresh_rng.bit_generator.state == rng_before and fresh_opt.t == 0
