"""tinyvae.checkpoint: checkpoints round-trip without pickles, and bad ones change nothing."""

import json

import numpy as np
import pytest
from helpers import make_vae_adam

import tinyvae as tv
from tinyvae.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


def test_checkpoint_from_another_architecture_is_rejected(tmp_path):
    model, opt, rng = make_vae_adam()
    path = tmp_path / "a.npz"
    save_checkpoint(path, model, opt, rng, epoch=1)
    other = tv.VAE(x_dim=32, hidden=(16,), z_dim=2, rng=np.random.default_rng(0))
    before = other.state_dict()
    with pytest.raises(CheckpointError, match=r"'hidden': \[24\]"):
        load_checkpoint(path, other, tv.Adam(other.parameters()))
    for name, value in other.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_checkpoint_with_wrong_optimizer_changes_nothing(tmp_path):
    model, opt, rng = make_vae_adam()
    path = tmp_path / "a.npz"
    save_checkpoint(path, model, opt, rng, epoch=1)
    fresh, _, _ = make_vae_adam(seed=3)
    before = fresh.state_dict()
    with pytest.raises(CheckpointError, match="Adam optimizer state, expected SGD"):
        load_checkpoint(path, fresh, tv.SGD(fresh.parameters()))
    for name, value in fresh.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_corrupt_checkpoint_is_rejected(tmp_path):
    model, opt, rng = make_vae_adam()
    path = tmp_path / "a.npz"
    save_checkpoint(path, model, opt, rng, epoch=1)
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(CheckpointError, match="not a readable tinyvae checkpoint"):
        load_checkpoint(path, model)


def test_checkpoints_hold_no_pickles_and_round_trip(tmp_path):
    model, opt, rng = make_vae_adam()
    path = tmp_path / "a.npz"
    save_checkpoint(path, model, opt, rng, epoch=3, note="hello")
    with np.load(path, allow_pickle=False) as data:  # would raise on an object array
        assert json.loads(str(data["metadata"]))["epoch"] == 3
    copy, copy_opt, copy_rng = make_vae_adam(seed=5)
    metadata = load_checkpoint(path, copy, copy_opt, copy_rng)
    assert metadata["note"] == "hello"
    assert copy_rng.random() == rng.random()
    for name, value in copy.state_dict().items():
        np.testing.assert_array_equal(value, model.state_dict()[name])
    assert [p.name for p in tmp_path.iterdir()] == ["a.npz"]  # no temporary left behind


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda arrays: arrays.update({"optimizer/t": np.array([1, 2])}),
        lambda arrays: arrays.update({"optimizer/t": np.array("abc")}),
        lambda arrays: arrays.update(
            {"rng_state": np.array(json.dumps({"bit_generator": "PCG64", "state": {"state": 1}}))}
        ),
    ],
)
def test_a_partly_bad_checkpoint_changes_nothing(tmp_path, corrupt):
    model, opt, rng = make_vae_adam()
    path = tmp_path / "a.npz"
    save_checkpoint(path, model, opt, rng, epoch=1)
    with np.load(path) as data:
        arrays = dict(data)
    corrupt(arrays)
    np.savez(path, **arrays)
    fresh, fresh_opt, fresh_rng = make_vae_adam(seed=3)
    before, rng_before = fresh.state_dict(), fresh_rng.bit_generator.state
    with pytest.raises(CheckpointError):
        load_checkpoint(path, fresh, fresh_opt, fresh_rng)
    for name, value in fresh.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    assert fresh_rng.bit_generator.state == rng_before and fresh_opt.t == 0
