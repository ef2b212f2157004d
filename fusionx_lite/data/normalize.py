"""Band names and the normalisation every data source shares.

All sources (synthetic, bundled, BigEarthNet v1/v2, subsets) standardise with the
*same* statistics, so a model pretrained on one runs on the others.

Sentinel-1 (``sar``, VV then VH) is backscatter sigma0 in dB, standardised with the
BigEarthNet v1 statistics of the BigEarthNet-MM tools: VV -12.62 +/- 5.12 dB,
VH -19.29 +/- 5.46 dB (``BAND_STATS_S1`` in the ``bigearthnet-common`` package, which
cites https://git.tu-berlin.de/rsim/bigearthnet-models-tf). For reference, SSL4EO-S12
uses VV -12.59 +/- 5.26, VH -20.26 +/- 5.91 and BigEarthNet v2 VV -12.64 +/- 5.13,
VH -19.35 +/- 5.59: close enough that we keep one set.

Sentinel-2 (``optical``) is L2A surface reflectance stored as digital numbers
``DN = reflectance * 10000`` (BigEarthNet v1 GeoTIFFs, uint16), standardised per band
with the BigEarthNet v1 means and standard deviations from the same source
(``BAND_STATS_S2`` in ``bigearthnet-common``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

SAR_BANDS: list[str] = ["VV", "VH"]
SAR_MEAN: list[float] = [-12.619993741972035, -19.29044597721542]  # dB, VV, VH
SAR_STD: list[float] = [5.115911777546365, 5.464428464912864]  # dB, VV, VH

# The 12 BigEarthNet v1 Sentinel-2 L2A bands in torchgeo's order (B10 is not in L2A).
OPTICAL_BANDS: list[str] = [
    "B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12"
]  # fmt: skip
OPTICAL_MEAN: list[float] = [
    340.76769064, 429.9430203, 614.21682446, 590.23569706, 950.68368468, 1792.46290469,
    2075.46795189, 2218.94553375, 2266.46036911, 2246.0605464, 1594.42694882, 1009.32729131,
]  # fmt: skip
OPTICAL_STD: list[float] = [
    554.81258967, 572.41639287, 582.87945694, 675.88746967, 729.89827633, 1096.01480586,
    1273.45393088, 1365.45589904, 1356.13789355, 1302.3292881, 1079.19066363, 818.86747235,
]  # fmt: skip
REFLECTANCE_SCALE = 10000.0  # DN per unit reflectance in BigEarthNet L2A GeoTIFFs
# Native ground sampling distance of each band in metres (Sentinel-2 MSI).
OPTICAL_GSD: dict[str, int] = {
    "B01": 60, "B02": 10, "B03": 10, "B04": 10, "B05": 20, "B06": 20,
    "B07": 20, "B08": 10, "B8A": 20, "B09": 60, "B11": 20, "B12": 20,
}  # fmt: skip


def optical_band_indices(optical_bands: Sequence[str] | None) -> list[int]:
    """Positions of the chosen bands in :data:`OPTICAL_BANDS`.

    Args:
        optical_bands: band names such as ``["B04", "B03", "B02", "B08"]``; ``None``
            means all 12 bands in the default order.

    Returns:
        Indices into :data:`OPTICAL_BANDS`, in the order asked for.

    Raises:
        ValueError: if a name is unknown, repeated, or the list is empty.
    """
    if optical_bands is None:
        return list(range(len(OPTICAL_BANDS)))
    if isinstance(optical_bands, str):
        raise ValueError(
            f"optical_bands must be a list of band names, got the string {optical_bands!r}"
        )
    names = list(optical_bands)
    if not names:
        raise ValueError(f"optical_bands must not be empty; choose from {OPTICAL_BANDS}")
    unknown = [b for b in names if b not in OPTICAL_BANDS]
    if unknown:
        raise ValueError(f"unknown optical_bands {unknown}; allowed: {OPTICAL_BANDS}")
    if len(set(names)) != len(names):
        raise ValueError(f"optical_bands must not repeat a band, got {names}")
    return [OPTICAL_BANDS.index(b) for b in names]


def rgb_indices(optical_bands: Sequence[str] | None = None) -> list[int]:
    """Channel positions of red (B04), green (B03) and blue (B02) in a band list.

    Args:
        optical_bands: the dataset's ``optical_bands``; ``None`` means all 12.

    Returns:
        ``[i_B04, i_B03, i_B02]``, ready for ``optical[rgb_indices(bands)]``.

    Raises:
        ValueError: if the list lacks one of B04, B03, B02.
    """
    names = OPTICAL_BANDS if optical_bands is None else list(optical_bands)
    missing = [b for b in ("B04", "B03", "B02") if b not in names]
    if missing:
        raise ValueError(
            f"an RGB composite needs bands B04, B03, B02; optical_bands lacks {missing}"
        )
    return [names.index(b) for b in ("B04", "B03", "B02")]


def _stats(values: list[float], idx: list[int], like: Tensor) -> Tensor:
    """The chosen statistics as ``[C, 1, 1]``, broadcastable against ``[..., C, H, W]``."""
    out = torch.tensor([values[i] for i in idx], dtype=like.dtype, device=like.device)
    return out.reshape(-1, 1, 1)


def _check_channels(x: Tensor, channels: int, what: str) -> None:
    if x.ndim < 3 or x.shape[-3] != channels:
        raise ValueError(f"{what} must have shape [..., {channels}, H, W], got {tuple(x.shape)}")


def normalize_sar(db: Tensor) -> Tensor:
    """Standardise Sentinel-1 dB ``[..., 2, H, W]`` (VV, VH) with SAR_MEAN / SAR_STD."""
    _check_channels(db, 2, "sar")
    return (db - _stats(SAR_MEAN, [0, 1], db)) / _stats(SAR_STD, [0, 1], db)


def denormalize_sar(x: Tensor) -> Tensor:
    """Undo :func:`normalize_sar`: standardised ``[..., 2, H, W]`` back to dB."""
    _check_channels(x, 2, "sar")
    return x * _stats(SAR_STD, [0, 1], x) + _stats(SAR_MEAN, [0, 1], x)


def normalize_optical(dn: Tensor, optical_bands: Sequence[str] | None = None) -> Tensor:
    """Standardise Sentinel-2 digital numbers (reflectance x 10000) per band.

    Args:
        dn: ``[..., C, H, W]`` digital numbers, bands in the order of ``optical_bands``.
        optical_bands: names of the C bands; ``None`` means all 12.

    Returns:
        ``(dn - mean) / std`` with the BigEarthNet v1 band statistics.
    """
    idx = optical_band_indices(optical_bands)
    _check_channels(dn, len(idx), "optical")
    return (dn - _stats(OPTICAL_MEAN, idx, dn)) / _stats(OPTICAL_STD, idx, dn)


def denormalize_optical(x: Tensor, optical_bands: Sequence[str] | None = None) -> Tensor:
    """Undo the optical standardisation and return surface reflectance (about 0 to 1).

    Args:
        x: standardised ``[..., C, H, W]`` optical tensor.
        optical_bands: names of the C bands; ``None`` means all 12.

    Returns:
        Reflectance, ``DN / 10000``; plot ``x[rgb_indices(bands)]`` clipped to [0, 0.3].
    """
    idx = optical_band_indices(optical_bands)
    _check_channels(x, len(idx), "optical")
    dn = x * _stats(OPTICAL_STD, idx, x) + _stats(OPTICAL_MEAN, idx, x)
    return dn / REFLECTANCE_SCALE
