"""How each synthetic land-cover class looks to Sentinel-2 and to Sentinel-1.

Sources of the numbers, so that a student can check (and change) them:

* Sentinel-2 B02, B03, B04, B08 surface reflectances of water, forest, green crops,
  bare soil and built-up areas: textbook values collected in the project's field notes
  (``/work/shared/FIELD_NOTES.md``, "Physics for a believable synthetic world").
* The other 8 bands follow the usual spectral shapes: vegetation rises through the red
  edge (B05 < B06 < B07 ~ B08 ~ B8A ~ B09) and drops in the SWIR (B11 > B12); water
  absorbs almost everything beyond the green; soils and built-up surfaces brighten
  towards the SWIR. They were then checked against the six real BigEarthNet patches
  bundled in ``bigearthnet-common``: the Irish pasture patch
  (S2A_MSIL2A_20170617T113321_4_55) reads 0.040 0.038 0.079 0.051 0.140 0.369 0.448
  0.463 0.488 0.485 0.240 0.125 (B01 ... B12), the Finnish coniferous patch
  (S2B_MSIL2A_20170924T93020_69_24) 0.008 0.022 0.035 0.028 0.062 0.137 0.161 0.171
  0.179 0.177 0.091 0.047, close to the grassland and coniferous rows below.
* "Ripening cereals" (senescent crops: weaker red absorption, lower NIR, drier so
  brighter SWIR) is our own estimate in the same spirit; no source gives it directly.
* Sentinel-1 sigma0 (VV / VH, dB): field notes: calm water -22 / -28, bare soil
  -12 / -20, grassland and crops -11 / -18, forest -7 / -13, built-up 0 / -8. Checked
  against the bundled patches: the pasture and arable patches read VV -11.1 to -12.2,
  VH -16.1 to -18.3 dB (mean), with 2.7 to 3.3 dB spatial std; our grassland gives
  VV -11.5, VH -18.5 dB (the 0.5 dB below the table is the mean of 10 log10 of the
  speckle) and 2.5 dB std (4.4-look speckle alone is 2.2 dB). The lush Irish pasture
  in June is 2.4 dB brighter in VH than our grassland: VH grows with biomass.
  ``tests/test_data_bundled.py`` repeats this check.
* ``gain`` columns tie optics and radar to one hidden per-region variable u ~ N(0, 1):
  soil moisture darkens soil optically and brightens it in radar; biomass brightens
  vegetation in NIR and in VH. Their sizes (about 10 % and 1 to 2.5 dB per unit) are
  our estimates of natural within-class spread, not fitted to any data.

Complementarity is physical, not tuned: bare soil and urban fabric are alike in the
optical bands but 12 dB apart in VV; green crops and ripening cereals differ clearly
in the optical bands (red, NIR, SWIR) but have the same radar signature; the two forest
types differ in NIR but C-band backscatter saturates over both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LandCover:
    name: str
    reflectance: tuple[float, ...]  # B01 B02 B03 B04 B05 B06 B07 B08 B8A B09 B11 B12
    vv_db: float  # sigma0 VV in dB
    vh_db: float  # sigma0 VH in dB
    optical_gain: float  # relative reflectance change per unit of the region variable u
    sar_gain_db: float  # dB change per unit u (moisture, biomass, street orientation)
    sar_texture_db: float  # std of the fine (20 m) backscatter texture in dB
    optical_texture: float  # relative std of the fine (20 m) reflectance texture


# fmt: off
LAND_COVERS: tuple[LandCover, ...] = (
    LandCover("Water",
              (0.060, 0.050, 0.040, 0.030, 0.025, 0.020, 0.020, 0.020, 0.018, 0.015, 0.010, 0.008),
              -22.0, -28.0, 0.10, 0.0, 0.3, 0.02),
    LandCover("Urban fabric",
              (0.090, 0.100, 0.120, 0.140, 0.160, 0.180, 0.190, 0.200, 0.210, 0.210, 0.240, 0.210),
              0.0, -8.0, 0.15, 2.5, 2.0, 0.08),
    LandCover("Bare soil",
              (0.080, 0.100, 0.140, 0.180, 0.210, 0.230, 0.240, 0.250, 0.260, 0.260, 0.320, 0.280),
              -12.0, -20.0, -0.12, 1.5, 0.5, 0.03),
    LandCover("Green crops",
              (0.030, 0.040, 0.080, 0.050, 0.120, 0.300, 0.370, 0.400, 0.410, 0.400, 0.220, 0.110),
              -11.0, -18.0, 0.12, 1.0, 0.7, 0.03),
    LandCover("Ripening cereals",
              (0.050, 0.060, 0.090, 0.120, 0.170, 0.230, 0.260, 0.280, 0.290, 0.290, 0.330, 0.240),
              -11.0, -18.0, 0.12, 1.0, 0.7, 0.03),
    LandCover("Grassland",
              (0.030, 0.040, 0.075, 0.050, 0.130, 0.340, 0.420, 0.440, 0.460, 0.455, 0.240, 0.125),
              -11.0, -18.0, 0.12, 1.0, 0.5, 0.03),
    LandCover("Broad-leaved forest",
              (0.020, 0.030, 0.050, 0.030, 0.080, 0.220, 0.280, 0.300, 0.310, 0.310, 0.160, 0.070),
              -7.0, -13.0, 0.08, 0.5, 1.0, 0.05),
    LandCover("Coniferous forest",
              (0.010, 0.020, 0.035, 0.025, 0.060, 0.140, 0.170, 0.180, 0.190, 0.190, 0.090, 0.045),
              -7.0, -13.0, 0.08, 0.5, 1.0, 0.05),
)
# fmt: on

CLASS_NAMES: list[str] = [lc.name for lc in LAND_COVERS]

# Landscape zones and the classes that fill them.
AGRICULTURE = ("Bare soil", "Green crops", "Ripening cereals", "Grassland")
FOREST = ("Broad-leaved forest", "Coniferous forest")

# Clouds: bright and nearly flat in the visible and NIR (0.4 to 0.8, field notes),
# darker in the SWIR where ice and water droplets absorb (our estimate of the shape).
CLOUD_SHAPE = np.array([1.05, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.95, 0.75, 0.55], np.float32)
CLOUD_BRIGHTNESS = (0.4, 0.8)  # reflectance range of a cloud top, one draw per sample
SHADOW_DARKENING = (0.3, 0.5)  # fraction of light left in a cloud shadow (diffuse sky light)


def class_table(attribute: str) -> np.ndarray:
    """One attribute of every class as a float32 array (``[K]`` or ``[K, 12]``)."""
    return np.array([getattr(lc, attribute) for lc in LAND_COVERS], dtype=np.float32)
