"""The six real BigEarthNet v1 patch pairs shipped with ``bigearthnet-common``.

The PyPI package ``bigearthnet-common`` (Apache-2.0; data CDLA-Permissive-1.0) bundles
``BigEarthNet-S1-Example.tar.bz2`` and ``BigEarthNet-S2-Example.tar.bz2``: six
Sentinel-1 / Sentinel-2 pairs from Austria, Ireland, Portugal and Finland (2017-2018).
:func:`bundled_bigearthnet_root` lays them out as a torchgeo BigEarthNet v1 root and
:class:`BundledBigEarthNet` reads them through torchgeo, like the full dataset.

Split lists follow the official BigEarthNet-MM lists shipped in the same package: four
patches are in ``train``, one in ``test``. The sixth
(``S2B_MSIL2A_20180204T94161_57_38``, Finland, February) is left out of the official
lists because of seasonal snow; the bundled root lists it under ``val`` so that all six
can be read (the official ``val`` list has none of the six).
"""

from __future__ import annotations

import bz2
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import torch
from torch import Tensor
from torch.utils.data import Dataset

from fusionx_lite.data.bigearthnet import BigEarthNetPairs

PACKAGE = "bigearthnet_common"
ARCHIVES = {"s1": "BigEarthNet-S1-Example", "s2": "BigEarthNet-S2-Example"}
TORCHGEO_DIRS = {"s1": "BigEarthNet-S1-v1.0", "s2": "BigEarthNet-v1.0"}
SPLITS = ("train", "val", "test")


def default_cache_dir() -> Path:
    """``$FUSIONX_CACHE`` or ``$XDG_CACHE_HOME/fusionx_lite`` or ``~/.cache/fusionx_lite``."""
    if "FUSIONX_CACHE" in os.environ:
        return Path(os.environ["FUSIONX_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "fusionx_lite"


def _package_file(name: str) -> Path:
    try:
        path = Path(str(resources.files(PACKAGE) / name))
    except ModuleNotFoundError as err:
        raise ModuleNotFoundError(
            "the bundled real samples come from the bigearthnet-common package: "
            "pip install bigearthnet-common"
        ) from err
    if not path.is_file():
        raise FileNotFoundError(f"{name} is missing from the installed {PACKAGE} package")
    return path


def _official_split(s2_name: str) -> str:
    """The official split of a patch, or "val" for the snow-excluded one (see module doc)."""
    for split in ("train", "val", "test"):
        with bz2.open(_package_file(f"{split}.csv.bz2"), "rt") as f:
            if s2_name in {line.strip().split(",")[0] for line in f}:
                return split
    return "val"


def _lay_out(tmp: Path) -> None:
    """Extract both archives into ``tmp`` as a torchgeo v1 root and write the split CSVs."""
    for key, archive in ARCHIVES.items():
        with tarfile.open(_package_file(f"{archive}.tar.bz2")) as tar:
            tar.extractall(tmp, filter="data")
        os.replace(tmp / archive, tmp / TORCHGEO_DIRS[key])
    rows: dict[str, list[str]] = {split: [] for split in SPLITS}
    for s1_dir in sorted((tmp / TORCHGEO_DIRS["s1"]).iterdir()):
        meta = json.loads(next(s1_dir.glob("*_labels_metadata.json")).read_text())
        s2_name = meta["corresponding_s2_patch"]
        rows[_official_split(s2_name)].append(f"{s2_name},{s1_dir.name}")
    for split, lines in rows.items():
        (tmp / f"bigearthnet-{split}.csv").write_text("".join(line + "\n" for line in lines))


def bundled_bigearthnet_root(cache_dir: str | Path | None = None) -> Path:
    """Lay out the six bundled patch pairs as a torchgeo BigEarthNet v1 root.

    Extraction happens once (about 10 MB); later calls return the cached folder.

    Args:
        cache_dir: parent folder of the root (default :func:`default_cache_dir`).

    Returns:
        The root, ``<cache_dir>/bigearthnet-bundled``, ready for
        ``torchgeo.datasets.BigEarthNet(root, bands="all")``.
    """
    parent = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    root = parent / "bigearthnet-bundled"
    if (root / "bigearthnet-test.csv").is_file():
        return root
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".bundled-", dir=parent))
    try:
        _lay_out(tmp)
        os.replace(tmp, root)  # atomic: a half-written root is never seen
    except OSError:
        if not (root / "bigearthnet-test.csv").is_file():  # not a lost race with another process
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root


class BundledBigEarthNet(Dataset):
    """The six bundled real patch pairs in the kit's sample format.

    Args:
        split: "all" (the six patches), or "train" (4), "val" (1), "test" (1).
        img_size: side of the returned images (center crop of the 120 px patches).
        cache_dir: where to lay out the torchgeo root (see :func:`bundled_bigearthnet_root`).
        optical_bands: Sentinel-2 bands to keep (default all 12).
        **kwargs: ``fit`` and ``precise_sar`` of :class:`BigEarthNetPairs`.

    Raises:
        ValueError: for an unknown split or an impossible image size.
    """

    def __init__(
        self,
        split: str = "all",
        img_size: int = 64,
        cache_dir: str | Path | None = None,
        optical_bands: Sequence[str] | None = None,
        **kwargs: object,
    ) -> None:
        if split not in ("all", *SPLITS):
            raise ValueError(f"split must be one of ('all', 'train', 'val', 'test'), got {split!r}")
        self.root = bundled_bigearthnet_root(cache_dir)
        splits = SPLITS if split == "all" else (split,)
        parts = [
            BigEarthNetPairs(self.root, 1, s, img_size, optical_bands, **kwargs) for s in splits
        ]
        self.parts = [p for p in parts if len(p)]
        self._where = [(p, i) for p in self.parts for i in range(len(p))]
        first = parts[0]
        self.class_names, self.num_classes = first.class_names, first.num_classes
        self.optical_bands, self.sar_bands = first.optical_bands, first.sar_bands

    def __len__(self) -> int:
        return len(self._where)

    def __getitem__(self, index: int) -> dict[str, Tensor | str]:
        part, i = self._where[index]
        return part[i]

    def labels(self) -> Tensor:
        """All labels ``[6, 19]`` (or of the chosen split) without reading images."""
        return torch.cat([p.labels() for p in self.parts])

    def patch_id(self, index: int) -> str:
        """The Sentinel-2 patch name of one sample."""
        part, i = self._where[index]
        return part.patch_id(i)
