"""One configuration dataclass for every FusionX model, with named presets.

Change a preset with :func:`dataclasses.replace`::

    cfg = dataclasses.replace(FusionXConfig.lite(), fusion="joint", mask_ratio=0.6)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

MODALITIES = ("sar", "optical")
FUSION_MODES = ("cross", "joint", "concat")
STRATEGIES = ("consistent", "independent")
PRESETS = ("tiny", "lite", "base")


@dataclass(frozen=True)
class FusionXConfig:
    # geometry
    img_size: int = 64  # H = W in pixels; must be divisible by patch_size
    patch_size: int = 8  # P: side of a square patch in pixels
    sar_channels: int = 2  # Sentinel-1 VV and VH
    optical_channels: int = 12  # the 12 BigEarthNet Sentinel-2 L2A bands
    modalities: tuple[str, ...] = MODALITIES  # ("sar",) or ("optical",) for a single-modality MAE
    # encoder
    fusion: str = "cross"  # "cross" (FusionX), "joint" (MultiMAE-like), "concat" (SatMAE-like)
    embed_dim: int = 128  # D: encoder width
    cross_depth: int = 1  # bidirectional cross-attention fusion blocks (fusion="cross" only)
    depth: int = 3  # shared self-attention blocks after fusion
    num_heads: int = 4  # attention heads in the encoder
    mlp_ratio: float = 4.0  # hidden width of every MLP, as a multiple of its input width
    # decoder
    decoder_dim: int = 64  # D_dec: decoder width
    decoder_depth: int = 2  # decoder blocks per modality, each with self- and cross-attention
    decoder_num_heads: int = 4  # attention heads in the decoder
    # masking and loss
    mask_ratio: float = 0.75  # fraction of patches hidden per modality (MAE's default)
    strategy: str = "consistent"  # "consistent": same positions; "independent": per modality
    norm_pix_loss: bool = False  # targets normalised per patch (MAE option); off keeps demos honest
    loss_weight_sar: float = 1.0  # weight of the SAR reconstruction loss in the total
    loss_weight_optical: float = 1.0  # weight of the optical reconstruction loss in the total

    def __post_init__(self) -> None:
        # JSON and checkpoints give lists back; the dataclass keeps tuples
        object.__setattr__(self, "modalities", tuple(self.modalities))
        self.validate()

    # ---------------------------------------------------------------- checks
    def validate(self) -> None:
        """Raise ``ValueError`` naming the first field that is out of range."""
        check_choice("fusion", self.fusion, FUSION_MODES)
        check_choice("strategy", self.strategy, STRATEGIES)
        if not self.modalities or any(m not in MODALITIES for m in self.modalities):
            raise ValueError(
                f"modalities must be a non-empty subset of {MODALITIES}, got {self.modalities}"
            )
        if len(set(self.modalities)) != len(self.modalities):
            raise ValueError(f"modalities must not repeat, got {self.modalities}")
        if self.fusion == "concat" and self.strategy == "independent":
            raise ValueError(
                "strategy='independent' needs one token stream per modality; "
                "fusion='concat' stacks channels into one stream, use strategy='consistent'"
            )
        check_mask_ratio(self.mask_ratio)
        for name in (
            "img_size",
            "patch_size",
            "sar_channels",
            "optical_channels",
            "embed_dim",
            "depth",
            "num_heads",
            "decoder_dim",
            "decoder_depth",
            "decoder_num_heads",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.cross_depth < 0:
            raise ValueError(f"cross_depth must be >= 0, got {self.cross_depth}")
        if self.img_size % self.patch_size:
            raise ValueError(
                f"img_size ({self.img_size}) must be divisible by patch_size ({self.patch_size})"
            )
        for width, heads, what in (
            (self.embed_dim, self.num_heads, "embed_dim/num_heads"),
            (self.decoder_dim, self.decoder_num_heads, "decoder_dim/decoder_num_heads"),
        ):
            if width % heads:
                raise ValueError(f"{what}: width {width} must be divisible by heads {heads}")
            if width % 4:  # 2D sin-cos positions split the width into 4 equal parts
                raise ValueError(f"{what}: width must be divisible by 4, got {width}")

    # -------------------------------------------------------------- derived
    @property
    def grid_size(self) -> int:
        """Patches along one side of the image."""
        return self.img_size // self.patch_size

    @property
    def num_patches(self) -> int:
        """L: patches per modality."""
        return self.grid_size**2

    def channels(self, modality: str) -> int:
        """Channel count C of ``modality`` ("sar" or "optical")."""
        check_choice("modality", modality, MODALITIES)
        return self.sar_channels if modality == "sar" else self.optical_channels

    def to_dict(self) -> dict:
        """Plain dict (JSON- and ``torch.load(weights_only=True)``-safe)."""
        d = dataclasses.asdict(self)
        d["modalities"] = list(self.modalities)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> FusionXConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error, not silently dropped."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown FusionXConfig fields {unknown}; known: {sorted(known)}")
        return cls(**d)

    # --------------------------------------------------------------- presets
    @classmethod
    def tiny(cls, **overrides) -> FusionXConfig:
        """Seconds on a CPU: for tests and CI (image 32, patch 8, width 32, 2 layers)."""
        base = dict(
            img_size=32,
            patch_size=8,
            embed_dim=32,
            cross_depth=1,
            depth=1,
            num_heads=2,
            decoder_dim=32,
            decoder_depth=1,
            decoder_num_heads=2,
        )
        return cls(**{**base, **overrides})

    @classmethod
    def lite(cls, **overrides) -> FusionXConfig:
        """Minutes on a laptop CPU or Binder (image 64, patch 8, width 128)."""
        return cls(**overrides)

    @classmethod
    def base(cls, **overrides) -> FusionXConfig:
        """GPU runs on BigEarthNet's 120-pixel patches (ViT-S-like width 384)."""
        base = dict(
            img_size=120,
            patch_size=8,
            embed_dim=384,
            cross_depth=2,
            depth=8,
            num_heads=6,
            decoder_dim=256,
            decoder_depth=2,
            decoder_num_heads=8,
        )
        return cls(**{**base, **overrides})

    @classmethod
    def preset(cls, name: str, **overrides) -> FusionXConfig:
        """Preset by name: one of ``PRESETS``."""
        check_choice("preset", name, PRESETS)
        return getattr(cls, name)(**overrides)


def check_mask_ratio(mask_ratio: float) -> float:
    """Return ``mask_ratio`` if it lies in [0, 1), else raise a ``ValueError``."""
    if not isinstance(mask_ratio, int | float) or not 0.0 <= float(mask_ratio) < 1.0:
        raise ValueError(f"mask_ratio must be in [0, 1), got {mask_ratio!r}")
    return float(mask_ratio)


def check_choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
