"""The two masking strategies, as pure functions.

A mask is a bool tensor ``[N, L]``, True where a patch is hidden. Each row hides exactly
``round(mask_ratio * L)`` patches, chosen uniformly at random (MAE's sort-the-noise trick).

* ``"consistent"``: SAR and optical hide the same positions, so the model must
  reconstruct a place it sees in neither sensor.
* ``"independent"``: each modality draws its own mask, so a place hidden in one sensor is
  often visible in the other and cross-modal fusion can fill it in.
"""

from __future__ import annotations

import torch
from torch import Tensor

from fusionx_lite.config import STRATEGIES, check_choice, check_mask_ratio


def num_hidden(num_patches: int, mask_ratio: float) -> int:
    """Patches hidden per row: ``round(mask_ratio * L)``, leaving at least one visible."""
    check_mask_ratio(mask_ratio)
    hidden = round(mask_ratio * num_patches)
    if hidden >= num_patches:
        raise ValueError(
            f"mask_ratio={mask_ratio} hides all {num_patches} patches; "
            f"use mask_ratio < {(num_patches - 0.5) / num_patches:.3f} for this image"
        )
    return hidden


def random_mask(
    batch_size: int,
    num_patches: int,
    mask_ratio: float,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> Tensor:
    """One random mask per row: bool ``[N, L]``, True = hidden."""
    hidden = num_hidden(num_patches, mask_ratio)
    noise = torch.rand(batch_size, num_patches, generator=generator)  # [N, L]
    ids_shuffle = noise.argsort(dim=1)  # [N, L]: a random permutation per row
    mask = torch.zeros(batch_size, num_patches, dtype=torch.bool)
    mask.scatter_(1, ids_shuffle[:, :hidden], True)  # the first `hidden` of each row go
    return mask.to(device) if device is not None else mask


def make_masks(
    batch_size: int,
    num_patches: int,
    mask_ratio: float,
    strategy: str,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> tuple[Tensor, Tensor]:
    """Masks for SAR and optical under a masking strategy.

    Args:
        batch_size: N.
        num_patches: L, patches per modality.
        mask_ratio: fraction hidden, in [0, 1).
        strategy: ``"consistent"`` or ``"independent"``.
        generator: a seeded ``torch.Generator`` (on the CPU) for reproducible masks.
        device: where the masks should live.

    Returns:
        ``(mask_sar, mask_optical)``, each bool ``[N, L]``, True where hidden.

    Raises:
        ValueError: unknown strategy or a mask ratio outside [0, 1).
    """
    check_choice("strategy", strategy, STRATEGIES)
    mask_sar = random_mask(batch_size, num_patches, mask_ratio, generator, device)
    if strategy == "consistent":
        return mask_sar, mask_sar.clone()
    return mask_sar, random_mask(batch_size, num_patches, mask_ratio, generator, device)


def mask_to_ids(mask: Tensor) -> Tensor:
    """Positions of the visible patches, in ascending order: ``[N, L]`` -> ``[N, L_vis]``.

    Every row must hide the same number of patches (true of masks from this module).
    """
    n = mask.shape[0]
    visible = (~mask).sum(dim=1)  # [N]
    if bool((visible != visible[0]).any()):
        raise ValueError("mask rows must hide the same number of patches to gather them")
    return (~mask).nonzero()[:, 1].reshape(n, -1)  # nonzero is row-major, so rows stay sorted
