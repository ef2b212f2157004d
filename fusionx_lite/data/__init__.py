"""Paired Sentinel-1 / Sentinel-2 data in one sample format.

Every source yields ``dict[str, Tensor]`` samples:

====== ================= ===================================================
key    dtype, shape      meaning
====== ================= ===================================================
sar    float32 [2, H, W] Sentinel-1 VV then VH, dB standardised (SAR_MEAN/STD)
optical float32 [C, H, W] Sentinel-2 L2A reflectance standardised per band
label  float32 [K]       multi-hot
cloud  float32 [H, W]    1 where cloud or shadow hides the optical image (synthetic)
bounds float64 [4]       minx, miny, maxx, maxy in ``crs`` (real data)
crs    str               e.g. "EPSG:32633" (real data)
====== ================= ===================================================

Start with :func:`build_dataset`. Real-data modules (torchgeo, rasterio) are imported
only when first used, so ``import fusionx_lite.data`` stays fast.
"""

from __future__ import annotations

from typing import Any

from fusionx_lite.data.arrays import ArrayDataset, materialize
from fusionx_lite.data.build import SOURCES, build_dataset
from fusionx_lite.data.normalize import (
    OPTICAL_BANDS,
    OPTICAL_MEAN,
    OPTICAL_STD,
    SAR_BANDS,
    SAR_MEAN,
    SAR_STD,
    denormalize_optical,
    denormalize_sar,
    normalize_optical,
    normalize_sar,
    optical_band_indices,
    rgb_indices,
)
from fusionx_lite.data.splits import label_fraction_indices, load_splits, make_splits, save_splits
from fusionx_lite.data.synthetic import SyntheticWorld

_LAZY = {
    "BigEarthNetPairs": "fusionx_lite.data.bigearthnet",
    "BundledBigEarthNet": "fusionx_lite.data.bundled",
    "bundled_bigearthnet_root": "fusionx_lite.data.bundled",
}

__all__ = [
    "OPTICAL_BANDS", "OPTICAL_MEAN", "OPTICAL_STD", "SAR_BANDS", "SAR_MEAN", "SAR_STD",
    "SOURCES", "ArrayDataset", "SyntheticWorld", "build_dataset", "denormalize_optical",
    "denormalize_sar", "label_fraction_indices", "load_splits", "make_splits", "materialize",
    "normalize_optical", "normalize_sar", "optical_band_indices", "rgb_indices", "save_splits",
    *_LAZY,
]  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
