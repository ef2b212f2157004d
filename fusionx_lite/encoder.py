"""The fusion encoder: patch embeddings, positions, modality embeddings and the blocks.

Token streams are named: ``"sar"`` and ``"optical"`` for ``fusion="cross"`` and
``"joint"``, one ``"stack"`` stream (SAR and optical channels stacked) for
``fusion="concat"``. Every design has ``cross_depth + depth`` layers, so comparisons are
made at equal depth: with two modalities and ``fusion="cross"`` the first ``cross_depth``
are :class:`FusionBlock` s, everything else is a shared self-attention :class:`Block`
over all visible tokens of all streams.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from fusionx_lite.attention import Block, FusionBlock
from fusionx_lite.config import FusionXConfig
from fusionx_lite.patches import patchify, sincos_pos_embed


class PatchEmbed(nn.Module):
    """Cut into P x P patches and project each to D: ``[N, C, H, W] -> [N, L, D]``.

    A linear layer on flattened patches is the same map as MAE's stride-P convolution,
    and works for any channel count.
    """

    def __init__(self, channels: int, patch_size: int, dim: int):
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Linear(patch_size * patch_size * channels, dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(patchify(x, self.patch_size))  # [N, L, D]


def stream_names(cfg: FusionXConfig) -> tuple[str, ...]:
    """Token streams of a config: ``("stack",)`` for concat, else its modalities."""
    return ("stack",) if cfg.fusion == "concat" else cfg.modalities


def stream_channels(cfg: FusionXConfig, stream: str) -> int:
    """Input channels of a stream."""
    if stream == "stack":
        return sum(cfg.channels(m) for m in cfg.modalities)
    return cfg.channels(stream)


def gather_tokens(x: Tensor, ids: Tensor) -> Tensor:
    """Keep the tokens at ``ids``: ``[N, L, D]``, ``[N, L_vis]`` -> ``[N, L_vis, D]``."""
    return torch.gather(x, 1, ids[..., None].expand(-1, -1, x.shape[-1]))


class FusionEncoder(nn.Module):
    """Embeds each stream, keeps its visible tokens, and fuses the streams."""

    def __init__(self, cfg: FusionXConfig):
        super().__init__()
        self.cfg = cfg
        self.streams = stream_names(cfg)
        d = cfg.embed_dim
        self.embed = nn.ModuleDict(
            {s: PatchEmbed(stream_channels(cfg, s), cfg.patch_size, d) for s in self.streams}
        )
        self.modality_embed = nn.ParameterDict(
            {s: nn.Parameter(torch.zeros(1, 1, d)) for s in self.streams}
        )
        use_fusion = cfg.fusion == "cross" and len(self.streams) == 2
        num_fusion = cfg.cross_depth if use_fusion else 0
        self.fusion_blocks = nn.ModuleList(
            FusionBlock(d, cfg.num_heads, cfg.mlp_ratio) for _ in range(num_fusion)
        )
        num_self = cfg.cross_depth + cfg.depth - num_fusion
        self.blocks = nn.ModuleList(Block(d, cfg.num_heads, cfg.mlp_ratio) for _ in range(num_self))
        self.norm = nn.LayerNorm(d)

    def embed_tokens(self, images: dict[str, Tensor]) -> dict[str, Tensor]:
        """Patch, position and modality embeddings of every stream: each ``[N, L, D]``."""
        tokens = {}
        for s, img in images.items():
            grid = (img.shape[-2] // self.cfg.patch_size, img.shape[-1] // self.cfg.patch_size)
            pos = sincos_pos_embed(self.cfg.embed_dim, grid).to(img.device, img.dtype)  # [L, D]
            tokens[s] = self.embed[s](img) + pos + self.modality_embed[s]  # [N, L, D]
        return tokens

    def forward(
        self,
        images: dict[str, Tensor],
        ids_keep: dict[str, Tensor] | None = None,
        return_weights: bool = False,
    ):
        """Encode the visible tokens.

        Args:
            images: stream name -> ``[N, C, H, W]``; a stream may be absent (missing modality).
            ids_keep: stream name -> ``[N, L_vis]`` visible positions; all tokens if None.
            return_weights: also return the fusion blocks' attention weights.

        Returns:
            stream name -> ``[N, L_vis, D]`` after the final norm (and a list with one
            weights dict per fusion block when ``return_weights``).
        """
        tokens = self.embed_tokens(images)
        if ids_keep is not None:
            tokens = {s: gather_tokens(x, ids_keep[s]) for s, x in tokens.items()}  # [N, L_vis, D]
        all_weights = []
        for block in self.fusion_blocks:
            out = block(tokens.get("sar"), tokens.get("optical"), return_weights)
            if return_weights:
                all_weights.append(out[2])
            tokens = {
                s: x for s, x in zip(("sar", "optical"), out[:2], strict=True) if x is not None
            }
        names = list(tokens)
        sizes = [tokens[s].shape[1] for s in names]
        x = torch.cat([tokens[s] for s in names], dim=1)  # [N, sum L_vis, D]
        for block in self.blocks:
            x = block(x)
        x = self.norm(x)
        tokens = dict(zip(names, x.split(sizes, dim=1), strict=True))
        return (tokens, all_weights) if return_weights else tokens
