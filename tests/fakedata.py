"""Tiny fake BigEarthNet roots in the real on-disk layouts, as torchgeo's own tests do.

Every value is known in advance so that tests can check what the adapters return:
Sentinel-1 VV and VH are constant float32 dB images with decimals (so band order and
torchgeo's rounding both show), every Sentinel-2 band holds its own constant at its
native size (20, 60 or 120 px), and the footprint is a known 1.2 km square in UTM 33N.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
from rasterio import Affine

S2_BANDS = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12"]
S2_SIZE = {"B01": 20, "B09": 20, "B05": 60, "B06": 60, "B07": 60, "B8A": 60, "B11": 60, "B12": 60}
CRS = "EPSG:32633"
# Labels as BigEarthNet writes them: 43-class names in v1, 19-class names in v2.
V1_LABELS = [
    ["Non-irrigated arable land", "Pastures"],
    ["Coniferous forest", "Water bodies", "Sea and ocean"],
    ["Discontinuous urban fabric", "Industrial or commercial units"],
    ["Broad-leaved forest"],
]
V1_AS_19 = [[2, 4], [9, 17, 18], [0, 1], [8]]  # the same labels in the 19-class set
V2_LABELS = [
    ["Arable land", "Pastures"],
    ["Coniferous forest", "Inland waters", "Marine waters"],
    ["Urban fabric", "Industrial or commercial units"],
    ["Broad-leaved forest"],
]
V2_CLC = {"Arable land": 211, "Pastures": 231, "Coniferous forest": 312, "Inland waters": 512,
          "Marine waters": 523, "Urban fabric": 111, "Industrial or commercial units": 121,
          "Broad-leaved forest": 311}  # fmt: skip
SPLITS = ["train", "train", "val", "test"]  # one entry per fake patch


@dataclass
class FakePatch:
    s1_name: str
    s2_name: str
    split: str
    labels_19: list[int]
    vv: float  # dB, constant over the patch
    vh: float
    s2_dn: dict[str, int] = field(default_factory=dict)  # band -> digital number
    bounds: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)


def write_tif(path: Path, data: np.ndarray, x0: float, y0: float) -> None:
    """One single-band GeoTIFF covering 1200 m x 1200 m from the upper-left (x0, y0)."""
    res = 1200 / data.shape[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", driver="GTiff", height=data.shape[0], width=data.shape[1],
                       count=1, dtype=data.dtype, crs=CRS,
                       transform=Affine(res, 0, x0, 0, -res, y0)) as dst:  # fmt: skip
        dst.write(data, 1)


def make_patch(i: int, s1_name: str, s2_name: str, labels_19: list[int]) -> FakePatch:
    x0, y0 = 404400.0 + 1200 * i, 5342400.0
    return FakePatch(
        s1_name, s2_name, SPLITS[i], labels_19,
        vv=-10.3 - i, vh=-17.6 - i,  # decimals: torchgeo's int32 read rounds them away
        s2_dn={b: 300 + 100 * k + 7 * i for k, b in enumerate(S2_BANDS)},
        bounds=(x0, y0 - 1200, x0 + 1200, y0),
    )  # fmt: skip


def write_images(patch: FakePatch, s1_dir: Path, s2_dir: Path, s2_prefix: str) -> None:
    x0, y0 = patch.bounds[0], patch.bounds[3]
    for pol, value in (("VV", patch.vv), ("VH", patch.vh)):
        write_tif(s1_dir / f"{patch.s1_name}_{pol}.tif", np.full((120, 120), value, np.float32),
                  x0, y0)  # fmt: skip
    for band, dn in patch.s2_dn.items():
        n = S2_SIZE.get(band, 120)
        write_tif(s2_dir / f"{s2_prefix}_{band}.tif", np.full((n, n), dn, np.uint16), x0, y0)


def write_bigearthnet_v1(root: Path) -> list[FakePatch]:
    """A BigEarthNet v1 root as torchgeo's ``BigEarthNet`` expects it (4 patches)."""
    patches = []
    rows: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    for i, (labels, labels_19) in enumerate(zip(V1_LABELS, V1_AS_19, strict=True)):
        s1 = f"S1A_IW_GRDH_1SDV_20170613T165043_33UUP_{60 + i}_39"
        s2 = f"S2A_MSIL2A_20170613T101031_{60 + i}_39"
        patch = make_patch(i, s1, s2, labels_19)
        s1_dir, s2_dir = root / "BigEarthNet-S1-v1.0" / s1, root / "BigEarthNet-v1.0" / s2
        write_images(patch, s1_dir, s2_dir, s2)
        meta = {"labels": labels, "corresponding_s2_patch": s2}
        (s1_dir / f"{s1}_labels_metadata.json").write_text(json.dumps(meta))
        (s2_dir / f"{s2}_labels_metadata.json").write_text(json.dumps({"labels": labels}))
        rows[patch.split].append(f"{s2},{s1}\n")
        patches.append(patch)
    for split, lines in rows.items():
        (root / f"bigearthnet-{split}.csv").write_text("".join(lines))
    return patches


def write_bigearthnet_v2(root: Path) -> list[FakePatch]:
    """A BigEarthNet v2 root as torchgeo's ``BigEarthNetV2`` expects it (4 patches)."""
    import pandas as pd

    patches, records = [], []
    for i, labels in enumerate(V2_LABELS):
        s1_tile = "S1A_IW_GRDH_1SDV_20170613T165043"
        s2_tile = "S2A_MSIL2A_20170613T101031_N9999_R022_T33UUP"
        s1, s2 = f"{s1_tile}_33UUP_{60 + i}_39", f"{s2_tile}_{26 + i}_57"
        patch = make_patch(i, s1, s2, [V2_LABELS_19.index(n) for n in labels])
        s2_dir = root / "BigEarthNet-S2" / s2_tile / s2
        write_images(patch, root / "BigEarthNet-S1" / s1_tile / s1, s2_dir, s2)
        codes = np.array([V2_CLC[n] for n in labels], np.uint16)
        ref = np.resize(codes, (120, 120)).astype(np.uint16)  # every label covers some pixels
        write_tif(root / "Reference_Maps" / s2_tile / s2 / f"{s2}_reference_map.tif", ref,
                  patch.bounds[0], patch.bounds[3])  # fmt: skip
        split = {"val": "validation"}.get(patch.split, patch.split)
        s2v1 = f"S2A_MSIL2A_20170613T101031_{60 + i}_39"
        records.append({"patch_id": s2, "labels": labels, "split": split, "country": "Austria",
                        "s1_name": s1, "s2v1_name": s2v1, "contains_seasonal_snow": False,
                        "contains_cloud_or_shadow": False})  # fmt: skip
        patches.append(patch)
    pd.DataFrame.from_records(records).to_parquet(root / "metadata.parquet")
    return patches


V2_LABELS_19 = [
    "Urban fabric", "Industrial or commercial units", "Arable land", "Permanent crops",
    "Pastures", "Complex cultivation patterns",
    "Land principally occupied by agriculture, with significant areas of natural vegetation",
    "Agro-forestry areas", "Broad-leaved forest", "Coniferous forest", "Mixed forest",
    "Natural grassland and sparsely vegetated areas",
    "Moors, heathland and sclerophyllous vegetation", "Transitional woodland, shrub",
    "Beaches, dunes, sands", "Inland wetlands", "Coastal wetlands", "Inland waters",
    "Marine waters",
]  # fmt: skip
