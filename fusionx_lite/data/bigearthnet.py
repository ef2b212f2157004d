"""Real BigEarthNet (v1 and v2) read through torchgeo and adapted to the kit's format.

torchgeo's ``BigEarthNet(bands="all")`` and ``BigEarthNetV2(bands="all")`` find the
files, resample the 20 m and 60 m Sentinel-2 bands to 120 x 120 (bilinear), and map
the labels to the 19 BigEarthNet classes. This adapter then

* swaps Sentinel-1 to VV, VH (torchgeo sorts the files by name: VH first);
* reads Sentinel-1 as float32 dB straight from the same GeoTIFFs (torchgeo reads them
  as int32, rounding to whole dB); ``precise_sar=False`` keeps torchgeo's values;
* standardises both sensors with the shared statistics of :mod:`.normalize`;
* center-crops the 120 px patch to ``img_size`` (10 m pixels kept) or, with
  ``fit="resize"``, resizes the whole patch (coarser pixels);
* adds the footprint (``bounds`` in the patch's UTM CRS, ``crs``) read with rasterio.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import rasterio
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

from fusionx_lite.data.arrays import center_crop_bounds
from fusionx_lite.data.normalize import (
    OPTICAL_BANDS,
    SAR_BANDS,
    normalize_optical,
    normalize_sar,
    optical_band_indices,
)

PATCH_SIZE = 120  # BigEarthNet patches are 120 x 120 px at 10 m
FITS = ("crop", "resize")
REQUIRED = {
    1: ("BigEarthNet-S1-v1.0", "BigEarthNet-v1.0", "bigearthnet-train.csv",
        "bigearthnet-val.csv", "bigearthnet-test.csv"),
    2: ("BigEarthNet-S1", "BigEarthNet-S2", "Reference_Maps", "metadata.parquet"),
}  # fmt: skip


def fetch_command(version: int, root: str | Path) -> str:
    """The data_scripts command that downloads a BigEarthNet root."""
    return f"python data_scripts/download_bigearthnet.py --version {version} --root {root}"


def check_root(root: str | Path, version: int) -> None:
    """Raise a clear error if a BigEarthNet root lacks a file or folder torchgeo needs.

    Raises:
        FileNotFoundError: naming what is missing and the command that fetches it.
    """
    missing = [name for name in REQUIRED[version] if not os.path.exists(os.path.join(root, name))]
    if missing:
        raise FileNotFoundError(
            f"BigEarthNet v{version} root {str(root)!r} is missing or incomplete: no "
            f"{', '.join(missing)}. Fetch it with: {fetch_command(version, root)}"
        )


def _torchgeo_dataset(root: str | Path, version: int, split: str) -> Dataset:
    from torchgeo.datasets import BigEarthNet, BigEarthNetV2

    if version == 1:
        return BigEarthNet(root=str(root), split=split, bands="all", num_classes=19)
    try:
        return BigEarthNetV2(root=str(root), split=split, bands="all")
    except ImportError as err:  # pandas needs pyarrow for metadata.parquet
        raise ImportError(f"BigEarthNetV2 needs pyarrow: pip install pyarrow ({err})") from err


class BigEarthNetPairs(Dataset):
    """BigEarthNet S1 + S2 pairs in the kit's sample format.

    Args:
        root: a torchgeo BigEarthNet root (v1) or BigEarthNetV2 root (v2).
        version: 1 or 2.
        split: "train", "val" or "test".
        img_size: side of the returned images in pixels.
        optical_bands: Sentinel-2 bands to keep (default all 12).
        fit: "crop" (center crop, 10 m pixels, img_size <= 120) or "resize".
        precise_sar: read Sentinel-1 dB as float32 from the GeoTIFFs (default) instead
            of torchgeo's whole-dB values.

    Raises:
        ValueError: for a bad version, split, fit or img_size.
        FileNotFoundError: if the root is missing or incomplete.
    """

    def __init__(
        self,
        root: str | Path,
        version: int = 1,
        split: str = "train",
        img_size: int = 64,
        optical_bands: Sequence[str] | None = None,
        fit: str = "crop",
        precise_sar: bool = True,
    ) -> None:
        if version not in (1, 2):
            raise ValueError(f"version must be 1 or 2, got {version!r}")
        if split not in ("train", "val", "test"):
            raise ValueError(f"split must be one of ('train', 'val', 'test'), got {split!r}")
        check_fit(fit, img_size)
        if root is None:
            example = fetch_command(version, f"data/bigearthnet-v{version}")
            raise ValueError(
                f"root is required for BigEarthNet v{version}; fetch one with: {example}"
            )
        check_root(root, version)
        self.root, self.version, self.split = Path(root), version, split
        self.img_size, self.fit, self.precise_sar = img_size, fit, precise_sar
        self._band_idx = optical_band_indices(optical_bands)
        self.optical_bands: list[str] = [OPTICAL_BANDS[i] for i in self._band_idx]
        self.sar_bands: list[str] = list(SAR_BANDS)
        self.torchgeo = _torchgeo_dataset(root, version, split)
        from torchgeo.datasets import BigEarthNet

        self.class_names: list[str] = list(BigEarthNet.class_sets[19])
        self.num_classes = len(self.class_names)

    def __len__(self) -> int:
        return len(self.torchgeo)

    def s1_files(self, index: int) -> dict[str, str]:
        """Paths of the VV and VH GeoTIFFs of one sample."""
        if self.version == 1:
            folder = self.torchgeo.folders[index]["s1"]
        else:
            name = str(self.torchgeo.metadata_df.iloc[index]["s1_name"])
            tile = "_".join(name.split("_")[:-3])
            folder = os.path.join(self.root, "BigEarthNet-S1", tile, name)
        files = {}
        for pol in SAR_BANDS:
            found = glob.glob(os.path.join(folder, f"*_{pol}.tif"))
            if not found:
                raise FileNotFoundError(f"no {pol} GeoTIFF in {folder}")
            files[pol] = found[0]
        return files

    def patch_id(self, index: int) -> str:
        """The Sentinel-2 patch name of one sample."""
        if self.version == 1:
            return os.path.basename(self.torchgeo.folders[index]["s2"])
        return str(self.torchgeo.metadata_df.iloc[index]["patch_id"])

    def __getitem__(self, index: int) -> dict[str, Tensor | str]:
        raw = self.torchgeo[index]
        if self.version == 1:
            s1, s2 = raw["image"][:2], raw["image"][2:]  # torchgeo: VH, VV, then 12 S2 bands
        else:
            s1, s2 = raw["image_s1"], raw["image_s2"]
        files = self.s1_files(index)
        with rasterio.open(files["VV"]) as src:
            bounds = torch.tensor(tuple(src.bounds), dtype=torch.float64)
            crs = src.crs.to_string()
            vv = src.read(1, out_dtype="float32") if self.precise_sar else None
        if self.precise_sar:
            with rasterio.open(files["VH"]) as src:
                vh = src.read(1, out_dtype="float32")
            db = torch.from_numpy(np.stack([vv, vh]))  # [2, 120, 120] float dB
        else:
            db = s1[[1, 0]].float()  # [2, 120, 120] VV, VH in whole dB
        sample = {
            "sar": normalize_sar(db),
            "optical": normalize_optical(s2[self._band_idx].float(), self.optical_bands),
            "label": raw["label"].float(),
            "bounds": bounds,
        }
        sample = fit_sample(sample, self.img_size, self.fit)
        sample["crs"] = crs
        return sample

    def labels(self) -> Tensor:
        """All labels ``[N, 19]`` without reading any image (uses torchgeo's label loader)."""
        if not len(self):
            return torch.zeros(0, self.num_classes)
        return torch.stack([self.torchgeo._load_target(i).float() for i in range(len(self))])


def check_fit(fit: str, img_size: int) -> None:
    """Validate ``fit`` and ``img_size`` for 120 px patches."""
    if fit not in FITS:
        raise ValueError(f"fit must be one of {FITS}, got {fit!r}")
    if not isinstance(img_size, int) or img_size < 1:
        raise ValueError(f"img_size must be a positive integer, got {img_size!r}")
    if fit == "crop" and img_size > PATCH_SIZE:
        raise ValueError(
            f"img_size must be <= {PATCH_SIZE} with fit='crop' (BigEarthNet patches are "
            f"{PATCH_SIZE} px), got {img_size}; pass fit='resize' to resample instead"
        )


def fit_sample(sample: dict[str, Tensor], img_size: int, fit: str) -> dict[str, Tensor]:
    """Center-crop or resize the images of a 120 px sample to ``img_size``."""
    size = sample["sar"].shape[-1]
    if img_size == size:
        return sample
    out = dict(sample)
    if fit == "crop":
        o = (size - img_size) // 2
        for key in ("sar", "optical"):
            out[key] = sample[key][:, o : o + img_size, o : o + img_size].contiguous()
        out["bounds"] = center_crop_bounds(sample["bounds"], size, img_size)
    else:
        for key in ("sar", "optical"):
            x = sample[key][None]  # [1, C, H, W]
            out[key] = F.interpolate(x, size=(img_size, img_size), mode="bilinear",
                                     antialias=True, align_corners=False)[0]  # fmt: skip
    return out
