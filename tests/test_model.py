"""FusionXMAE specifications, on the tiny preset."""

import dataclasses

import pytest
import torch

from fusionx_lite import FusionXConfig, FusionXMAE, patchify, unpatchify
from fusionx_lite.masking import mask_to_ids


def batch(cfg: FusionXConfig, n: int = 4, seed: int = 0, size: int | None = None):
    g = torch.Generator().manual_seed(seed)
    size = size or cfg.img_size
    sar = torch.randn(n, cfg.sar_channels, size, size, generator=g)
    optical = torch.randn(n, cfg.optical_channels, size, size, generator=g)
    return sar, optical


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture
def tiny():
    torch.manual_seed(0)
    return FusionXMAE(FusionXConfig.tiny()).eval()


# ------------------------------------------------------------------ patches
@pytest.mark.parametrize("channels", [1, 2, 4, 12, 13])
def test_patchify_roundtrip_any_channel_count(channels):
    x = torch.randn(2, channels, 24, 16)
    p = patchify(x, 8)
    assert p.shape == (2, 6, 8 * 8 * channels)
    assert torch.equal(unpatchify(p, 8, channels, grid=(3, 2)), x)


def test_patchify_puts_each_patch_in_one_row():
    x = torch.zeros(1, 2, 16, 16)
    x[:, :, 8:, :8] = 1.0  # bottom-left patch = patch index 2 in row-major order
    p = patchify(x, 8)
    assert p[0, 2].eq(1).all() and p[0, [0, 1, 3]].eq(0).all()


# ------------------------------------------------------------------- shapes
@pytest.mark.parametrize("fusion", ["cross", "joint", "concat"])
@pytest.mark.parametrize("preset", ["tiny", "lite", "base"])
def test_output_shapes_for_every_preset_geometry_and_fusion(preset, fusion):
    ref = FusionXConfig.preset(preset)
    # the preset's geometry and channels, on a tiny width so the test stays fast
    cfg = FusionXConfig.tiny(img_size=ref.img_size, patch_size=ref.patch_size, fusion=fusion)
    model = FusionXMAE(cfg)
    sar, optical = batch(cfg, n=2)
    out = model(sar, optical, generator=gen())
    L, P = cfg.num_patches, cfg.patch_size
    assert out.pred_sar.shape == (2, L, P * P * cfg.sar_channels)
    assert out.pred_optical.shape == (2, L, P * P * cfg.optical_channels)
    assert out.mask_sar.shape == out.mask_optical.shape == (2, L)
    assert out.loss.ndim == 0 and torch.isfinite(out.loss)
    assert model.encode(sar, optical).shape == (2, cfg.embed_dim)


@pytest.mark.parametrize("fusion", ["cross", "joint", "concat"])
def test_encode_with_a_missing_modality(fusion):
    cfg = FusionXConfig.tiny(fusion=fusion)
    model = FusionXMAE(cfg)
    sar, optical = batch(cfg)
    assert model.encode(sar=sar).shape == (4, cfg.embed_dim)
    assert model.encode(optical=optical).shape == (4, cfg.embed_dim)
    with pytest.raises(ValueError, match="at least one"):
        model.encode()


@pytest.mark.parametrize("modality", ["sar", "optical"])
def test_single_modality_mae(modality):
    cfg = FusionXConfig.tiny(modalities=(modality,))
    model = FusionXMAE(cfg)
    sar, optical = batch(cfg)
    out = model(sar if modality == "sar" else None, optical if modality == "optical" else None)
    other = "optical" if modality == "sar" else "sar"
    assert getattr(out, f"pred_{other}") is None and getattr(out, f"loss_{other}") is None
    assert torch.allclose(out.loss, getattr(out, f"loss_{modality}"))
    assert model.encode(**{modality: sar if modality == "sar" else optical}).shape == (4, 32)


def test_any_image_size_divisible_by_patch(tiny):
    sar, optical = batch(tiny.cfg, size=48)
    out = tiny(sar, optical)
    assert out.pred_optical.shape == (4, 36, 8 * 8 * 12)


def test_config_roundtrips_through_a_plain_dict():
    cfg = FusionXConfig.lite(fusion="joint", modalities=("optical",))
    assert FusionXConfig.from_dict(cfg.to_dict()) == cfg
    assert FusionXConfig(**dataclasses.asdict(cfg)) == cfg


def test_tiny_preset_matches_its_promise():
    cfg = FusionXConfig.tiny()
    assert (cfg.img_size, cfg.patch_size, cfg.embed_dim, cfg.cross_depth + cfg.depth) == (
        32,
        8,
        32,
        2,
    )


# ----------------------------------------------------------------- the loss
def test_loss_ignores_predictions_at_visible_patches(tiny):
    sar, optical = batch(tiny.cfg)
    out = tiny(sar, optical, generator=gen(1))
    for img, pred, mask in (
        (sar, out.pred_sar, out.mask_sar),
        (optical, out.pred_optical, out.mask_optical),
    ):
        changed = pred.clone()
        changed[~mask] += 100.0  # wreck every visible patch's prediction
        assert torch.allclose(
            tiny.forward_loss(img, changed, mask), tiny.forward_loss(img, pred, mask)
        )
        changed[mask] += 1.0  # ...but hidden patches count
        assert not torch.allclose(
            tiny.forward_loss(img, changed, mask), tiny.forward_loss(img, pred, mask)
        )


def test_loss_is_mse_over_hidden_patches(tiny):
    sar, _ = batch(tiny.cfg)
    pred = torch.zeros(4, 16, 128)
    mask = torch.zeros(4, 16, dtype=torch.bool)
    mask[:, :3] = True
    expected = (patchify(sar, 8)[:, :3] ** 2).mean()
    assert torch.allclose(tiny.forward_loss(sar, pred, mask), expected)


def test_total_loss_is_the_weighted_sum():
    cfg = FusionXConfig.tiny(loss_weight_sar=0.3, loss_weight_optical=2.0)
    out = FusionXMAE(cfg)(*batch(cfg))
    assert torch.allclose(out.loss, 0.3 * out.loss_sar + 2.0 * out.loss_optical)


def test_norm_pix_loss_normalises_targets_per_patch():
    cfg = FusionXConfig.tiny(norm_pix_loss=True)
    model = FusionXMAE(cfg)
    sar, _ = batch(cfg)
    mask = torch.ones(4, 16, dtype=torch.bool)
    # a prediction equal to the per-patch standardised target has zero loss
    target = patchify(sar, 8)
    target = (target - target.mean(-1, keepdim=True)) / (target.var(-1, keepdim=True) + 1e-6) ** 0.5
    assert model.forward_loss(sar, target, mask) < 1e-6
    assert model.forward_loss(sar * 5 + 3, target, mask) < 1e-6  # affine per patch: same target


# ---------------------------------------------------------- visible tokens only
@pytest.mark.parametrize("fusion", ["cross", "joint", "concat"])
@pytest.mark.parametrize("strategy", ["consistent", "independent"])
def test_encoder_never_sees_hidden_patches(fusion, strategy):
    if fusion == "concat" and strategy == "independent":
        pytest.skip("concat has one stream; independent masking is refused")
    torch.manual_seed(0)
    cfg = FusionXConfig.tiny(fusion=fusion, strategy=strategy)
    model = FusionXMAE(cfg).eval()
    sar, optical = batch(cfg)
    masks = model.make_masks(4, cfg.num_patches, 0.75, strategy, gen(3), "cpu")
    tokens, _ = model.forward_encoder({"sar": sar, "optical": optical}, masks)
    # scribble over every hidden patch of both images
    noisy = []
    for img, m in ((sar, masks["sar"]), (optical, masks["optical"])):
        p = patchify(img, 8)
        p[m] = torch.randn_like(p[m]) * 50
        noisy.append(unpatchify(p, 8, img.shape[1]))
    tokens2, _ = model.forward_encoder({"sar": noisy[0], "optical": noisy[1]}, masks)
    for s in tokens:
        assert torch.allclose(tokens[s], tokens2[s], atol=1e-6)
    # and a visible pixel does change the output
    changed = sar.clone()
    ids = mask_to_ids(masks["sar"])
    row, col = divmod(int(ids[0, 0]), cfg.grid_size)
    changed[0, :, row * 8, col * 8] += 10
    tokens3, _ = model.forward_encoder({"sar": changed, "optical": optical}, masks)
    assert not all(torch.allclose(tokens[s], tokens3[s]) for s in tokens)


def test_same_generator_same_output(tiny):
    sar, optical = batch(tiny.cfg)
    a, b = tiny(sar, optical, generator=gen(5)), tiny(sar, optical, generator=gen(5))
    assert torch.equal(a.pred_optical, b.pred_optical) and torch.equal(a.mask_sar, b.mask_sar)


def test_strategy_and_ratio_can_be_overridden_per_call(tiny):
    sar, optical = batch(tiny.cfg)
    out = tiny(sar, optical, mask_ratio=0.5, strategy="independent", generator=gen(0))
    assert (out.mask_sar.sum(1) == 8).all() and not torch.equal(out.mask_sar, out.mask_optical)
    out = tiny(sar, optical, mask_ratio=0.0)
    assert not out.mask_sar.any() and out.loss == 0


# ---------------------------------------------------------------- gradients
def test_gradients_reach_both_patch_embeddings_under_cross():
    cfg = FusionXConfig.tiny(fusion="cross")
    model = FusionXMAE(cfg)
    model(*batch(cfg)).loss_optical.backward()  # the optical loss alone...
    for s in ("sar", "optical"):  # ...trains the SAR embedding too, through cross-attention
        grad = model.encoder.embed[s].proj.weight.grad
        assert grad is not None and grad.abs().sum() > 0


def test_tiny_model_overfits_one_batch():
    torch.manual_seed(0)
    cfg = FusionXConfig.tiny()
    model = FusionXMAE(cfg)
    sar, optical = batch(cfg, n=8)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.0)
    losses = []
    for _ in range(200):
        out = model(sar, optical, generator=gen(0))  # the same mask every step
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        losses.append(out.loss.item())
    assert sum(losses[-10:]) / 10 < 0.5 * sum(losses[:5]) / 5


# ------------------------------------------------------------- attention maps
def test_attention_maps_are_distributions(tiny):
    sar, optical = batch(tiny.cfg, n=2)
    maps = tiny.attention_maps(sar, optical)
    heads, L = tiny.cfg.num_heads, tiny.cfg.num_patches
    assert maps["sar_to_optical"].shape == (1, 2, heads, L, L)
    assert torch.allclose(maps["optical_to_sar"].sum(-1), torch.ones(1, 2, heads, L))
    masked = tiny.attention_maps(sar, optical, mask_ratio=0.75, generator=gen(0))
    assert masked["sar_to_optical"].shape == (1, 2, heads, 4, 4)


def test_attention_maps_match_the_fast_path(tiny):
    """The explicit softmax used for visualisation computes what SDPA computes."""
    attn = tiny.encoder.fusion_blocks[0].sar_from_optical.attn
    x, ctx = torch.randn(2, 5, 32), torch.randn(2, 7, 32)
    fast = attn(x, ctx)
    slow, weights = attn(x, ctx, return_weights=True)
    assert torch.allclose(fast, slow, atol=1e-5) and weights.shape == (2, 2, 5, 7)


def test_attention_maps_need_cross_fusion():
    with pytest.raises(ValueError, match="fusion='cross'"):
        FusionXMAE(FusionXConfig.tiny(fusion="joint")).attention_maps(*batch(FusionXConfig.tiny()))
