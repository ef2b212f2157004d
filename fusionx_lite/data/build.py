"""``build_dataset``: the one entry point the engine and the notebooks use."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from torch.utils.data import Dataset, Subset

SOURCES = ("synthetic", "bundled", "bigearthnet", "bigearthnet-v2", "subset")
SYNTHETIC_LENGTH = {"train": 10_000, "val": 2_000, "test": 2_000}


def build_dataset(
    source: str,
    *,
    split: str | None = None,
    img_size: int = 64,
    length: int | None = None,
    seed: int = 0,
    root: str | Path | None = None,
    optical_bands: Sequence[str] | None = None,
    **kwargs: Any,
) -> Dataset:
    """Build a paired SAR / optical dataset in the kit's sample format.

    Every source returns dicts with ``sar`` [2, H, W] (VV, VH), ``optical`` [C, H, W],
    ``label`` [K] (float32, standardised as in :mod:`fusionx_lite.data.normalize`);
    synthetic samples add ``cloud`` [H, W], real ones ``bounds`` [4] and ``crs``.

    Args:
        source: "synthetic" (generated, no files), "bundled" (the 6 real BigEarthNet
            patches shipped with ``bigearthnet-common``), "bigearthnet" (a torchgeo
            BigEarthNet v1 root), "bigearthnet-v2" (a torchgeo BigEarthNetV2 root) or
            "subset" (arrays written by ``data_scripts/build_subset.py``).
        split: "train", "val" or "test" (default "train"); "bundled" also takes "all",
            its default, meaning all six patches.
        img_size: H = W of the returned images. Real 120 px patches are center-cropped
            (10 m pixels kept) unless ``fit="resize"`` is passed.
        length: number of samples. Synthetic default: 10,000 for train, 2,000 for
            val / test. Real data: the first ``length`` samples (default all).
        seed: world seed of the synthetic source (ignored by real data).
        root: data folder for "bigearthnet", "bigearthnet-v2" and "subset"; cache
            folder for "bundled" (optional).
        optical_bands: Sentinel-2 band names to keep (default the 12 BigEarthNet bands).
        **kwargs: source options: SyntheticWorld's ``cloud_cover``, ``looks``,
            ``label_area``, ``variability``; real data's ``fit`` ("crop" or "resize").

    Returns:
        A map-style dataset with ``class_names``, ``optical_bands``, ``sar_bands``
        and ``num_classes`` attributes.

    Raises:
        ValueError: for an unknown source or split, or an impossible image size.
        FileNotFoundError: if a root is missing or incomplete (the message names the
            data_scripts command that fetches it).
    """
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; allowed: {SOURCES}")
    if length is not None and (not isinstance(length, int) or length < 0):
        raise ValueError(f"length must be None or an integer >= 0, got {length!r}")
    if source == "synthetic":
        from fusionx_lite.data.synthetic import SyntheticWorld

        split = split or "train"
        n = SYNTHETIC_LENGTH.get(split, 0) if length is None else length
        return SyntheticWorld(length=n, img_size=img_size, seed=seed, split=split,
                              optical_bands=optical_bands, **kwargs)  # fmt: skip
    if source == "subset":
        from fusionx_lite.data.subset import SUBSET_HINT, load_subset

        if root is None:
            raise ValueError(f"source 'subset' needs root= (a folder of .npz files); {SUBSET_HINT}")
        _check_split(split or "train")
        return load_subset(root, split or "train", img_size, length, optical_bands)
    if source == "bundled":
        from fusionx_lite.data.bundled import BundledBigEarthNet

        dataset = BundledBigEarthNet(split=split or "all", img_size=img_size, cache_dir=root,
                                     optical_bands=optical_bands, **kwargs)  # fmt: skip
    else:
        from fusionx_lite.data.bigearthnet import BigEarthNetPairs

        version = 2 if source == "bigearthnet-v2" else 1
        split = _check_split(split or "train")
        dataset = BigEarthNetPairs(root, version=version, split=split, img_size=img_size,
                                   optical_bands=optical_bands, **kwargs)  # fmt: skip
    return _first(dataset, length)


def _check_split(split: str) -> str:
    if split not in ("train", "val", "test"):
        raise ValueError(f"split must be one of ('train', 'val', 'test'), got {split!r}")
    return split


def _first(dataset: Dataset, length: int | None) -> Dataset:
    """The first ``length`` samples, keeping the dataset's name attributes."""
    if length is None or length >= len(dataset):
        return dataset
    return NamedSubset(dataset, range(length))


class NamedSubset(Subset):
    """A :class:`torch.utils.data.Subset` that keeps ``class_names`` and band names."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        super().__init__(dataset, indices)
        for name in ("class_names", "optical_bands", "sar_bands", "num_classes"):
            setattr(self, name, getattr(dataset, name))
