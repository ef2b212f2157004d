"""Precomputed random fields that the synthetic world crops instead of drawing anew.

Drawing smooth noise or Gamma speckle for every sample is what would make a synthetic
world slow. A :class:`NoiseBank` draws a few dozen periodic fields once and each sample
takes crops at random offsets under one of the 8 flips / transposes of the square, so
a sample costs a handful of slices instead of FFTs and millions of random draws.
"""

from __future__ import annotations

import functools

import numpy as np

Scales = tuple[tuple[str, float], ...]  # (name, correlation length in px) pairs


def smooth_fields(rng: np.random.Generator, count: int, size: int, scale: float) -> np.ndarray:
    """Periodic Gaussian random fields with zero mean and unit variance.

    White noise is low-pass filtered in the Fourier domain with a Gaussian of
    correlation length ``scale`` pixels.

    Args:
        rng: random generator.
        count: number of fields.
        size: side of each square field in pixels.
        scale: correlation length in pixels (about the size of one blob).

    Returns:
        float32 array ``[count, size, size]``.
    """
    freq = np.fft.fftfreq(size)
    f2 = freq[:, None] ** 2 + freq[None, :] ** 2
    gain = np.exp(-2.0 * (np.pi * scale) ** 2 * f2)  # Gaussian kernel of std `scale` px
    noise = rng.standard_normal((count, size, size))
    fields = np.fft.ifft2(np.fft.fft2(noise) * gain).real
    fields -= fields.mean(axis=(1, 2), keepdims=True)
    fields /= fields.std(axis=(1, 2), keepdims=True)
    return fields.astype(np.float32)


def speckle_db(rng: np.random.Generator, count: int, size: int, looks: float) -> np.ndarray:
    """Multiplicative L-look speckle, Gamma(shape L, scale 1/L), expressed in dB.

    In intensity the speckle has mean 1 and coefficient of variation 1/sqrt(L);
    in dB it is additive, so a sample adds a crop of this bank to its sigma0 in dB.

    Returns:
        float32 array ``[count, size, size]`` of ``10 log10(Gamma(L, 1/L))``.
    """
    gamma = rng.gamma(shape=looks, scale=1.0 / looks, size=(count, size, size))
    return (10.0 * np.log10(gamma)).astype(np.float32)


class NoiseBank:
    """Periodic fields of one kind (one scale, or speckle) to crop square windows from.

    Args:
        fields: ``[count, M, M]`` periodic fields (period M).
        pad: largest window side (plus shift) that :meth:`crop` will be asked for; the
            fields are extended periodically by this much so every window is a slice.
    """

    def __init__(self, fields: np.ndarray, pad: int) -> None:
        self.count, self.period, _ = fields.shape
        self.fields = np.pad(fields, ((0, 0), (0, pad), (0, pad)), mode="wrap")

    def crop(self, draw: np.ndarray, size: int, shift: tuple[int, int] = (0, 0)) -> np.ndarray:
        """One ``[size, size]`` window chosen by four uniform numbers in [0, 1).

        Args:
            draw: four uniforms: field, row offset, column offset, orientation.
            size: side of the window in pixels.
            shift: move the window by (rows, columns) before it is flipped, so that two
                crops with the same draw are the same field displaced (cloud shadows).

        Returns:
            A view (no copy) into the bank.
        """
        k, p = int(draw[0] * self.count), self.period
        r, c = (int(draw[1] * p) + shift[0]) % p, (int(draw[2] * p) + shift[1]) % p
        window = self.fields[k, r : r + size, c : c + size]
        o = int(draw[3] * 8)  # one of the 8 symmetries of the square
        if o & 1:
            window = window[::-1]
        if o & 2:
            window = window[:, ::-1]
        if o & 4:
            window = window.T
        return window


@functools.lru_cache(maxsize=8)
def field_banks(seed: int, period: int, pad: int, scales: Scales) -> dict[str, NoiseBank]:
    """24 smooth fields per named scale for one world seed (cached across datasets)."""
    rng = np.random.default_rng([seed, 7919, 0])
    return {name: NoiseBank(smooth_fields(rng, 24, period, sc), pad) for name, sc in scales}


@functools.lru_cache(maxsize=8)
def speckle_bank(seed: int, period: int, pad: int, looks: float) -> NoiseBank:
    """16 speckle fields for one world seed and number of looks (cached)."""
    rng = np.random.default_rng([seed, 7919, 1])
    return NoiseBank(speckle_db(rng, 16, period, looks), pad)
