"""Checkpoints: model parameters, optimizer state and RNG state in one ``.npz``.

Everything is stored as plain arrays (no pickles): parameters under
``model/<name>``, optimizer state under ``optimizer/<key>``, and JSON text
for the RNG state and metadata (epoch, history, the model's architecture).
Files are written to a temporary file in the same folder, fsynced and
renamed into place, so a crash never leaves half a checkpoint; parameters
that are NaN or infinite are never saved (that would put a diverged run over
a good checkpoint) and never loaded. Loading validates every array against
the model before anything is changed.
"""

import json
import os
import zipfile

import numpy as np

from .files import atomic_write
from .validation import check_rng


class CheckpointError(ValueError):
    """A checkpoint file is unreadable or does not fit the model it is loaded into."""


def check_finite(arrays, path):
    """Raise CheckpointError naming the first array that holds NaN or infinity."""
    for key, value in arrays.items():
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            raise CheckpointError(
                f"{path}: {key} holds NaN or infinity (the state of a diverged run); "
                "a checkpoint keeps only finite numbers"
            )


def save_checkpoint(path, model, optimizer=None, rng=None, **metadata):
    """Write a checkpoint atomically. ``metadata`` must be JSON-serializable.

    Refuses (``CheckpointError``, nothing written) when a parameter or an
    optimizer moment is NaN or infinite, so that a good file is never
    replaced by a diverged state.
    """
    if os.path.isdir(path):
        raise CheckpointError(f"path: expected a file name, got the folder {path}")
    if rng is not None:
        check_rng(rng, "save_checkpoint")
    arrays = {f"model/{name}": param for name, param, _ in model.parameters()}
    if optimizer is not None:
        arrays.update({f"optimizer/{key}": value for key, value in optimizer.state_dict().items()})
        metadata["optimizer"] = type(optimizer).__name__
    check_finite(arrays, path)
    if rng is not None:
        arrays["rng_state"] = np.array(json.dumps(rng.bit_generator.state))
    if hasattr(model, "config"):
        metadata["model_config"] = model.config()
    try:
        arrays["metadata"] = np.array(json.dumps(metadata))
    except (TypeError, ValueError) as error:
        raise TypeError(f"metadata: expected JSON-serializable values, {error}") from None

    with atomic_write(path) as f:
        np.savez(f, **arrays)


def read_checkpoint(path):
    """Read a checkpoint into ``(arrays, metadata)`` without touching any model."""
    what = "not a readable tinyvae checkpoint (an .npz written by save_checkpoint)"
    try:
        data = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such checkpoint") from None
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
        raise CheckpointError(f"{path}: {what}: {error}") from error
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise CheckpointError(f"{path}: {what}; it holds a single array (an .npy file)")
    try:
        with data:
            arrays = {key: data[key] for key in data.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
        raise CheckpointError(f"{path}: {what}: {error}") from error
    if "metadata" not in arrays:
        raise CheckpointError(f"{path}: no 'metadata' entry; {what}")
    try:
        metadata = json.loads(str(arrays.pop("metadata")))
    except json.JSONDecodeError as error:
        raise CheckpointError(f"{path}: damaged metadata (not JSON: {error})") from None
    if not isinstance(metadata, dict):
        raise CheckpointError(f"{path}: damaged metadata (expected a JSON object)")
    return arrays, metadata


def load_checkpoint(path, model, optimizer=None, rng=None):
    """Restore model (and optimizer, RNG) from ``path``; returns the metadata.

    Raises ``CheckpointError`` naming what differs when the checkpoint was
    written for another architecture or optimizer. All checks happen before
    any state is modified.
    """
    if rng is not None:
        check_rng(rng, "load_checkpoint")
    arrays, metadata = read_checkpoint(path)
    check_finite(arrays, path)
    model_state = {
        key[len("model/") :]: value for key, value in arrays.items() if key.startswith("model/")
    }
    saved_config = metadata.get("model_config")
    if hasattr(model, "config") and saved_config is not None and saved_config != model.config():
        raise CheckpointError(
            f"{path} holds a model with {saved_config}, but this model has {model.config()} "
            f"({differences(saved_config, model.config(), 'in the checkpoint', 'here')})"
        )

    optimizer_state = None
    if optimizer is not None:
        optimizer_state = {
            key[len("optimizer/") :]: value
            for key, value in arrays.items()
            if key.startswith("optimizer/")
        }
        saved_name = metadata.get("optimizer")
        if saved_name != type(optimizer).__name__:
            raise CheckpointError(
                f"{path} holds {saved_name or 'no'} optimizer state, "
                f"expected {type(optimizer).__name__}"
            )
    rng_state = None
    if rng is not None:
        if "rng_state" not in arrays:
            raise CheckpointError(f"{path} holds no RNG state")
        try:
            rng_state = json.loads(str(arrays["rng_state"]))
        except json.JSONDecodeError as error:
            raise CheckpointError(f"{path}: damaged RNG state (not JSON: {error})") from None
        if not isinstance(rng_state, dict):
            raise CheckpointError(f"{path}: damaged RNG state (expected a JSON object)")
        if rng_state.get("bit_generator") != type(rng.bit_generator).__name__:
            raise CheckpointError(
                f"{path} holds {rng_state.get('bit_generator')} RNG state, but the generator "
                f"given uses {type(rng.bit_generator).__name__}"
            )
        try:  # try the state on a scratch generator of the same kind first
            type(rng.bit_generator)().state = rng_state
        except (TypeError, ValueError, KeyError) as error:
            raise CheckpointError(f"{path}: unusable RNG state: {error!r}") from error

    # Check everything first, then change state: a bad file loads nothing.
    try:
        model.check_state_dict(model_state)
        if optimizer is not None:
            optimizer.check_state_dict(optimizer_state)
    except ValueError as error:
        raise CheckpointError(f"{path}: {error}") from error
    model.load_state_dict(model_state)
    if optimizer is not None:
        optimizer.load_state_dict(optimizer_state)
    if rng is not None:
        rng.bit_generator.state = rng_state
    return metadata


def differences(saved, now, saved_name, now_name):
    """What differs between two dicts of settings, one key at a time:
    ``"z_dim: 20 in the checkpoint, 5 here"``."""
    saved = saved if isinstance(saved, dict) else {}
    keys = sorted(set(saved) | set(now), key=str)
    return "; ".join(
        f"{key}: {saved.get(key, 'not set')!r} {saved_name}, {now.get(key, 'not set')!r} {now_name}"
        for key in keys
        if saved.get(key) != now.get(key)
    )
