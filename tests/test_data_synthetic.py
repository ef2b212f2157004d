"""The synthetic world: format, determinism, ground truth, clouds, speckle, physics."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from fusionx_lite.data import (
    OPTICAL_BANDS,
    SyntheticWorld,
    build_dataset,
    denormalize_optical,
    denormalize_sar,
    materialize,
)
from fusionx_lite.data.signatures import LAND_COVERS


@pytest.fixture(scope="module")
def world():
    return SyntheticWorld(length=200, img_size=32, seed=3)


def test_sample_format_matches_the_data_contract(world):
    s = world[0]
    assert set(s) == {"sar", "optical", "label", "cloud"}
    assert s["sar"].shape == (2, 32, 32) and s["optical"].shape == (12, 32, 32)
    assert s["label"].shape == (8,) and s["cloud"].shape == (32, 32)
    assert all(v.dtype == torch.float32 for v in s.values())
    assert world.sar_bands == ["VV", "VH"] and world.optical_bands == OPTICAL_BANDS
    assert world.num_classes == len(world.class_names) == 8
    batch = next(iter(DataLoader(world, batch_size=4)))
    assert batch["optical"].shape == (4, 12, 32, 32)


def test_build_dataset_synthetic_defaults():
    ds = build_dataset("synthetic")
    assert len(ds) == 10_000 and ds.img_size == 64 and ds.split == "train"
    assert len(build_dataset("synthetic", split="val")) == 2_000
    ds = build_dataset("synthetic", img_size=32, length=5, seed=1, cloud_cover=0.0, looks=2.0)
    assert (len(ds), ds.img_size, ds.seed, ds.cloud_cover, ds.looks) == (5, 32, 1, 0.0, 2.0)


def test_same_seed_split_and_index_give_the_same_sample(world):
    again = SyntheticWorld(length=200, img_size=32, seed=3)
    for i in (0, 17):
        a, b = world[i], again[i]
        assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(world[0]["sar"], world[1]["sar"])
    other_seed = SyntheticWorld(length=200, img_size=32, seed=4)
    assert not torch.equal(world[0]["sar"], other_seed[0]["sar"])


def test_splits_draw_from_different_streams():
    worlds = {
        split: SyntheticWorld(20, 32, seed=0, split=split) for split in ("train", "val", "test")
    }
    sars = {split: torch.stack([w[i]["sar"] for i in range(20)]) for split, w in worlds.items()}
    for a, b in (("train", "val"), ("train", "test"), ("val", "test")):
        same = (sars[a][:, None] == sars[b][None]).flatten(2).all(-1)  # [20, 20] identical pairs
        assert not same.any()


def test_labels_are_the_classes_above_the_area_threshold(world):
    for i in range(20):
        cm = world.class_map(i)
        frac = torch.bincount(cm.flatten(), minlength=8).float() / cm.numel()
        assert torch.equal(world[i]["label"], (frac >= world.label_area).float())
    assert torch.equal(world.labels()[:20], torch.stack([world[i]["label"] for i in range(20)]))


def test_every_class_appears(world):
    labels = world.labels()
    assert (labels.sum(0) >= 5).all(), labels.sum(0)


def test_clouds_hide_only_flagged_optical_pixels_and_never_the_radar():
    clear = SyntheticWorld(40, 32, seed=5, cloud_cover=0.0)
    cloudy = SyntheticWorld(40, 32, seed=5, cloud_cover=0.7)
    flagged = 0
    for i in range(40):
        a, b = clear[i], cloudy[i]
        assert torch.equal(a["sar"], b["sar"])
        assert torch.equal(clear.class_map(i), cloudy.class_map(i))
        assert not a["cloud"].any()
        hidden = b["cloud"].bool()
        assert torch.equal(a["optical"][:, ~hidden], b["optical"][:, ~hidden])
        changed = (a["optical"] != b["optical"]).any(0)
        assert not (changed & ~hidden).any() and changed.sum() >= 0.99 * hidden.sum()
        flagged += hidden.sum().item()
    assert 0.5 < flagged / (40 * 32 * 32) < 0.95  # mean cloud 0.7 plus shadows


def test_full_cloud_cover_hides_everything():
    s = SyntheticWorld(3, 32, cloud_cover=1.0)[0]
    assert s["cloud"].all()
    refl = denormalize_optical(s["optical"])
    assert refl[:10].min() > 0.35  # bright and flat in the visible and NIR


@pytest.mark.parametrize("looks", [1.0, 4.4, 16.0])
def test_speckle_coefficient_of_variation_is_one_over_sqrt_looks(looks):
    world = SyntheticWorld(60, 32, seed=1, looks=looks, variability=0.0, cloud_cover=0.0)
    ratios = []
    for i in range(60):
        intensity = 10 ** (denormalize_sar(world[i]["sar"]).double() / 10)  # [2, H, W]
        cm = world.class_map(i)
        for k in cm.unique():
            region = intensity[:, cm == k]  # homogeneous: one class, no texture
            if region.shape[1] >= 100:
                ratios.append(region / region.mean(1, keepdim=True))
    ratios = torch.cat(ratios, 1)
    cv = (ratios.std(1) / ratios.mean(1)).numpy()
    np.testing.assert_allclose(cv, 1 / np.sqrt(looks), rtol=0.04)


def test_flat_world_reproduces_the_signature_tables():
    world = SyntheticWorld(30, 32, seed=2, variability=0.0, cloud_cover=0.0, looks=1e4)
    for i in range(30):
        layers = world.render(i)
        cm = layers["class_map"]
        for k in np.unique(cm):
            lc = LAND_COVERS[k]
            b08 = layers["reflectance"][7][(cm == k)]
            # B08 is a 10 m band: exact away from coarse-band blocks
            np.testing.assert_allclose(np.median(b08), lc.reflectance[7], rtol=1e-4)
            if lc.name != "Water":  # water backscatter carries a per-sample wind term
                vv = layers["sar_db"][0][cm == k]
                assert abs(np.median(vv) - lc.vv_db) < 0.2


def class_statistics(world, n):
    """Mean reflectance [K, 12] and mean VV, VH dB [K, 2] per class over n samples."""
    refl, sar, count = np.zeros((8, 12)), np.zeros((8, 2)), np.zeros(8)
    for i in range(n):
        layers = world.render(i)
        cm = layers["class_map"]
        for k in np.unique(cm):
            m = cm == k
            refl[k] += layers["reflectance"][:, m].sum(1)
            sar[k] += layers["sar_db"][:, m].sum(1)
            count[k] += m.sum()
    return refl / count[:, None], sar / count[:, None]


def test_complementarity_one_pair_per_sensor():
    world = SyntheticWorld(60, 32, seed=0, cloud_cover=0.0)
    refl, sar = class_statistics(world, 60)
    ids = {n: i for i, n in enumerate(world.class_names)}
    urban, soil = ids["Urban fabric"], ids["Bare soil"]
    green, ripe = ids["Green crops"], ids["Ripening cereals"]
    # urban vs bare soil: close optically, far apart in radar
    assert np.abs(refl[urban] - refl[soil]).mean() < 0.05
    assert sar[urban, 0] - sar[soil, 0] > 8
    # two crops: different optically (red and NIR), the same in radar
    assert abs(refl[green, 3] - refl[ripe, 3]) > 0.05 and abs(refl[green, 7] - refl[ripe, 7]) > 0.08
    assert np.abs(sar[green] - sar[ripe]).max() < 1.0


def test_values_look_like_sentinel_data(world):
    batch = next(iter(DataLoader(world, batch_size=50)))
    refl = denormalize_optical(batch["optical"])
    db = denormalize_sar(batch["sar"])
    assert refl.min() >= 0 and refl.max() < 1
    assert -45 < db.min() and db.max() < 25  # the bundled real patches span -38 to +10 dB
    vv, vh = db[:, 0].mean().item(), db[:, 1].mean().item()
    assert -16 < vv < -4 and -24 < vh < -10 and vv > vh


def test_band_subset_is_the_same_bands_of_the_full_world():
    full = SyntheticWorld(5, 32, seed=9)
    sub = SyntheticWorld(5, 32, seed=9, optical_bands=["B8A", "B04", "B01"])
    assert sub.optical_bands == ["B8A", "B04", "B01"]
    for i in range(5):
        expected = full[i]["optical"][[8, 3, 0]]
        torch.testing.assert_close(sub[i]["optical"], expected)


def test_materialize_keeps_samples_within_float16_precision(world):
    small = SyntheticWorld(10, 32, seed=3)
    arrays = materialize(small)
    assert len(arrays) == 10 and arrays.class_names == small.class_names
    torch.testing.assert_close(arrays[4]["optical"], small[4]["optical"], atol=0.01, rtol=0.002)
    assert arrays[4]["optical"].dtype == torch.float32


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"cloud_cover": 1.5}, "cloud_cover"),
        ({"looks": 0}, "looks"),
        ({"split": "dev"}, "split"),
        ({"img_size": 8}, "img_size"),
        ({"length": -1}, "length"),
        ({"label_area": 0}, "label_area"),
        ({"variability": -1}, "variability"),
        ({"optical_bands": ["B04", "B10"]}, "optical_bands"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        SyntheticWorld(**kwargs)


def test_index_out_of_range_is_an_index_error(world):
    with pytest.raises(IndexError, match="out of range"):
        world[200]
