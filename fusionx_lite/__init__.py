"""FusionX-Lite: a teaching kit for multi-modal (SAR + optical) masked autoencoders.

Shape key used in every docstring and shape comment:

    N  batch size
    C  channels of one modality (Sentinel-1: 2, Sentinel-2: up to 12)
    H, W  image height and width in pixels
    P  patch size in pixels
    L  patches per modality, (H / P) * (W / P)
    L_vis  visible (kept) patches per modality
    D  encoder width (D_dec: decoder width)
    K  number of land-cover classes

Masks are bool tensors [N, L], True where a patch is hidden.
"""

from fusionx_lite.config import FusionXConfig
from fusionx_lite.masking import make_masks
from fusionx_lite.model import FusionXMAE, FusionXOutput
from fusionx_lite.patches import patchify, unpatchify

__all__ = ["FusionXConfig", "FusionXMAE", "FusionXOutput", "make_masks", "patchify", "unpatchify"]
__version__ = "0.1.0"
