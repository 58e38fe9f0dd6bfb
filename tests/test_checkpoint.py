"""tinyvae.checkpoint: checkpoints round-trip without pickles, and bad ones change nothing."""

import json

import numpy as np
import pytest
from helpers import make_vae_adam

import tinyvae as tv
from tinyvae.checkpoint import CheckpointError, load_checkpoint, read_checkpoint, save_checkpoint


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


def _small(seed=0):
    model = tv.VAE(x_dim=6, hidden=(4,), z_dim=2, rng=np.random.default_rng(seed))
    return model, tv.Adam(model.parameters())


def test_non_finite_parameters_are_never_saved_over_a_good_file(tmp_path):
    path = tmp_path / "ckpt.npz"
    model, opt = _small()
    save_checkpoint(path, model, opt, epoch=1)
    good = path.read_bytes()
    model.decoder.layers[0].params["W"][1, 1] = np.inf
    with pytest.raises(CheckpointError, match="model/decoder.layers.0.W holds NaN or infinity"):
        save_checkpoint(path, model, opt, epoch=2)
    assert path.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.npz"]


@pytest.mark.parametrize("key", ["model/encoder.layers.0.b", "optimizer/v/decoder.layers.0.W"])
def test_a_checkpoint_holding_nan_is_refused_by_name(tmp_path, key):
    path = tmp_path / "ckpt.npz"
    model, opt = _small()
    save_checkpoint(path, model, opt, epoch=1)
    arrays, metadata = read_checkpoint(path)
    arrays[key] = np.full_like(arrays[key], np.nan)
    np.savez(path, metadata=np.array(json.dumps(metadata)), **arrays)
    target, target_opt = _small(seed=1)
    state = target.state_dict()
    with pytest.raises(CheckpointError, match=f"{path}: {key} holds NaN"):
        load_checkpoint(path, target, target_opt)
    assert all(np.array_equal(target.state_dict()[k], v) for k, v in state.items())
    assert target_opt.t == 0


@pytest.mark.parametrize(
    "write, message",
    [
        (lambda f: np.save(f, np.zeros(3)), "it holds a single array"),
        (lambda f: np.savez(f, metadata=np.array("{not json")), "damaged metadata"),
        (lambda f: np.savez(f, metadata=np.array("[1, 2]")), "damaged metadata"),
        (lambda f: np.savez(f, weights=np.zeros(2)), "no 'metadata' entry"),
        (lambda f: f.write(b"PK\x03\x04 truncated"), "not a readable tinyvae checkpoint"),
    ],
)
def test_a_damaged_checkpoint_names_its_path(tmp_path, write, message):
    path = tmp_path / "ckpt.npz"
    with open(path, "wb") as f:
        write(f)
    model, opt = _small()
    state = model.state_dict()
    with pytest.raises(CheckpointError, match=f"{path}: .*{message}"):
        load_checkpoint(path, model, opt)
    assert all(np.array_equal(model.state_dict()[k], v) for k, v in state.items())


def test_a_missing_checkpoint_names_its_path(tmp_path):
    model, _ = _small()
    with pytest.raises(FileNotFoundError, match="nothing.npz: no such checkpoint"):
        load_checkpoint(tmp_path / "nothing.npz", model)


@pytest.mark.parametrize(
    "make",
    [
        lambda p: tv.AdaMax(p, lr=0.01),
        lambda p: tv.RMSProp(p, lr=0.01),
        lambda p: tv.SGD(p, lr=0.01, momentum=0.9, nesterov=True),
        lambda p: tv.Adam(p, lr=0.01, bias_correction=False),
    ],
    ids=["adamax", "rmsprop", "sgd-nesterov", "adam-uncorrected"],
)
def test_every_optimizer_resumes_from_a_checkpoint_exactly(tmp_path, make):
    """Three steps, a checkpoint, then one more step in the original and in the restored copy."""
    model, _, rng = make_vae_adam()
    opt = make(model.parameters())
    objective = tv.SGVB_B(model)
    x = rng.random((8, 32)).astype(np.float32)
    for _ in range(3):
        opt.zero_grad()
        objective.loss(x, rng=rng)
        objective.backward()
        opt.step()
    save_checkpoint(tmp_path / "a.npz", model, opt, rng, epoch=1)
    copy, _, copy_rng = make_vae_adam(seed=7)
    copy_opt = make(copy.parameters())
    load_checkpoint(tmp_path / "a.npz", copy, copy_opt, copy_rng)
    assert copy_opt.t == 3
    for m, o, r in ((model, opt, rng), (copy, copy_opt, copy_rng)):
        objective = tv.SGVB_B(m)
        o.zero_grad()
        objective.loss(x, rng=r)
        objective.backward()
        o.step()
    for name, value in copy.state_dict().items():
        np.testing.assert_array_equal(value, model.state_dict()[name], err_msg=name)
