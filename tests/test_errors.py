"""Every bad input gets a ValueError that names the parameter and what is allowed."""

import pytest
import torch

from fusionx_lite import FusionXConfig, FusionXMAE


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"mask_ratio": 1.2}, r"mask_ratio must be in \[0, 1\), got 1.2"),
        ({"mask_ratio": -0.1}, r"mask_ratio must be in \[0, 1\)"),
        ({"strategy": "random"}, r"strategy must be one of \('consistent', 'independent'\)"),
        ({"fusion": "sum"}, r"fusion must be one of \('cross', 'joint', 'concat'\)"),
        ({"modalities": ("lidar",)}, "modalities must be a non-empty subset"),
        ({"modalities": ()}, "modalities must be a non-empty subset"),
        ({"img_size": 30}, r"img_size \(30\) must be divisible by patch_size \(8\)"),
        ({"embed_dim": 36, "num_heads": 8}, "width 36 must be divisible by heads 8"),
        ({"decoder_dim": 30}, "decoder_dim/decoder_num_heads: width must be divisible by 4"),
        ({"depth": 0}, "depth must be a positive integer"),
        ({"fusion": "concat", "strategy": "independent"}, "use strategy='consistent'"),
    ],
)
def test_bad_config(overrides, message):
    with pytest.raises(ValueError, match=message):
        FusionXConfig.tiny(**overrides)


def test_unknown_preset():
    with pytest.raises(ValueError, match=r"preset must be one of \('tiny', 'lite', 'base'\)"):
        FusionXConfig.preset("huge")


def test_unknown_config_field_from_a_dict():
    with pytest.raises(ValueError, match="unknown FusionXConfig fields"):
        FusionXConfig.from_dict({**FusionXConfig.tiny().to_dict(), "dropout": 0.1})


@pytest.fixture(scope="module")
def model():
    return FusionXMAE(FusionXConfig.tiny())


def images(n=2, c_sar=2, c_opt=12, size=32, size_opt=None):
    return torch.randn(n, c_sar, size, size), torch.randn(
        n, c_opt, size_opt or size, size_opt or size
    )


def test_wrong_channel_count_names_the_modality(model):
    sar, optical = images(c_opt=4)
    with pytest.raises(
        ValueError, match=r"optical must have 12 channels \(cfg.optical_channels\), got 4"
    ):
        model(sar, optical)
    sar, optical = images(c_sar=3)
    with pytest.raises(ValueError, match="sar must have 2 channels"):
        model.encode(sar=sar)


def test_different_spatial_sizes(model):
    with pytest.raises(ValueError, match="same batch size and spatial size"):
        model(*images(size=32, size_opt=40))


def test_size_not_divisible_by_patch(model):
    with pytest.raises(ValueError, match="divisible by patch_size=8, got 30 x 30"):
        model(*images(size=30))


def test_not_an_image_batch(model):
    with pytest.raises(ValueError, match=r"sar must be a tensor \[N, C, H, W\], got \[2, 32, 32\]"):
        model(torch.randn(2, 32, 32), images()[1])


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_nan_or_infinite_input(model, bad):
    sar, optical = images()
    optical[0, 3, 5, 5] = bad
    with pytest.raises(ValueError, match="optical contains NaN or infinite values"):
        model(sar, optical)


def test_bad_call_arguments(model):
    sar, optical = images()
    with pytest.raises(ValueError, match=r"mask_ratio must be in \[0, 1\), got 1.0"):
        model(sar, optical, mask_ratio=1.0)
    with pytest.raises(ValueError, match="strategy must be one of"):
        model(sar, optical, strategy="both")
    with pytest.raises(ValueError, match="optical is required"):
        model(sar, None)


def test_independent_masking_refused_for_concat():
    model = FusionXMAE(FusionXConfig.tiny(fusion="concat"))
    with pytest.raises(ValueError, match="use 'consistent'"):
        model(*images(), strategy="independent")
