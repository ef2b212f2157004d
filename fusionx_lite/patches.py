"""Cutting images into patches, gluing them back, and where each patch sits.

A patch row holds its pixels in (row, column, channel) order, so any channel count works.
"""

from __future__ import annotations

from functools import lru_cache

import torch
from einops import rearrange
from torch import Tensor


def patchify(imgs: Tensor, patch_size: int) -> Tensor:
    """Cut images into flattened square patches.

    Args:
        imgs: ``[N, C, H, W]`` with H and W divisible by ``patch_size``.
        patch_size: P.

    Returns:
        ``[N, L, P*P*C]`` with ``L = (H / P) * (W / P)``, patches in row-major order.
    """
    return rearrange(imgs, "n c (h p1) (w p2) -> n (h w) (p1 p2 c)", p1=patch_size, p2=patch_size)


def unpatchify(
    patches: Tensor, patch_size: int, channels: int, grid: tuple[int, int] | None = None
) -> Tensor:
    """Inverse of :func:`patchify`.

    Args:
        patches: ``[N, L, P*P*C]``.
        patch_size: P.
        channels: C.
        grid: patches along (height, width); a square grid when omitted.

    Returns:
        ``[N, C, H, W]``.
    """
    n, num_patches, size = patches.shape
    if size != patch_size * patch_size * channels:
        raise ValueError(
            f"patches have {size} values each, expected patch_size**2 * channels = "
            f"{patch_size}**2 * {channels} = {patch_size * patch_size * channels}"
        )
    if grid is None:
        side = int(round(num_patches**0.5))
        if side * side != num_patches:
            raise ValueError(f"{num_patches} patches are not a square grid; pass grid=(h, w)")
        grid = (side, side)
    h, w = grid
    return rearrange(
        patches,
        "n (h w) (p1 p2 c) -> n c (h p1) (w p2)",
        h=h,
        w=w,
        p1=patch_size,
        p2=patch_size,
        c=channels,
    )


@lru_cache(maxsize=32)
def sincos_pos_embed(dim: int, grid: tuple[int, int]) -> Tensor:
    """Fixed 2D sine-cosine position embedding, as in MAE.

    Half of the channels encode the row, half the column; each half is sin and cos at
    ``dim / 4`` frequencies spaced geometrically from 1 to 1/10000.

    Args:
        dim: D, divisible by 4.
        grid: patches along (height, width).

    Returns:
        ``[L, D]`` in the row-major patch order of :func:`patchify`; cached, so treat it
        as read-only.
    """
    if dim % 4:
        raise ValueError(f"position embedding width must be divisible by 4, got {dim}")
    h, w = grid
    rows, cols = torch.meshgrid(
        torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij"
    )
    freqs = 1.0 / 10000 ** (torch.arange(dim // 4, dtype=torch.float64) / (dim // 4))  # [D/4]

    def encode(pos: Tensor) -> Tensor:
        angles = pos.reshape(-1, 1) * freqs  # [L, D/4]
        return torch.cat([angles.sin(), angles.cos()], dim=1)  # [L, D/2]

    return torch.cat([encode(rows), encode(cols)], dim=1).float()  # [L, D]
