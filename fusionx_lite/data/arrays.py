"""Samples held as stacked tensors: in-memory worlds and compact subset files.

:func:`materialize` turns any dataset in the kit's format into an :class:`ArrayDataset`
(one pass, then every access is a tensor slice). ``data_scripts/build_subset.py`` saves
the same arrays to a ``.npz`` file that ``build_dataset("subset", root=...)`` reads.
Memory at 64 px with 12 bands: about 120 kB per sample in float16.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from fusionx_lite.data.normalize import SAR_BANDS

IMAGE_KEYS = ("sar", "optical", "cloud")  # stored compactly, returned as float32
REQUIRED_KEYS = ("sar", "optical", "label")


class ArrayDataset(Dataset):
    """A dataset whose samples are rows of stacked tensors.

    Args:
        arrays: ``sar`` [N, 2, H, W], ``optical`` [N, C, H, W], ``label`` [N, K] and
            optionally ``cloud`` [N, H, W] and ``bounds`` [N, 4].
        class_names: K class names.
        optical_bands: C band names.
        crs: optional CRS string per sample (with ``bounds``).

    Raises:
        ValueError: if a required array is missing or the arrays disagree in length.
    """

    def __init__(
        self,
        arrays: dict[str, Tensor],
        class_names: Sequence[str],
        optical_bands: Sequence[str],
        crs: Sequence[str] | None = None,
    ) -> None:
        missing = [k for k in REQUIRED_KEYS if k not in arrays]
        if missing:
            raise ValueError(f"arrays must contain {list(REQUIRED_KEYS)}; missing {missing}")
        lengths = {k: len(v) for k, v in arrays.items()}
        if crs is not None:
            lengths["crs"] = len(crs)
        if len(set(lengths.values())) != 1:
            raise ValueError(f"all arrays must have the same length, got {lengths}")
        self.arrays = arrays
        self.crs = list(crs) if crs is not None else None
        self.class_names: list[str] = list(class_names)
        self.optical_bands: list[str] = list(optical_bands)
        self.sar_bands: list[str] = list(SAR_BANDS)
        self.num_classes = len(self.class_names)

    def __len__(self) -> int:
        return len(self.arrays["label"])

    def __getitem__(self, index: int) -> dict[str, Tensor | str]:
        sample: dict[str, Tensor | str] = {}
        for key, value in self.arrays.items():
            row = value[index]
            sample[key] = row.float() if key in IMAGE_KEYS or key == "label" else row
        if self.crs is not None:
            sample["crs"] = self.crs[index]
        return sample

    def save(self, path: str | Path) -> Path:
        """Write the arrays and their names to one ``.npz`` file (no pickles)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {"class_names": self.class_names, "optical_bands": self.optical_bands}
        meta["crs"] = self.crs
        data = {k: v.numpy() for k, v in self.arrays.items()}
        np.savez(path, meta=np.array(json.dumps(meta)), **data)
        return path

    @classmethod
    def load(cls, path: str | Path) -> ArrayDataset:
        """Read a file written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as f:
            meta = json.loads(str(f["meta"]))
            arrays = {k: torch.from_numpy(f[k]) for k in f.files if k != "meta"}
        return cls(arrays, meta["class_names"], meta["optical_bands"], meta["crs"])


def materialize(
    dataset: Dataset,
    dtype: torch.dtype = torch.float16,
    batch_size: int = 256,
    num_workers: int = 0,
) -> ArrayDataset:
    """Render every sample of a dataset once and keep them as tensors in memory.

    Args:
        dataset: any dataset in the kit's format (synthetic, bundled, BigEarthNet).
        dtype: storage type of the images; float16 halves memory and keeps about
            3 significant digits of the standardised values, plenty for pretraining.
        batch_size: samples rendered per step.
        num_workers: DataLoader worker processes used to render.

    Returns:
        An :class:`ArrayDataset` with the same ``class_names`` and ``optical_bands``.

    Raises:
        ValueError: if the dataset is empty.
    """
    if len(dataset) == 0:
        raise ValueError("cannot materialize an empty dataset (length 0)")
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=num_workers)
    parts: dict[str, list[Tensor]] = {}
    crs: list[str] = []
    for batch in loader:
        for key, value in batch.items():
            if key == "crs":
                crs.extend(value)
            else:
                parts.setdefault(key, []).append(value.to(dtype) if key in IMAGE_KEYS else value)
    arrays = {k: torch.cat(v) for k, v in parts.items()}
    return ArrayDataset(arrays, dataset.class_names, dataset.optical_bands, crs or None)


def center_crop_bounds(bounds: Tensor, size: int, crop: int) -> Tensor:
    """Footprint ``[..., 4]`` (minx, miny, maxx, maxy) of a centered ``crop`` px window.

    Args:
        bounds: footprint of the full ``size`` x ``size`` image.
        size: side of the full image in pixels.
        crop: side of the centered crop in pixels (offset ``(size - crop) // 2``).
    """
    o = (size - crop) // 2
    px = (bounds[..., 2] - bounds[..., 0]) / size  # pixel width
    py = (bounds[..., 3] - bounds[..., 1]) / size  # pixel height
    minx = bounds[..., 0] + o * px
    maxy = bounds[..., 3] - o * py  # rows run from the top (north) down
    return torch.stack([minx, maxy - crop * py, minx + crop * px, maxy], dim=-1)
