"""FusionXMAE: a masked autoencoder that fuses Sentinel-1 SAR and Sentinel-2 optical.

The forward pass is four stages, each a method below, as in MAE's ``models_mae.py``:
``make_masks`` -> ``forward_encoder`` (visible tokens only) -> ``forward_decoder``
(every patch of every modality) -> ``forward_loss`` (hidden patches only).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from fusionx_lite import masking
from fusionx_lite.config import STRATEGIES, FusionXConfig, check_choice, check_mask_ratio
from fusionx_lite.decoder import MultiTaskDecoder
from fusionx_lite.encoder import FusionEncoder
from fusionx_lite.patches import patchify, unpatchify


@dataclass
class FusionXOutput:
    """What one forward pass returns. Tensors of an absent modality are None."""

    loss: Tensor  # weighted sum of the per-modality losses, a scalar
    loss_sar: Tensor | None  # MSE over hidden SAR patches
    loss_optical: Tensor | None  # MSE over hidden optical patches
    pred_sar: Tensor | None  # [N, L, P*P*C_sar], every patch
    pred_optical: Tensor | None  # [N, L, P*P*C_opt], every patch
    mask_sar: Tensor | None  # bool [N, L], True = hidden
    mask_optical: Tensor | None  # bool [N, L], True = hidden


class FusionXMAE(nn.Module):
    """Cross-attention fusion MAE for paired SAR and optical patches.

    Args:
        cfg: the model's configuration (see :class:`FusionXConfig` and its presets).
    """

    def __init__(self, cfg: FusionXConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = FusionEncoder(cfg)
        self.decoder = MultiTaskDecoder(cfg)
        self.apply(_init_weights)
        for param in [
            *self.encoder.modality_embed.values(),
            *self.decoder.modality_embed.values(),
            *self.decoder.mask_token.values(),
        ]:
            nn.init.normal_(param, std=0.02)

    # ------------------------------------------------------------- patches
    def patchify(self, imgs: Tensor) -> Tensor:
        """``[N, C, H, W]`` -> ``[N, L, P*P*C]``."""
        return patchify(imgs, self.cfg.patch_size)

    def unpatchify(
        self, patches: Tensor, channels: int, grid: tuple[int, int] | None = None
    ) -> Tensor:
        """``[N, L, P*P*C]`` -> ``[N, C, H, W]``."""
        return unpatchify(patches, self.cfg.patch_size, channels, grid)

    # -------------------------------------------------------------- stages
    def make_masks(
        self,
        n: int,
        num_patches: int,
        mask_ratio: float,
        strategy: str,
        generator: torch.Generator | None,
        device,
    ) -> dict[str, Tensor]:
        """One bool ``[N, L]`` mask per modality (True = hidden)."""
        mods = self.cfg.modalities
        if len(mods) == 1:
            return {mods[0]: masking.random_mask(n, num_patches, mask_ratio, generator, device)}
        mask_sar, mask_optical = masking.make_masks(
            n, num_patches, mask_ratio, strategy, generator, device
        )
        return {"sar": mask_sar, "optical": mask_optical}

    def forward_encoder(
        self,
        images: dict[str, Tensor],
        masks: dict[str, Tensor] | None,
        return_weights: bool = False,
    ):
        """Encode visible tokens: modality -> ``[N, L_vis, D]`` (see :class:`FusionEncoder`).

        Returns the tokens per stream and the visible positions per stream ``[N, L_vis]``.
        """
        streams = self._streams(images)
        ids_keep = None
        if masks is not None:
            # concat has one stream; its mask is the (consistent) mask of either modality
            ids_keep = {
                s: masking.mask_to_ids(masks[s if s in masks else self.cfg.modalities[0]])
                for s in streams
            }
        out = self.encoder(streams, ids_keep, return_weights)
        return out, ids_keep

    def forward_decoder(
        self, tokens: dict[str, Tensor], ids_keep: dict[str, Tensor], grid: tuple[int, int]
    ) -> dict[str, Tensor]:
        """Predict every patch: modality -> ``[N, L, P*P*C]``."""
        return self.decoder(tokens, ids_keep, grid)

    def forward_loss(self, imgs: Tensor, pred: Tensor, mask: Tensor) -> Tensor:
        """Mean squared error over hidden patches only.

        Args:
            imgs: ``[N, C, H, W]`` targets.
            pred: ``[N, L, P*P*C]`` predictions.
            mask: bool ``[N, L]``, True = hidden (counted in the loss).
        """
        target = self.patchify(imgs)  # [N, L, P*P*C]
        if self.cfg.norm_pix_loss:
            mean = target.mean(dim=-1, keepdim=True)
            var = target.var(dim=-1, keepdim=True)
            target = (target - mean) / (var + 1e-6) ** 0.5
        per_patch = ((pred - target) ** 2).mean(dim=-1)  # [N, L]
        mask = mask.to(per_patch.dtype)
        return (per_patch * mask).sum() / mask.sum().clamp(min=1.0)

    def forward(
        self,
        sar: Tensor | None,
        optical: Tensor | None,
        mask_ratio: float | None = None,
        strategy: str | None = None,
        generator: torch.Generator | None = None,
    ) -> FusionXOutput:
        """Mask, encode, decode and score a batch.

        Args:
            sar: ``[N, C_sar, H, W]`` (ignored by an optical-only model).
            optical: ``[N, C_opt, H, W]`` (ignored by a SAR-only model).
            mask_ratio: fraction of patches hidden per modality; ``cfg.mask_ratio`` if None.
            strategy: ``"consistent"`` or ``"independent"``; ``cfg.strategy`` if None.
            generator: seeded CPU ``torch.Generator`` for reproducible masks.
        """
        cfg = self.cfg
        mask_ratio = check_mask_ratio(cfg.mask_ratio if mask_ratio is None else mask_ratio)
        strategy = cfg.strategy if strategy is None else strategy
        check_choice("strategy", strategy, STRATEGIES)
        if cfg.fusion == "concat" and strategy == "independent":
            raise ValueError(
                "strategy='independent' is impossible with fusion='concat' "
                "(one stacked token per position); use 'consistent'"
            )
        images = self._check_inputs(sar, optical, require_all=True)
        first = next(iter(images.values()))
        n, grid = first.shape[0], self._grid(first)
        masks = self.make_masks(n, grid[0] * grid[1], mask_ratio, strategy, generator, first.device)
        tokens, ids_keep = self.forward_encoder(images, masks)
        preds = self.forward_decoder(tokens, ids_keep, grid)
        losses = {m: self.forward_loss(images[m], preds[m], masks[m]) for m in cfg.modalities}
        weights = {"sar": cfg.loss_weight_sar, "optical": cfg.loss_weight_optical}
        total = sum(weights[m] * losses[m] for m in cfg.modalities)
        return FusionXOutput(
            loss=total,
            loss_sar=losses.get("sar"),
            loss_optical=losses.get("optical"),
            pred_sar=preds.get("sar"),
            pred_optical=preds.get("optical"),
            mask_sar=masks.get("sar"),
            mask_optical=masks.get("optical"),
        )

    # ------------------------------------------------------------ features
    def encode(self, sar: Tensor | None = None, optical: Tensor | None = None) -> Tensor:
        """Pooled features of unmasked images: the mean of all encoder tokens, ``[N, D]``.

        Either modality may be missing (None): under ``fusion="concat"`` its channels are
        filled with zeros (the dataset mean after standardisation); otherwise its stream
        is left out and the fusion blocks skip their cross-attention.
        """
        images = self._check_inputs(sar, optical, require_all=False)
        tokens, _ = self.forward_encoder(images, masks=None)
        return torch.cat(list(tokens.values()), dim=1).mean(dim=1)  # [N, D]

    @torch.no_grad()
    def attention_maps(
        self,
        sar: Tensor,
        optical: Tensor,
        mask_ratio: float = 0.0,
        strategy: str | None = None,
        generator: torch.Generator | None = None,
    ) -> dict[str, Tensor]:
        """Cross-attention weights of the fusion blocks, for visualisation.

        Returns:
            ``"sar_to_optical"``: ``[B, N, heads, L_vis_sar, L_vis_opt]`` (B fusion blocks;
            row q says which optical patches SAR patch q looks at), ``"optical_to_sar"`` the
            other way round, and ``"mask_sar"``, ``"mask_optical"`` (bool ``[N, L]``) and
            ``"ids_sar"``, ``"ids_optical"`` (visible positions ``[N, L_vis]``).
        """
        if self.cfg.fusion != "cross" or len(self.cfg.modalities) != 2 or not self.cfg.cross_depth:
            raise ValueError(
                "attention_maps needs fusion='cross', both modalities and "
                f"cross_depth >= 1; this model has fusion={self.cfg.fusion!r}, "
                f"modalities={self.cfg.modalities}, cross_depth={self.cfg.cross_depth}"
            )
        strategy = self.cfg.strategy if strategy is None else strategy
        images = self._check_inputs(sar, optical, require_all=True)
        grid = self._grid(sar)
        masks = self.make_masks(
            sar.shape[0], grid[0] * grid[1], mask_ratio, strategy, generator, sar.device
        )
        (_, weights), ids_keep = self.forward_encoder(images, masks, return_weights=True)
        return {
            "sar_to_optical": torch.stack([w["sar_to_optical"] for w in weights]),
            "optical_to_sar": torch.stack([w["optical_to_sar"] for w in weights]),
            "mask_sar": masks["sar"],
            "mask_optical": masks["optical"],
            "ids_sar": ids_keep["sar"],
            "ids_optical": ids_keep["optical"],
        }

    # ------------------------------------------------------------- helpers
    def _grid(self, img: Tensor) -> tuple[int, int]:
        return img.shape[-2] // self.cfg.patch_size, img.shape[-1] // self.cfg.patch_size

    def _streams(self, images: dict[str, Tensor]) -> dict[str, Tensor]:
        """Modality images -> encoder stream inputs (stacks channels for concat)."""
        if self.cfg.fusion != "concat":
            return images
        ref = next(iter(images.values()))
        parts = []
        for m in self.cfg.modalities:
            if m in images:
                parts.append(images[m])
            else:
                n, _, h, w = ref.shape
                parts.append(ref.new_zeros(n, self.cfg.channels(m), h, w))
        return {"stack": torch.cat(parts, dim=1)}  # [N, C_sar + C_opt, H, W]

    def _check_inputs(
        self, sar: Tensor | None, optical: Tensor | None, require_all: bool
    ) -> dict[str, Tensor]:
        """Validate the inputs the model uses; return modality -> image."""
        given = {"sar": sar, "optical": optical}
        images = {m: given[m] for m in self.cfg.modalities if given[m] is not None}
        missing = [m for m in self.cfg.modalities if given[m] is None]
        if require_all and missing:
            raise ValueError(
                f"{missing[0]} is required: this model uses modalities "
                f"{self.cfg.modalities} (pass a [N, C, H, W] tensor)"
            )
        if not images:
            raise ValueError(
                f"give at least one of {self.cfg.modalities} "
                "(sar=[N, C_sar, H, W] or optical=[N, C_opt, H, W])"
            )
        for m, x in images.items():
            check_image(m, x, self.cfg.channels(m), self.cfg.patch_size)
        shapes = {m: (x.shape[0], *x.shape[-2:]) for m, x in images.items()}
        if len(set(shapes.values())) > 1:
            raise ValueError(
                "sar and optical must have the same batch size and spatial size "
                f"[N, H, W], got sar {list(shapes['sar'])} and optical "
                f"{list(shapes['optical'])}"
            )
        return images


def check_image(name: str, x: Tensor, channels: int, patch_size: int) -> None:
    """Raise a ``ValueError`` naming ``name`` unless ``x`` is a finite ``[N, C, H, W]``
    tensor with ``channels`` channels and sides divisible by ``patch_size``."""
    if not isinstance(x, Tensor) or x.ndim != 4:
        shape = list(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"{name} must be a tensor [N, C, H, W], got {shape}")
    if x.shape[1] != channels:
        raise ValueError(
            f"{name} must have {channels} channels (cfg.{name}_channels), "
            f"got {x.shape[1]} in shape {list(x.shape)}"
        )
    h, w = x.shape[-2:]
    if h % patch_size or w % patch_size:
        raise ValueError(
            f"{name} height and width must be divisible by patch_size="
            f"{patch_size}, got {h} x {w}; crop or resize the image"
        )
    if not torch.isfinite(x).all():
        raise ValueError(
            f"{name} contains NaN or infinite values; fill no-data pixels "
            "(e.g. with 0 after standardisation) before calling the model"
        )


def _init_weights(module: nn.Module) -> None:
    if isinstance(module, nn.Linear):
        nn.init.xavier_uniform_(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)
