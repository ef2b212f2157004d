"""The multi-task decoder: one light decoder per token stream, fused at feature level.

Each stream's visible tokens are projected to the decoder width, mask tokens fill the
hidden positions, and ``decoder_depth`` :class:`DecoderBlock` s run with every stream
cross-attending to the other one (as the streams were before that layer). A linear
head per modality then predicts every patch's pixels.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from fusionx_lite.attention import DecoderBlock
from fusionx_lite.config import FusionXConfig
from fusionx_lite.encoder import stream_names
from fusionx_lite.patches import sincos_pos_embed


def scatter_tokens(visible: Tensor, ids_keep: Tensor, fill: Tensor, num_patches: int) -> Tensor:
    """Put visible tokens back at their positions and ``fill`` everywhere else.

    ``[N, L_vis, D]``, ``[N, L_vis]``, ``[D]`` -> ``[N, L, D]``.
    """
    n, _, d = visible.shape
    full = fill.to(visible.dtype).expand(n, num_patches, d)  # [N, L, D]
    return full.scatter(1, ids_keep[..., None].expand(-1, -1, d), visible)


class MultiTaskDecoder(nn.Module):
    """Reconstructs each modality's pixels from the encoder's visible tokens."""

    def __init__(self, cfg: FusionXConfig):
        super().__init__()
        self.cfg = cfg
        self.streams = stream_names(cfg)
        d = cfg.decoder_dim
        self.embed = nn.ModuleDict({s: nn.Linear(cfg.embed_dim, d) for s in self.streams})
        self.mask_token = nn.ParameterDict({s: nn.Parameter(torch.zeros(d)) for s in self.streams})
        self.modality_embed = nn.ParameterDict(
            {s: nn.Parameter(torch.zeros(1, 1, d)) for s in self.streams}
        )
        self.layers = nn.ModuleList(
            nn.ModuleDict(
                {s: DecoderBlock(d, cfg.decoder_num_heads, cfg.mlp_ratio) for s in self.streams}
            )
            for _ in range(cfg.decoder_depth)
        )
        self.norm = nn.ModuleDict({s: nn.LayerNorm(d) for s in self.streams})
        p2 = cfg.patch_size**2
        self.head = nn.ModuleDict({m: nn.Linear(d, p2 * cfg.channels(m)) for m in cfg.modalities})

    def forward(
        self, tokens: dict[str, Tensor], ids_keep: dict[str, Tensor], grid: tuple[int, int]
    ) -> dict[str, Tensor]:
        """Predict pixels for every patch.

        Args:
            tokens: stream -> encoder output ``[N, L_vis, D]``.
            ids_keep: stream -> visible positions ``[N, L_vis]``.
            grid: patches along (height, width).

        Returns:
            modality -> ``[N, L, P*P*C]``.
        """
        num_patches = grid[0] * grid[1]
        pos = sincos_pos_embed(self.cfg.decoder_dim, grid)  # [L, D_dec]
        x = {}
        for s, t in tokens.items():
            vis = self.embed[s](t)  # [N, L_vis, D_dec]
            full = scatter_tokens(
                vis, ids_keep[s], self.mask_token[s], num_patches
            )  # [N, L, D_dec]
            x[s] = full + pos.to(full.device, full.dtype) + self.modality_embed[s]
        for layer in self.layers:
            # each stream attends to the other one as it was before this layer
            x = {s: layer[s](xs, self._other(x, s)) for s, xs in x.items()}
        x = {s: self.norm[s](xs) for s, xs in x.items()}
        if "stack" in x:
            return {m: self.head[m](x["stack"]) for m in self.cfg.modalities}
        return {m: self.head[m](x[m]) for m in x}

    @staticmethod
    def _other(x: dict[str, Tensor], stream: str) -> Tensor | None:
        others = [v for s, v in x.items() if s != stream]
        return others[0] if others else None
