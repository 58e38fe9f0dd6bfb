"""fit checks its arguments before training, resumes only what it can resume exactly,
and never writes a diverged state over a good checkpoint."""

import json

import numpy as np
import pytest
from helpers import prototype_data

import tinyvae as tv
from tinyvae.checkpoint import CheckpointError, read_checkpoint

QUIET = {"progress": False}


def small(seed=0, **kwargs):
    rng = np.random.default_rng(seed)
    model = tv.VAE(x_dim=32, hidden=(8,), z_dim=2, rng=rng, **kwargs)
    return model, tv.Adam(model.parameters(), lr=1e-3), rng


def test_an_optimizer_made_before_astype_is_refused():
    model, opt, rng = small()
    model.astype(np.float64)
    x = prototype_data(40, seed=0).astype(np.float64)
    with pytest.raises(RuntimeError, match="no longer the model.s .*after converting"):
        tv.fit(model, opt, x, epochs=1, rng=rng, **QUIET)


@pytest.mark.parametrize("max_steps", [0, -1, 2.5, True])
def test_max_steps_must_be_a_positive_integer(max_steps):
    model, opt, rng = small()
    with pytest.raises((TypeError, ValueError), match="max_steps: expected an integer >= 1"):
        tv.fit(
            model, opt, prototype_data(40, seed=0), epochs=1, rng=rng, max_steps=max_steps, **QUIET
        )


def test_drop_last_with_fewer_examples_than_a_batch_is_refused():
    model, opt, rng = small()
    with pytest.raises(ValueError, match="leaves no whole batch"):
        tv.fit(
            model,
            opt,
            tv.Batches(prototype_data(40, seed=0), batch_size=50, drop_last=True),
            epochs=1,
            rng=rng,
            **QUIET,
        )


def test_the_score_baseline_with_one_sample_is_refused_before_any_noise_is_drawn():
    model, opt, rng = small()
    state = rng.bit_generator.state
    with pytest.raises(ValueError, match="n_samples >= 2"):
        tv.fit(
            tv.make_objective(model, "score", baseline=True),
            opt,
            prototype_data(40, seed=0),
            epochs=1,
            rng=rng,
            **QUIET,
        )
    assert rng.bit_generator.state == state


def test_max_steps_stops_mid_epoch_and_that_checkpoint_is_not_resumed(tmp_path):
    model, opt, rng = small()
    path = str(tmp_path / "run.npz")
    steps = []
    tv.fit(
        model,
        opt,
        tv.Batches(prototype_data(100, seed=0), batch_size=20),
        epochs=5,
        rng=rng,
        max_steps=7,
        on_step=steps.append,
        checkpoint=path,
        **QUIET,
    )
    assert steps == list(range(1, 8)) and opt.t == 7
    metadata = read_checkpoint(path)[1]
    assert metadata["epoch"] == 2 and metadata["steps"] == 7 and metadata["partial_epoch"]
    model, opt, rng = small()
    with pytest.raises(tv.CheckpointError, match="stopped in the middle of epoch 2"):
        tv.fit(
            model,
            opt,
            tv.Batches(prototype_data(100, seed=0), batch_size=20),
            epochs=5,
            rng=rng,
            max_steps=9,
            checkpoint=path,
            resume=True,
            **QUIET,
        )
    assert opt.t == 0  # refused before anything was loaded


def test_a_resumed_run_counts_its_steps_from_the_checkpoint(tmp_path):
    path = str(tmp_path / "run.npz")
    model, opt, rng = small()
    tv.fit(
        model,
        opt,
        tv.Batches(prototype_data(100, seed=0), batch_size=30),
        epochs=1,
        rng=rng,
        checkpoint=path,
        **QUIET,
    )
    model, opt, rng = small()
    steps = []
    tv.fit(
        model,
        opt,
        tv.Batches(prototype_data(100, seed=0), batch_size=30),
        epochs=2,
        rng=rng,
        checkpoint=path,
        resume=True,
        on_step=steps.append,
        **QUIET,
    )
    assert steps == [5, 6, 7, 8] and opt.t == 8


@pytest.mark.parametrize("how", ["B", "sgvb_b", "objective"])
def test_the_same_estimator_by_any_name_resumes(tmp_path, how):
    path = str(tmp_path / "run.npz")
    model, opt, rng = small()
    tv.fit(model, opt, prototype_data(60, seed=0), epochs=1, rng=rng, checkpoint=path, **QUIET)
    model, opt, rng = small()
    trained = tv.SGVB_B(model) if how == "objective" else tv.make_objective(model, how)
    history = tv.fit(
        trained,
        opt,
        prototype_data(60, seed=0),
        epochs=2,
        rng=rng,
        checkpoint=path,
        resume=True,
        **QUIET,
    )
    assert history.epoch == [1, 2]


def test_a_model_whose_default_changed_does_not_resume_a_run_of_another_bound(tmp_path):
    path = str(tmp_path / "run.npz")
    model, opt, rng = small()
    tv.fit(model, opt, prototype_data(60, seed=0), epochs=1, rng=rng, checkpoint=path, **QUIET)
    model, opt, rng = small(estimator="iwae")
    with pytest.raises(
        tv.CheckpointError,
        match=r"other settings \(estimator: 'B' in the checkpoint, 'iwae' asked\)",
    ):
        tv.fit(
            model,
            opt,
            prototype_data(60, seed=0),
            epochs=2,
            rng=rng,
            checkpoint=path,
            resume=True,
            **QUIET,
        )


def test_parameters_that_turn_nan_at_the_end_of_an_epoch_never_reach_the_checkpoint(tmp_path):
    path = str(tmp_path / "run.npz")
    model, opt, rng = small()
    data = tv.Batches(prototype_data(60, seed=0), batch_size=30)
    tv.fit(model, opt, data, epochs=1, rng=rng, checkpoint=path, **QUIET)
    good = read_checkpoint(path)[0]["model/decoder.layers.0.W"].copy()

    def poison(step):
        if step == 4:  # the last step of epoch 2
            model.decoder.layers[0].params["W"][0, 0] = np.nan

    with pytest.raises(tv.TrainingDiverged, match="last good checkpoint is"):
        tv.fit(
            model,
            opt,
            data,
            epochs=3,
            rng=rng,
            checkpoint=path,
            resume=True,
            on_step=poison,
            **QUIET,
        )
    np.testing.assert_array_equal(read_checkpoint(path)[0]["model/decoder.layers.0.W"], good)
    assert read_checkpoint(path)[1]["epoch"] == 1


def test_a_run_that_diverges_in_its_first_epoch_names_no_file(tmp_path):
    path = tmp_path / "run.npz"
    model, opt, rng = small()

    def poison(step):
        model.decoder.layers[0].params["W"][0, 0] = np.nan

    # one batch per epoch: the poisoned step is the last of the epoch
    with pytest.raises(
        tv.TrainingDiverged, match=r"no checkpoint was written \(.*run.npz does not"
    ):
        tv.fit(model, opt, tv.Batches(prototype_data(30, seed=0), batch_size=30), epochs=2,
               rng=rng, checkpoint=path, on_step=poison, **QUIET)  # fmt: skip
    assert not path.exists()


def test_a_diverged_loss_names_the_checkpoint_of_the_last_good_epoch(tmp_path):
    path = tmp_path / "run.npz"
    model, opt, rng = small()

    def poison(step):
        if step == 4:  # the first step of epoch 2: the next loss is NaN
            model.decoder.layers[0].params["b"][:] = np.nan

    with pytest.raises(tv.TrainingDiverged, match=f"loss became nan at epoch 2.*is {path}"):
        tv.fit(model, opt, tv.Batches(prototype_data(60, seed=0), batch_size=20), epochs=3,
               rng=rng, checkpoint=path, on_step=poison, **QUIET)  # fmt: skip
    assert read_checkpoint(path)[1]["epoch"] == 1


def test_resuming_with_fewer_epochs_than_done_is_refused_and_equal_trains_nothing(tmp_path):
    path = tmp_path / "run.npz"
    model, opt, rng = small()
    x = prototype_data(40, seed=0)
    tv.fit(model, opt, x, epochs=2, rng=rng, checkpoint=path, **QUIET)
    state, rng_state = model.state_dict(), rng.bit_generator.state
    with pytest.raises(ValueError, match="already trained 2 epochs and epochs=1 asks for fewer"):
        tv.fit(model, opt, x, epochs=1, rng=rng, checkpoint=path, resume=True, **QUIET)
    history = tv.fit(model, opt, x, epochs=2, rng=rng, checkpoint=path, resume=True, **QUIET)
    assert history.epoch == [1, 2]
    assert all(np.array_equal(model.state_dict()[k], v) for k, v in state.items())
    assert rng.bit_generator.state == rng_state


def test_resuming_from_damaged_metadata_names_the_file_and_loads_nothing(tmp_path):
    path = tmp_path / "run.npz"
    model, opt, rng = small()
    x = prototype_data(40, seed=0)
    tv.fit(model, opt, x, epochs=1, rng=rng, checkpoint=path, **QUIET)
    arrays, metadata = read_checkpoint(path)
    del metadata["history"]
    np.savez(path, metadata=np.array(json.dumps(metadata)), **arrays)
    state = model.state_dict()
    with pytest.raises(CheckpointError, match=f"{path}: damaged metadata"):
        tv.fit(model, opt, x, epochs=2, rng=rng, checkpoint=path, resume=True, **QUIET)
    assert all(np.array_equal(model.state_dict()[k], v) for k, v in state.items())


def test_a_fresh_run_diverging_over_an_earlier_runs_checkpoint_says_whose_it_is(tmp_path):
    path = tmp_path / "run.npz"
    model, opt, rng = small()
    x = tv.Batches(prototype_data(30, seed=0), batch_size=30)
    tv.fit(model, opt, x, epochs=1, rng=rng, checkpoint=path, **QUIET)
    earlier = path.read_bytes()
    model, opt, rng = small(seed=1)

    def poison(step):
        model.decoder.layers[0].params["W"][0, 0] = np.nan

    with pytest.raises(tv.TrainingDiverged, match=r"this run wrote no checkpoint \(.* earlier run"):
        tv.fit(model, opt, x, epochs=1, rng=rng, checkpoint=path, on_step=poison, **QUIET)
    assert path.read_bytes() == earlier
