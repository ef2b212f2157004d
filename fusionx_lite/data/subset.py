"""Compact subsets: ``.npz`` arrays written by ``data_scripts/build_subset.py``.

A subset folder holds ``train.npz``, ``val.npz`` and ``test.npz`` (any of them), each
an :class:`~fusionx_lite.data.arrays.ArrayDataset` saved at a fixed image size.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fusionx_lite.data.arrays import IMAGE_KEYS, ArrayDataset, center_crop_bounds
from fusionx_lite.data.normalize import optical_band_indices

SUBSET_HINT = (
    "build one with: python data_scripts/build_subset.py --source bigearthnet-v2 "
    "--root data/bigearthnet-v2 --out data/subset --img-size 64"
)


def subset_file(root: str | Path, split: str) -> Path:
    """The ``.npz`` file of one split: ``root`` itself if it is a file, else ``root/split.npz``.

    Raises:
        FileNotFoundError: naming the missing file and the command that builds it.
    """
    root = Path(root)
    path = root if root.suffix == ".npz" else root / f"{split}.npz"
    if not path.is_file():
        raise FileNotFoundError(f"subset file {path} not found; {SUBSET_HINT}")
    return path


def load_subset(
    root: str | Path,
    split: str = "train",
    img_size: int | None = None,
    length: int | None = None,
    optical_bands: Sequence[str] | None = None,
) -> ArrayDataset:
    """Load a subset split, optionally center-cropped, shortened and band-selected.

    Args:
        root: subset folder (or one ``.npz`` file).
        split: "train", "val" or "test".
        img_size: center-crop to this size; must not exceed the stored size.
        length: keep the first ``length`` samples.
        optical_bands: keep these bands (they must be among the stored ones).

    Raises:
        FileNotFoundError: if the file is missing.
        ValueError: if ``img_size`` exceeds the stored size or a band was not stored.
    """
    data = ArrayDataset.load(subset_file(root, split))
    arrays, crs = dict(data.arrays), data.crs
    if optical_bands is not None:
        optical_band_indices(optical_bands)  # validates the names
        missing = [b for b in optical_bands if b not in data.optical_bands]
        if missing:
            raise ValueError(
                f"optical_bands {missing} are not stored in this subset; "
                f"it holds {data.optical_bands}"
            )
        keep = [data.optical_bands.index(b) for b in optical_bands]
        arrays["optical"] = arrays["optical"][:, keep]
    stored = arrays["sar"].shape[-1]
    if img_size is not None and img_size != stored:
        if img_size > stored:
            raise ValueError(
                f"img_size must be <= {stored} for this subset (stored at {stored} px), "
                f"got {img_size}"
            )
        o = (stored - img_size) // 2
        for key in IMAGE_KEYS:
            if key in arrays:
                arrays[key] = arrays[key][..., o : o + img_size, o : o + img_size]
        if "bounds" in arrays:
            arrays["bounds"] = center_crop_bounds(arrays["bounds"], stored, img_size)
    if length is not None:
        arrays = {k: v[:length] for k, v in arrays.items()}
        crs = crs[:length] if crs is not None else None
    bands = list(optical_bands) if optical_bands is not None else data.optical_bands
    return ArrayDataset(arrays, data.class_names, bands, crs)
