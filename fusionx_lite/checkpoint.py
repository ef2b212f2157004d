"""Checkpoints: atomic, safe to load, and refused when they belong to another run.

A checkpoint is one ``dict`` written with :func:`torch.save` that loads with
``torch.load(weights_only=True)`` (no pickled classes), so opening a file from the internet
cannot run code. It holds only plain Python values and tensors:

| key | content |
|---|---|
| ``format`` | ``"fusionx-lite/1"`` |
| ``config`` | ``FusionXConfig.to_dict()`` |
| ``train`` | the training settings as a plain dict (``TrainConfig.to_dict()``) |
| ``model`` | the model's ``state_dict`` |
| ``optimizer`` | the optimiser's ``state_dict`` |
| ``step``, ``epoch``, ``step_in_epoch`` | where the run stands (optimiser steps) |
| ``rng`` | torch CPU (and CUDA) generator states as uint8 tensors |

The learning-rate schedule is a pure function of ``step`` (see :mod:`fusionx_lite.schedule`),
so the step is the scheduler's whole state.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import torch
from torch import nn

FORMAT = "fusionx-lite/1"


class ConfigMismatchError(ValueError):
    """A checkpoint was saved for a different model or training configuration."""


def save_checkpoint(path: str | os.PathLike, state: dict) -> Path:
    """Write ``state`` to ``path`` atomically: a temporary file first, then a rename.

    A run killed while saving leaves the previous checkpoint intact, never half a file.

    Args:
        path: destination file (its folder is created if needed).
        state: plain dict of tensors and Python values (see the module docstring).

    Returns:
        The destination path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save({"format": FORMAT, **state}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic on POSIX and Windows
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict:
    """Load a checkpoint written by :func:`save_checkpoint` with ``weights_only=True``.

    Args:
        path: checkpoint file.
        map_location: device to load tensors onto.

    Returns:
        The checkpoint dict.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if the file is not a FusionX-Lite checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    state = torch.load(path, map_location=map_location, weights_only=True)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"{path} is not a FusionX-Lite checkpoint (format {FORMAT!r})")
    return state


def check_same(saved: dict, current: dict, what: str, ignore: tuple[str, ...] = ()) -> None:
    """Raise :class:`ConfigMismatchError` when two plain config dicts differ.

    Args:
        saved: the dict stored in the checkpoint.
        current: the dict of the run that wants to use it.
        what: name used in the message, e.g. ``"model config"``.
        ignore: keys allowed to differ (settings that do not change the result).

    Raises:
        ConfigMismatchError: listing every differing key with both values.
    """
    keys = sorted((set(saved) | set(current)) - set(ignore))
    diffs = [
        f"{k}: checkpoint {saved.get(k)!r} vs now {current.get(k)!r}"
        for k in keys
        if _plain(saved.get(k)) != _plain(current.get(k))
    ]
    if diffs:
        raise ConfigMismatchError(
            f"the checkpoint was saved with a different {what} ({'; '.join(diffs)}); "
            "use the same settings to resume, or start a new run in another folder"
        )


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def capture_rng() -> dict[str, torch.Tensor | list[torch.Tensor]]:
    """Global torch generator states (CPU, and every CUDA device) as uint8 tensors."""
    rng: dict = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    return rng


def restore_rng(rng: dict) -> None:
    """Inverse of :func:`capture_rng` (CUDA states are skipped on a machine without CUDA)."""
    torch.set_rng_state(rng["torch"].cpu())
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in rng["cuda"]])


def weights_hash(module: nn.Module) -> str:
    """SHA-256 of every parameter and buffer, in ``state_dict`` order (exact, bitwise)."""
    h = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()
