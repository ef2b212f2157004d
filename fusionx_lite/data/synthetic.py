"""A synthetic Sentinel-1 + Sentinel-2 world with known ground truth.

Generative model of one sample (10 m pixels; every draw comes from a random stream
keyed by ``(seed, split, index)``, so a sample is the same every time it is asked for):

1. **Landscape zones**: four smooth random fields, one per zone (agriculture, forest
   and urban at the large scale, blobs of about 160 m; water at the medium scale,
   about 60 m), each shifted by a per-sample bias; a pixel belongs to the zone whose
   field is highest. Agriculture is the most common zone, water the rarest.
2. **Classes inside zones**: agriculture is cut into rotated rectangular parcels
   60 to 240 m wide, each sown with bare soil, green crops, ripening cereals or
   grassland (per-sample mixture); forest splits into broad-leaved and coniferous
   stands along a medium-scale (60 m) field. That gives the class map ``[H, W]``.
3. **A hidden region variable** u ~ N(0, 1), one value per parcel and a medium-scale
   field elsewhere (soil moisture, biomass, street orientation). It moves optical and
   radar values together by class-specific gains (see :mod:`.signatures`).
4. **Sentinel-2**: each class has a reflectance for all 12 L2A bands, scaled by u and a
   fine (20 m) texture; 20 m bands are block-averaged over 2 x 2 pixels and 60 m
   bands over 6 x 6, as the sensor sees them.
5. **Sentinel-1**: each class has sigma0 VV / VH in dB, plus u, a fine texture,
   bright double-bounce points in urban areas, a per-sample wind roughening of water,
   and multiplicative speckle Gamma(L, 1/L) per polarisation (``looks`` = L; 4.4 for
   Sentinel-1 GRD). SAR is returned in dB, so speckle adds ``10 log10 Gamma``.
6. **Clouds** cover a fraction of the scene drawn from Beta(c, 1 - c) (mean
   ``cloud_cover`` = c, U-shaped like real scene cloudiness: many clear and many
   overcast scenes). They are bright and flat (0.4 to 0.8), and cast a dark shadow
   displaced by 80 to 300 m (low clouds; shadows of higher clouds fall further, often
   outside the patch). Both hide only the optical image; ``cloud`` flags every
   pixel they touch. The radar image is identical with or without clouds.
7. **Labels** (multi-hot over the 8 classes) are the classes covering at least
   ``label_area`` of the patch, as BigEarthNet labels list the land-cover polygons a
   patch meets.

The numbers and their sources are in :mod:`fusionx_lite.data.signatures`. Smooth
fields and speckle are cropped from precomputed banks (:mod:`.noise`) for speed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from fusionx_lite.data.noise import field_banks, speckle_bank
from fusionx_lite.data.normalize import (
    OPTICAL_BANDS,
    OPTICAL_GSD,
    OPTICAL_MEAN,
    OPTICAL_STD,
    REFLECTANCE_SCALE,
    SAR_BANDS,
    SAR_MEAN,
    SAR_STD,
    optical_band_indices,
)
from fusionx_lite.data.signatures import (
    AGRICULTURE,
    CLASS_NAMES,
    CLOUD_BRIGHTNESS,
    CLOUD_SHAPE,
    FOREST,
    SHADOW_DARKENING,
    class_table,
)

SPLITS = ("train", "val", "test")
SCALES = (("fine", 2.0), ("medium", 6.0), ("large", 16.0))  # correlation lengths, 10 m px
ZONE_BIAS = np.array([0.6, 0.3, -1.5, -1.6], np.float32)  # agriculture, forest, urban, water
PARCEL_WIDTH = (6.0, 24.0)  # px
SHADOW_SHIFT = (8, 30)  # px, cloud-to-shadow displacement (80 to 300 m)
WATER_WIND_DB = (6.0, 3.0)  # largest wind roughening of water, VV and VH
URBAN_POINT_DB = (8.0, 5.0)  # double-bounce corner reflectors, VV and VH
Clouds = tuple[np.ndarray, np.ndarray, float, float]  # opacity, shadow, cloud top, shadow light


def _check(name: str, ok: bool, allowed: str, value: object) -> None:
    if not ok:
        raise ValueError(f"{name} must be {allowed}, got {value!r}")


class SyntheticWorld(Dataset):
    """Paired SAR / optical samples from the generative model in the module docstring.

    Args:
        length: number of samples.
        img_size: H = W in pixels (10 m each); at least 16.
        seed: world seed. The texture banks depend on it only; samples depend on
            ``(seed, split, index)``, and the three splits use disjoint random streams.
        split: "train", "val" or "test".
        cloud_cover: mean fraction of the optical image covered by cloud, in [0, 1];
            cloud shadows hide some more.
        looks: equivalent number of looks L of the speckle (> 0); larger is smoother.
        optical_bands: subset of the 12 Sentinel-2 bands by name (default all).
        label_area: smallest fraction of the patch a class must cover to be a label.
        variability: scales all within-class variation (texture, region variable,
            urban points); 0 gives flat classes (speckle and clouds remain).

    Samples are dicts: ``sar`` [2, H, W], ``optical`` [C, H, W], ``label`` [K],
    ``cloud`` [H, W], all float32 and standardised as in :mod:`.normalize`.
    """

    def __init__(
        self,
        length: int = 10_000,
        img_size: int = 64,
        seed: int = 0,
        split: str = "train",
        cloud_cover: float = 0.3,
        looks: float = 4.4,
        optical_bands: Sequence[str] | None = None,
        label_area: float = 0.05,
        variability: float = 1.0,
    ) -> None:
        integer = (int, np.integer)
        _check("length", isinstance(length, integer) and length >= 0, "an integer >= 0", length)
        _check("img_size", isinstance(img_size, integer) and img_size >= 16, "an integer >= 16",
               img_size)  # fmt: skip
        _check("split", split in SPLITS, f"one of {SPLITS}", split)
        _check("cloud_cover", 0.0 <= cloud_cover <= 1.0, "in [0, 1]", cloud_cover)
        _check("looks", looks > 0, "> 0", looks)
        _check("label_area", 0.0 < label_area <= 1.0, "in (0, 1]", label_area)
        _check("variability", variability >= 0, ">= 0", variability)
        band_idx = optical_band_indices(optical_bands)
        self.length, self.img_size, self.seed, self.split = length, img_size, seed, split
        self.cloud_cover, self.looks, self.label_area = cloud_cover, looks, label_area
        self.variability = variability
        self.class_names: list[str] = list(CLASS_NAMES)
        self.num_classes = len(self.class_names)
        self.optical_bands: list[str] = [OPTICAL_BANDS[i] for i in band_idx]
        self.sar_bands: list[str] = list(SAR_BANDS)
        self._build_tables(band_idx)
        self._build_banks()

    # ------------------------------------------------------------------ set-up
    def _build_tables(self, band_idx: list[int]) -> None:
        v = self.variability
        std = np.array(OPTICAL_STD, np.float32)[band_idx]
        mean = np.array(OPTICAL_MEAN, np.float32)[band_idx]
        scale = REFLECTANCE_SCALE / std  # reflectance -> standardised units, before the offset
        self._scale, self._offset = scale, (mean / std)[:, None, None]
        refl = class_table("reflectance")[:, band_idx]  # [K, C]
        gsd = np.array([OPTICAL_GSD[OPTICAL_BANDS[i]] for i in band_idx])
        # bands grouped by pixel size: each group is rendered on its own grid
        self._groups = []
        for f in (1, 2, 6):
            bands = np.flatnonzero(gsd == 10 * f)
            if len(bands):
                rows = np.minimum(np.arange(0, self.img_size, f) + f // 2, self.img_size - 1)
                centres = np.ix_(rows, rows)  # one pixel per f x f block
                self._groups.append((f, bands, centres, (refl[:, bands] * scale[bands]).copy()))
        self._cloud_shape = (CLOUD_SHAPE[band_idx] * scale)[:, None, None]
        self._sar_db = np.stack([class_table("vv_db"), class_table("vh_db")])  # [2, K]
        self._sar_mean = np.array(SAR_MEAN, np.float32)[:, None, None]
        self._sar_std = np.array(SAR_STD, np.float32)[:, None, None]
        self._gain_opt = v * class_table("optical_gain")
        self._gain_sar = v * class_table("sar_gain_db")
        self._tex_opt = v * class_table("optical_texture")
        self._tex_sar = v * class_table("sar_texture_db")
        self._ids = {n: i for i, n in enumerate(self.class_names)}
        self._agri = np.array([self._ids[n] for n in AGRICULTURE])
        self._zone_class = np.array([0, 0, self._ids["Urban fabric"], self._ids["Water"]])
        s = self.img_size
        yy, xx = np.mgrid[0:s, 0:s].astype(np.float32) - (s - 1) / 2
        self._yy, self._xx = yy, xx
        self._n_cuts = int(np.ceil(1.5 * s / PARCEL_WIDTH[0])) + 2
        self._lut_lo = -0.75 * s - PARCEL_WIDTH[1]  # lowest parcel edge; 4 lookup bins per px
        self._lut_pos = self._lut_lo + np.arange(int(4 * (-2 * self._lut_lo))) / 4

    def _build_banks(self) -> None:
        period, pad = 2 * self.img_size, self.img_size + SHADOW_SHIFT[1]
        self._banks = field_banks(self.seed, period, pad, SCALES)  # shared by all splits
        self._speckle = speckle_bank(self.seed, period, pad, self.looks)

    def __len__(self) -> int:
        return self.length

    # -------------------------------------------------------------- one sample
    def _crop(self, rng: np.random.Generator, scale: str, size: int | None = None) -> np.ndarray:
        return self._banks[scale].crop(rng.random(4), size or self.img_size)

    def _zones(self, rng: np.random.Generator) -> np.ndarray:
        """Zone index per pixel: 0 agriculture, 1 forest, 2 urban, 3 water."""
        bias = ZONE_BIAS + rng.normal(0, 1, 4).astype(np.float32)
        best = self._crop(rng, "large") + bias[0]
        zone = np.zeros(best.shape, np.intp)
        for z, scale in ((1, "large"), (2, "large"), (3, "medium")):
            score = self._crop(rng, scale) + bias[z]
            zone[score > best] = z
            np.maximum(best, score, out=best)
        return zone

    def _parcels(self, rng: np.random.Generator) -> np.ndarray:
        """Parcel id per pixel: rotated rectangles PARCEL_WIDTH wide."""
        theta = rng.uniform(0, np.pi / 2)
        c, s = 4 * np.cos(theta), 4 * np.sin(theta)  # 4 lookup bins per pixel
        ids = np.zeros(self._xx.shape, np.intp)
        for (a, b), stride in (((c, s), self._n_cuts + 1), ((-s, c), 1)):  # along, across
            cuts = self._lut_lo + np.cumsum(rng.uniform(*PARCEL_WIDTH, self._n_cuts))
            lut = np.searchsorted(cuts, self._lut_pos) * stride  # position bin -> stripe
            ids += lut.take((self._xx * a + self._yy * b - 4 * self._lut_lo).astype(np.intp))
        return ids

    def _scene(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Class map ``[H, W]`` (int) and hidden region variable u ``[H, W]``."""
        zone = self._zones(rng)
        parcel = self._parcels(rng)
        n_parcels = (self._n_cuts + 1) ** 2
        mix = np.cumsum(rng.dirichlet([1.5] * len(self._agri)))
        crop = self._agri[np.minimum(np.searchsorted(mix, rng.random(n_parcels)), len(mix) - 1)]
        parcel_u = rng.standard_normal(n_parcels).astype(np.float32)
        conifer = self._crop(rng, "medium") > rng.normal(0, 0.8)
        forest = np.where(conifer, self._ids[FOREST[1]], self._ids[FOREST[0]])
        agri = zone == 0
        cm = np.where(agri, crop.take(parcel), np.where(zone == 1, forest, self._zone_class[zone]))
        u = np.where(agri, parcel_u.take(parcel), self._crop(rng, "medium"))
        return cm, u

    def _optical(self, cm: np.ndarray, u: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Reflectance x (10000 / band std) ``[C, H, W]``, before clouds and the offset."""
        factor = 1.0 + self._gain_opt[cm] * u + self._tex_opt[cm] * self._crop(rng, "fine")
        s = self.img_size
        out = np.empty((len(self._scale), s, s), np.float32)
        for f, bands, centres, table in self._groups:
            if f == 1:
                g = np.take(table, cm, axis=0) * factor[:, :, None]  # [H, W, C_g]
            else:  # sample the block centres, then widen each to f x f pixels
                g = np.take(table, cm[centres], axis=0) * factor[centres][:, :, None]
                g = np.repeat(np.repeat(g, f, axis=0), f, axis=1)[:s, :s]
            out[bands] = g.transpose(2, 0, 1)
        return out

    def _sar(self, cm: np.ndarray, u: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Backscatter sigma0 ``[2, H, W]`` in dB, speckled."""
        table = self._sar_db.copy()
        table[:, self._ids["Water"]] += rng.uniform(0, 1) * np.array(WATER_WIND_DB, np.float32)
        shift = self._gain_sar[cm] * u + self._tex_sar[cm] * self._crop(rng, "fine")
        points = (self._crop(rng, "fine") > 2.05) & (cm == self._ids["Urban fabric"])
        shift += (self.variability * URBAN_POINT_DB[0]) * points
        db = np.empty((2, *cm.shape), np.float32)
        for p in range(2):  # independent speckle per polarisation
            extra = URBAN_POINT_DB[p] - URBAN_POINT_DB[0]
            db[p] = np.take(table[p], cm) + shift + self._speckle.crop(rng.random(4), self.img_size)
            if extra:
                db[p] += (self.variability * extra) * points
        return db

    def _clouds(self, rng: np.random.Generator) -> Clouds | None:
        """Cloud opacity and shadow strength ``[H, W]`` in [0, 1], cloud top, shadow light.

        Returns None for a clear sample. The draws are the same whatever
        ``cloud_cover`` is, so the scene and the radar never depend on it.
        """
        s, c = self.img_size, self.cloud_cover
        frac = rng.beta(max(c, 1e-6), max(1 - c, 1e-6)) if 0 < c < 1 else c
        shape = rng.random(8)  # the cloud field: a large plus a medium-scale window
        angle, dist = rng.uniform(0, 2 * np.pi), rng.uniform(*SHADOW_SHIFT)
        top, light = rng.uniform(*CLOUD_BRIGHTNESS), rng.uniform(*SHADOW_DARKENING)
        n_clear = int(round((1 - frac) * s * s))
        if n_clear >= s * s:
            return None
        large, medium = self._banks["large"], self._banks["medium"]
        field = large.crop(shape[:4], s) + 0.5 * medium.crop(shape[4:], s)
        shift = (int(round(dist * np.sin(angle))), int(round(dist * np.cos(angle))))
        moved = large.crop(shape[:4], s, shift) + 0.5 * medium.crop(shape[4:], s, shift)
        t = np.partition(field.ravel(), n_clear - 1)[n_clear - 1] if n_clear else -np.inf
        alpha = np.clip((field - t) * 2.0, 0, 1)  # > 0 exactly on the cloudy pixels
        shadow = np.clip((moved - t) * 2.0, 0, 1)
        shadow[alpha > 0] = 0  # a shadow under a cloud is not seen
        return alpha, shadow, top, light

    def _draw(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Class map, optical (scaled, with clouds), SAR dB and cloud flags of one sample."""
        if not 0 <= index < self.length:
            raise IndexError(f"index {index} out of range for a dataset of length {self.length}")
        rng = np.random.default_rng([self.seed, SPLITS.index(self.split), int(index)])
        cm, u = self._scene(rng)
        opt = self._optical(cm, u, rng)
        sar_db = self._sar(cm, u, rng)
        clouds = self._clouds(rng)  # drawn last: clouds never move the scene or the radar
        if clouds is None:
            return cm, opt, sar_db, np.zeros(cm.shape, bool)
        alpha, shadow, top, light = clouds
        opt *= 1 - alpha - (1 - light) * shadow  # alpha and shadow never overlap
        opt += alpha * (top * self._cloud_shape)
        return cm, opt, sar_db, (alpha > 0) | (shadow > 0)

    def render(self, index: int) -> dict[str, np.ndarray]:
        """All layers of one sample as numpy arrays, in physical units.

        Returns:
            ``class_map`` [H, W] int, ``reflectance`` [C, H, W] (after clouds),
            ``sar_db`` [2, H, W], ``cloud`` [H, W] bool, ``label`` [K] bool.

        Raises:
            IndexError: if ``index`` is outside ``[0, len)``.
        """
        cm, opt, sar_db, cloud = self._draw(index)
        return {"class_map": cm, "reflectance": opt / self._scale[:, None, None],
                "sar_db": sar_db, "cloud": cloud, "label": self._labels(cm)}  # fmt: skip

    def _labels(self, cm: np.ndarray) -> np.ndarray:
        frac = np.bincount(cm.ravel(), minlength=self.num_classes) / cm.size
        return frac >= self.label_area

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        cm, opt, sar_db, cloud = self._draw(index)
        opt -= self._offset  # [C, H, W] standardised
        sar_db -= self._sar_mean
        sar_db /= self._sar_std  # [2, H, W] standardised
        return {
            "sar": torch.from_numpy(sar_db),
            "optical": torch.from_numpy(opt),
            "label": torch.from_numpy(self._labels(cm).astype(np.float32)),
            "cloud": torch.from_numpy(cloud.astype(np.float32)),
        }

    def labels(self) -> Tensor:
        """Labels of all samples ``[N, K]``, cheaply: only the scenes are drawn."""
        out = np.zeros((self.length, self.num_classes), np.float32)
        for i in range(self.length):
            rng = np.random.default_rng([self.seed, SPLITS.index(self.split), i])
            out[i] = self._labels(self._scene(rng)[0])
        return torch.from_numpy(out)

    def class_map(self, index: int) -> Tensor:
        """The ground-truth class of every pixel, ``[H, W]`` int64 indices into class_names."""
        return torch.from_numpy(self._draw(index)[0].astype(np.int64))
