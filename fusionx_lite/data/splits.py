"""Low-label splits: seeded, nested subsets of a labelled dataset.

For one seed, every index set is a prefix of one fixed ordering of the samples, so the
1 % split lies inside the 5 % split, which lies inside the 10 % split, and so on. The
ordering starts with a few samples that together show every class that has a positive
example (rarest class first), then continues in random order, so even small splits see
every class as long as they have room for it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

FRACTIONS = (0.01, 0.05, 0.10, 0.25, 1.0)
SEEDS = (0, 1, 2)
FORMAT = "fusionx-lite-splits/1"


def _as_bool_labels(labels: Tensor | np.ndarray) -> np.ndarray:
    arr = labels.numpy() if isinstance(labels, Tensor) else np.asarray(labels)
    if arr.ndim != 2:
        raise ValueError(f"labels must be a multi-hot matrix [N, K], got shape {arr.shape}")
    return arr > 0.5


def _check_fraction(fraction: float) -> None:
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")


def label_order(labels: Tensor | np.ndarray, seed: int) -> list[int]:
    """The seeded ordering whose prefixes are the low-label splits.

    Args:
        labels: multi-hot ``[N, K]``.
        seed: random seed.

    Returns:
        A permutation of ``range(N)``: first a class-covering set, then the rest.
    """
    pos = _as_bool_labels(labels)  # [N, K]
    perm = np.random.default_rng(seed).permutation(len(pos))
    shuffled = pos[perm]  # [N, K] rows in random order
    first: list[int] = []
    covered = np.zeros(pos.shape[1], bool)
    for k in np.argsort(pos.sum(0), kind="stable"):  # rarest class first
        hits = np.flatnonzero(shuffled[:, k])
        if covered[k] or not len(hits):
            continue
        first.append(int(hits[0]))
        covered |= shuffled[hits[0]]
    rest = np.setdiff1d(np.arange(len(pos)), first, assume_unique=True)
    return [int(perm[i]) for i in first] + perm[rest].tolist()


def label_fraction_indices(labels: Tensor | np.ndarray, fraction: float, seed: int) -> list[int]:
    """Indices of a seeded subset holding ``fraction`` of the samples.

    Args:
        labels: multi-hot ``[N, K]`` labels of the full labelled set.
        fraction: share of samples to keep, in (0, 1]; at least one sample is kept.
        seed: random seed; the same seed gives nested subsets across fractions.

    Returns:
        Sorted sample indices, ``max(1, round(fraction * N))`` of them.

    Raises:
        ValueError: if ``fraction`` is outside (0, 1] or ``labels`` is not 2-D.
    """
    _check_fraction(fraction)
    order = label_order(labels, seed)
    n = max(1, round(fraction * len(order))) if order else 0
    return sorted(order[:n])


def make_splits(
    labels: Tensor | np.ndarray,
    fractions: Sequence[float] = FRACTIONS,
    seeds: Sequence[int] = SEEDS,
) -> dict[int, dict[float, list[int]]]:
    """Low-label splits for every seed and fraction: ``splits[seed][fraction] -> indices``."""
    for f in fractions:
        _check_fraction(f)
    out: dict[int, dict[float, list[int]]] = {}
    for seed in seeds:
        order = label_order(labels, seed)
        sizes = {float(f): max(1, round(f * len(order))) for f in fractions}
        out[int(seed)] = {f: sorted(order[:n]) for f, n in sizes.items()}
    return out


def save_splits(splits: dict[int, dict[float, list[int]]], path: str | Path) -> Path:
    """Write splits from :func:`make_splits` to a JSON file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {str(s): {repr(float(f)): idx for f, idx in by_f.items()} for s, by_f in splits.items()}
    path.write_text(json.dumps({"format": FORMAT, "splits": body}))
    return path


def load_splits(path: str | Path) -> dict[int, dict[float, list[int]]]:
    """Read a file written by :func:`save_splits`.

    Raises:
        ValueError: if the file is not a splits file.
    """
    data = json.loads(Path(path).read_text())
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path} is not a splits file (expected format {FORMAT!r})")
    splits = data["splits"]
    return {int(s): {float(f): list(idx) for f, idx in by_f.items()} for s, by_f in splits.items()}


def dataset_labels(dataset: Dataset) -> Tensor:
    """All labels of a dataset as ``[N, K]``, using a fast ``labels()`` method if it has one."""
    if hasattr(dataset, "labels"):
        return dataset.labels()
    if hasattr(dataset, "arrays"):
        return dataset.arrays["label"].float()
    return torch.stack([dataset[i]["label"] for i in range(len(dataset))])
