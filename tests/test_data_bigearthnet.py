"""BigEarthNet v1 and v2 read through torchgeo and our adapter, on fake roots."""

import shutil

import pytest
import torch
from fakedata import CRS, S2_BANDS, write_bigearthnet_v1, write_bigearthnet_v2
from torch.utils.data import DataLoader

from fusionx_lite.data import build_dataset, denormalize_optical, denormalize_sar
from fusionx_lite.data.bigearthnet import BigEarthNetPairs


@pytest.fixture(scope="module")
def v1(tmp_path_factory):
    root = tmp_path_factory.mktemp("ben-v1")
    return root, write_bigearthnet_v1(root)


@pytest.fixture(scope="module")
def v2(tmp_path_factory):
    pytest.importorskip("pyarrow")  # BigEarthNetV2 reads its metadata with pandas + pyarrow
    root = tmp_path_factory.mktemp("ben-v2")
    return root, write_bigearthnet_v2(root)


def test_torchgeo_itself_gives_vh_before_vv_and_whole_db(v1):
    from torchgeo.datasets import BigEarthNet

    root, patches = v1
    image = BigEarthNet(root=str(root), split="train", bands="all")[0]["image"]
    assert image.shape == (14, 120, 120)
    assert image[0, 0, 0] == round(patches[0].vh) and image[1, 0, 0] == round(patches[0].vv)


@pytest.mark.parametrize("version", [1, 2])
def test_adapter_gives_vv_vh_order_normalisation_labels_and_footprint(version, v1, v2):
    root, patches = v1 if version == 1 else v2
    source = "bigearthnet" if version == 1 else "bigearthnet-v2"
    ds = build_dataset(source, root=root, split="train", img_size=64)
    train = [p for p in patches if p.split == "train"]
    assert len(ds) == len(train) == 2 and ds.num_classes == 19 and ds.sar_bands == ["VV", "VH"]
    for i, patch in enumerate(train):
        s = ds[i]
        assert s["sar"].shape == (2, 64, 64) and s["optical"].shape == (12, 64, 64)
        db = denormalize_sar(s["sar"])
        torch.testing.assert_close(db[0], torch.full((64, 64), patch.vv), atol=1e-4, rtol=0)
        torch.testing.assert_close(db[1], torch.full((64, 64), patch.vh), atol=1e-4, rtol=0)
        dn = denormalize_optical(s["optical"]) * 10000  # [12, 64, 64]
        expected = torch.tensor([float(patch.s2_dn[b]) for b in S2_BANDS])
        torch.testing.assert_close(dn.mean((1, 2)), expected, atol=0.05, rtol=0)
        assert s["label"].nonzero().flatten().tolist() == patch.labels_19
        minx, miny, maxx, maxy = patch.bounds  # 1200 m; the 64 px crop starts 28 px in
        expected_bounds = [minx + 280, miny + 280, minx + 280 + 640, maxy - 280]
        assert s["bounds"].tolist() == pytest.approx(expected_bounds)
        assert s["crs"] == CRS


def test_torchgeo_rounded_sar_is_available(v1):
    root, patches = v1
    ds = BigEarthNetPairs(root, version=1, split="train", img_size=32, precise_sar=False)
    db = denormalize_sar(ds[0]["sar"])
    assert db[0, 0, 0].item() == pytest.approx(round(patches[0].vv), abs=1e-4)
    assert db[1, 0, 0].item() == pytest.approx(round(patches[0].vh), abs=1e-4)


def test_resize_keeps_the_whole_footprint_and_band_subsets_work(v2):
    root, patches = v2
    ds = build_dataset("bigearthnet-v2", root=root, split="val", img_size=160, fit="resize",
                       optical_bands=["B08", "B04"])  # fmt: skip
    s = ds[0]
    assert s["optical"].shape == (2, 160, 160) and ds.optical_bands == ["B08", "B04"]
    assert s["bounds"].tolist() == pytest.approx(patches[2].bounds)
    dn = denormalize_optical(s["optical"], ["B08", "B04"]).mean((1, 2)) * 10000
    assert dn.tolist() == pytest.approx([patches[2].s2_dn["B08"], patches[2].s2_dn["B04"]], abs=0.1)


@pytest.mark.parametrize("version", [1, 2])
def test_labels_fast_path_matches_samples_and_batches_collate(version, v1, v2):
    root = (v1 if version == 1 else v2)[0]
    ds = BigEarthNetPairs(root, version=version, split="train", img_size=32)
    assert torch.equal(ds.labels(), torch.stack([ds[i]["label"] for i in range(len(ds))]))
    batch = next(iter(DataLoader(ds, batch_size=2)))
    assert batch["sar"].shape == (2, 2, 32, 32) and batch["crs"] == [CRS, CRS]
    assert batch["bounds"].dtype == torch.float64


def test_length_keeps_the_name_attributes(v1):
    ds = build_dataset("bigearthnet", root=v1[0], split="train", length=1)
    assert len(ds) == 1 and ds.num_classes == 19 and len(ds.optical_bands) == 12


@pytest.mark.parametrize("version", [1, 2])
def test_missing_root_names_the_download_command(version, tmp_path):
    source = "bigearthnet" if version == 1 else "bigearthnet-v2"
    with pytest.raises(FileNotFoundError, match=f"download_bigearthnet.py --version {version}"):
        build_dataset(source, root=tmp_path / "nothing")
    with pytest.raises(ValueError, match="root is required"):
        build_dataset(source)


def test_incomplete_root_names_what_is_missing(v1, tmp_path):
    root = tmp_path / "partial"
    shutil.copytree(v1[0], root)
    (root / "bigearthnet-val.csv").unlink()
    shutil.rmtree(root / "BigEarthNet-S1-v1.0")
    with pytest.raises(FileNotFoundError, match="BigEarthNet-S1-v1.0, bigearthnet-val.csv"):
        build_dataset("bigearthnet", root=root)


def test_bad_image_size_fit_split_and_source_are_clear_errors(v1):
    root = v1[0]
    with pytest.raises(ValueError, match=r"img_size must be <= 120 .*fit='resize'"):
        build_dataset("bigearthnet", root=root, img_size=128)
    with pytest.raises(ValueError, match="fit must be one of"):
        build_dataset("bigearthnet", root=root, fit="pad")
    with pytest.raises(ValueError, match="split must be one of"):
        build_dataset("bigearthnet", root=root, split="validation")
    with pytest.raises(ValueError, match="'synthetic', 'bundled', 'bigearthnet'"):
        build_dataset("sen12ms")
    with pytest.raises(ValueError, match="optical_bands"):
        build_dataset("bigearthnet", root=root, optical_bands=["B13"])
