"""Attention and the transformer blocks built from it.

One :class:`Attention` serves both self-attention (``context=None``) and cross-attention
(queries from ``x``, keys and values from ``context``), as in vit-pytorch's CrossViT.
"""

from __future__ import annotations

import torch.nn.functional as F
from einops import rearrange
from torch import Tensor, nn


class MLP(nn.Sequential):
    """Linear -> GELU -> Linear, widening by ``mlp_ratio`` in between."""

    def __init__(self, dim: int, mlp_ratio: float = 4.0):
        hidden = int(dim * mlp_ratio)
        super().__init__(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))


class Attention(nn.Module):
    """Multi-head attention; cross-attention when a ``context`` is given."""

    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        self.num_heads = num_heads
        self.to_q = nn.Linear(dim, dim)
        self.to_kv = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(
        self, x: Tensor, context: Tensor | None = None, return_weights: bool = False
    ) -> Tensor | tuple[Tensor, Tensor]:
        """Attend from ``x`` ``[N, Lq, D]`` to ``context`` ``[N, Lk, D]`` (``x`` itself if None).

        Returns ``[N, Lq, D]``, and the weights ``[N, heads, Lq, Lk]`` if asked for.
        """
        context = x if context is None else context
        q = rearrange(self.to_q(x), "n l (h d) -> n h l d", h=self.num_heads)  # [N, h, Lq, d]
        k, v = rearrange(
            self.to_kv(context), "n l (two h d) -> two n h l d", two=2, h=self.num_heads
        )  # each [N, h, Lk, d]
        if return_weights:  # the explicit form, only for visualisation
            weights = (q @ k.transpose(-2, -1) * q.shape[-1] ** -0.5).softmax(dim=-1)
            out = weights @ v  # [N, h, Lq, d]
        else:
            out = F.scaled_dot_product_attention(q, k, v)  # [N, h, Lq, d]
        out = self.proj(rearrange(out, "n h l d -> n l (h d)"))  # [N, Lq, D]
        return (out, weights) if return_weights else out


class Block(nn.Module):
    """Pre-norm transformer block: self-attention then MLP, each with a residual."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = MLP(dim, mlp_ratio)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.norm1(x))  # [N, L, D]
        return x + self.mlp(self.norm2(x))


class CrossBlock(nn.Module):
    """Cross-attention from one token stream to another, then MLP, each with a residual.

    Without a context (a missing modality) only the MLP step runs.
    """

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0):
        super().__init__()
        self.norm_q = nn.LayerNorm(dim)
        self.norm_kv = nn.LayerNorm(dim)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = MLP(dim, mlp_ratio)

    def forward(
        self, x: Tensor, context: Tensor | None, return_weights: bool = False
    ) -> Tensor | tuple[Tensor, Tensor | None]:
        weights = None
        if context is not None:
            attended = self.attn(self.norm_q(x), self.norm_kv(context), return_weights)
            if return_weights:
                attended, weights = attended
            x = x + attended  # [N, Lq, D]
        x = x + self.mlp(self.norm2(x))
        return (x, weights) if return_weights else x


class FusionBlock(nn.Module):
    """Bidirectional cross-attention fusion: SAR queries optical and optical queries SAR.

    Both directions read the streams as they entered the block, so the order of the two
    updates does not matter. Each direction has its own weights, residual and MLP.
    """

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0):
        super().__init__()
        self.sar_from_optical = CrossBlock(dim, num_heads, mlp_ratio)
        self.optical_from_sar = CrossBlock(dim, num_heads, mlp_ratio)

    def forward(self, sar: Tensor | None, optical: Tensor | None, return_weights: bool = False):
        """Update ``sar`` ``[N, L_s, D]`` and ``optical`` ``[N, L_o, D]``; either may be None.

        Returns ``(sar, optical)``, plus ``{"sar_to_optical", "optical_to_sar"}`` weights
        ``[N, heads, Lq, Lk]`` when ``return_weights``.
        """
        weights = {}
        new_sar = new_optical = None
        if sar is not None:
            new_sar = self.sar_from_optical(sar, optical, return_weights)
            if return_weights:
                new_sar, weights["sar_to_optical"] = new_sar
        if optical is not None:
            new_optical = self.optical_from_sar(optical, sar, return_weights)
            if return_weights:
                new_optical, weights["optical_to_sar"] = new_optical
        return (new_sar, new_optical, weights) if return_weights else (new_sar, new_optical)


class DecoderBlock(nn.Module):
    """Decoder block of one modality: self-attention, then cross-attention to the other
    modality's decoder stream (feature-level fusion), then MLP: a standard transformer
    decoder layer. Without a context it is a plain :class:`Block`."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.attn = Attention(dim, num_heads)
        self.cross = CrossBlock(dim, num_heads, mlp_ratio)

    def forward(self, x: Tensor, context: Tensor | None) -> Tensor:
        x = x + self.attn(self.norm(x))  # [N, L, D_dec]
        return self.cross(x, context)
