"""Image figures: band composites, class maps, masks, reconstructions and attention maps.

Every figure function takes images the way the model sees them (standardised ``sar``
``[2, H, W]`` and ``optical`` ``[C, H, W]``, see :mod:`fusionx_lite.data.normalize`),
turns them back into physical units, and returns a :class:`matplotlib.figure.Figure`
built without pyplot (so a widget can redraw it many times without leaking figures).

Two composites are used throughout, with fixed, stated stretches:

* **SAR false colour**: R = VV, G = VH, B = VV/VH (the difference in dB), each mapped
  linearly from the range in :data:`SAR_STRETCH_DB` to [0, 1]. Water is dark, forest
  green-ish (strong VH volume scattering), towns bright and pink-white (strong VV).
* **Optical true colour**: R = B04, G = B03, B = B02 reflectance, one linear stretch
  for the three bands from the 2nd to the 98th percentile of the reference image's
  cloud-free pixels (all pixels when no cloud mask is known), so colours keep their
  balance, the ground stays visible beside a bright cloud, and a reconstruction is
  drawn with the original's stretch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from matplotlib import colormaps, colors
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from torch import Tensor

from fusionx_lite.data.normalize import denormalize_optical, denormalize_sar, rgb_indices
from fusionx_lite.patches import patchify, unpatchify

SAR_STRETCH_DB = {"VV": (-20.0, 0.0), "VH": (-27.0, -7.0), "VV/VH": (3.0, 13.0)}
SAR_CAPTION = "R=VV [-20, 0], G=VH [-27, -7],\nB=VV/VH [3, 13] dB"
OPTICAL_CAPTION = "R=B04, G=B03, B=B02,\n2-98% stretch of clear pixels"
PIXELS = "nearest"  # draw every 10 m pixel as a square: no smoothing of speckle or edges
HIDDEN_GREY = 0.55  # colour of a hidden patch in the "masked" panels
CLASS_COLOURS = {  # colours a map reader expects; other class names get tab20 colours
    "Water": "#2166ac",
    "Urban fabric": "#d6604d",
    "Bare soil": "#a6761d",
    "Green crops": "#7fbc41",
    "Ripening cereals": "#f1d54a",
    "Grassland": "#b8e186",
    "Broad-leaved forest": "#1b7837",
    "Coniferous forest": "#00441b",
}
OVERLAP_NAMES = (
    "visible in both",
    "hidden in SAR only",
    "hidden in optical only",
    "hidden in both",
)
OVERLAP_COLOURS = ("#f7f7f7", "#f4a582", "#92c5de", "#404040")


def to_numpy(x: Tensor | np.ndarray) -> np.ndarray:
    """A float numpy copy of a tensor or array (detached, on the CPU)."""
    if isinstance(x, Tensor):
        return x.detach().float().cpu().numpy()
    return np.asarray(x, dtype=np.float32)


# ------------------------------------------------------------------ composites
def sar_false_colour(sar_db: Tensor | np.ndarray) -> np.ndarray:
    """SAR false-colour composite of ``[2, H, W]`` backscatter in dB (VV, VH).

    Returns:
        ``[H, W, 3]`` in [0, 1]: R = VV, G = VH, B = VV - VH (dB), stretched with
        :data:`SAR_STRETCH_DB`.
    """
    vv, vh = to_numpy(sar_db)
    channels = []
    for value, key in ((vv, "VV"), (vh, "VH"), (vv - vh, "VV/VH")):
        lo, hi = SAR_STRETCH_DB[key]
        channels.append(np.clip((value - lo) / (hi - lo), 0.0, 1.0))
    return np.stack(channels, axis=-1)  # [H, W, 3]


def stretch_limits(
    rgb_reflectance: Tensor | np.ndarray,
    cloud: Tensor | np.ndarray | None = None,
    percentiles: tuple[float, float] = (2.0, 98.0),
) -> tuple[float, float]:
    """One ``(low, high)`` reflectance range for the three bands of ``[3, H, W]``.

    Args:
        rgb_reflectance: B04, B03, B02 reflectance.
        cloud: optional ``[H, W]``, nonzero under cloud or shadow; those pixels are left
            out unless fewer than 5 % of the image is clear.
        percentiles: lower and upper percentile.
    """
    values = to_numpy(rgb_reflectance)  # [3, H, W]
    if cloud is not None:
        clear = to_numpy(cloud) == 0  # [H, W]
        if clear.mean() >= 0.05:
            values = values[:, clear]  # [3, H*W clear]
    lo, hi = np.percentile(values, percentiles)
    return float(lo), float(max(hi, lo + 1e-3))


def optical_true_colour(
    reflectance: Tensor | np.ndarray,
    optical_bands: Sequence[str] | None = None,
    limits: tuple[float, float] | None = None,
) -> np.ndarray:
    """True-colour composite (B04, B03, B02) of ``[C, H, W]`` reflectance.

    Args:
        reflectance: surface reflectance (about 0 to 1), bands in ``optical_bands`` order.
        optical_bands: band names of the C channels (None: the 12 BigEarthNet bands).
        limits: reflectance mapped to black and white; the image's own 2-98 %
            percentiles when None (pass the original's limits to draw a reconstruction).

    Returns:
        ``[H, W, 3]`` in [0, 1].
    """
    rgb = to_numpy(reflectance)[rgb_indices(optical_bands)]  # [3, H, W]
    lo, hi = limits if limits is not None else stretch_limits(rgb)
    return np.clip((rgb - lo) / (hi - lo), 0.0, 1.0).transpose(1, 2, 0)  # [H, W, 3]


def composites(
    sar: Tensor,
    optical: Tensor,
    optical_bands: Sequence[str] | None = None,
    cloud: Tensor | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Both composites of standardised ``sar`` ``[2, H, W]`` and ``optical`` ``[C, H, W]``.

    ``cloud`` (``[H, W]``, optional) keeps cloudy pixels out of the optical stretch.
    """
    limits = optical_limits(optical, optical_bands, cloud)
    sar_db = denormalize_sar(torch.as_tensor(sar))
    refl = denormalize_optical(torch.as_tensor(optical), optical_bands)
    return sar_false_colour(sar_db), optical_true_colour(refl, optical_bands, limits)


def optical_limits(
    optical: Tensor, optical_bands: Sequence[str] | None = None, cloud: Tensor | None = None
) -> tuple[float, float]:
    """Stretch limits of a standardised ``optical`` ``[C, H, W]`` image's RGB bands."""
    refl = denormalize_optical(torch.as_tensor(optical), optical_bands)
    return stretch_limits(refl[rgb_indices(optical_bands)], cloud)


# -------------------------------------------------------------- class maps
def class_colours(class_names: Sequence[str]) -> list:
    """An RGB colour per class: map colours for known names, tab20 for the rest."""
    tab = colormaps["tab20"]
    return [colors.to_rgb(CLASS_COLOURS.get(n, tab(i % 20))) for i, n in enumerate(class_names)]


def draw_class_map(ax, class_map: Tensor | np.ndarray, class_names: Sequence[str]) -> None:
    """Draw an integer ``[H, W]`` class map on ``ax`` with a legend of the classes present."""
    cm = np.asarray(class_map).astype(int)
    palette = np.array(class_colours(class_names))
    ax.imshow(palette[cm], interpolation="nearest")
    present = np.unique(cm)
    handles = [Patch(color=palette[k], label=class_names[k]) for k in present]
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        fontsize="small",
        frameon=False,
        title="class",
    )


# ------------------------------------------------------------------ patches
def hide_patches(image: np.ndarray, mask: Tensor | np.ndarray, patch_size: int) -> np.ndarray:
    """Grey out hidden patches of an ``[H, W, 3]`` image (mask ``[L]``, True = hidden)."""
    out = image.copy()
    grid_w = image.shape[1] // patch_size
    for k in np.flatnonzero(to_numpy(mask) > 0):
        r, c = divmod(int(k), grid_w)
        out[r * patch_size : (r + 1) * patch_size, c * patch_size : (c + 1) * patch_size] = (
            HIDDEN_GREY
        )
    return out


def paste_visible(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """The MAE picture: predictions where hidden, the true patches where visible.

    Args:
        pred: ``[..., L, P*P*C]`` predicted patches.
        target: ``[..., L, P*P*C]`` true patches (``patchify`` of the input).
        mask: bool ``[..., L]``, True = hidden.

    Returns:
        ``[..., L, P*P*C]``.
    """
    return torch.where(mask[..., None].bool(), pred, target)


def overlap_map(mask_sar: Tensor, mask_optical: Tensor, grid: int) -> np.ndarray:
    """``[grid, grid]`` codes: 0 visible in both, 1 SAR hidden only, 2 optical only, 3 both."""
    code = to_numpy(mask_sar).astype(int) + 2 * to_numpy(mask_optical).astype(int)
    return code.reshape(grid, grid)


# ------------------------------------------------------------------ figures
def plot_sample(
    sar: Tensor,
    optical: Tensor,
    optical_bands: Sequence[str] | None = None,
    class_map: Tensor | np.ndarray | None = None,
    class_names: Sequence[str] | None = None,
    cloud: Tensor | None = None,
    title: str | None = None,
) -> Figure:
    """One sample side by side: SAR false colour, optical true colour (+ class map, clouds).

    Args:
        sar: standardised ``[2, H, W]``.
        optical: standardised ``[C, H, W]``.
        optical_bands: names of the optical channels (None: the 12 BigEarthNet bands).
        class_map: optional ``[H, W]`` class indices (needs ``class_names``).
        class_names: names of the classes.
        cloud: optional ``[H, W]``, 1 where clouds or shadows hide the ground.
        title: figure title.
    """
    panels = 2 + (class_map is not None) + (cloud is not None)
    fig = Figure(
        figsize=(3.2 * panels + (1.8 if class_map is not None else 0), 3.4), layout="constrained"
    )
    axes = fig.subplots(1, panels, squeeze=False)[0]
    sar_rgb, opt_rgb = composites(sar, optical, optical_bands, cloud)
    axes[0].imshow(sar_rgb, interpolation=PIXELS)
    axes[0].set_title(f"Sentinel-1 SAR false colour\n{SAR_CAPTION}", fontsize="small")
    axes[1].imshow(opt_rgb, interpolation=PIXELS)
    axes[1].set_title(f"Sentinel-2 optical true colour\n{OPTICAL_CAPTION}", fontsize="small")
    k = 2
    if cloud is not None:
        axes[k].imshow(to_numpy(cloud), cmap="Greys_r", vmin=0, vmax=1, interpolation="nearest")
        axes[k].set_title(
            f"cloud or shadow (white)\n{to_numpy(cloud).mean():.0%} of the image", fontsize="small"
        )
        k += 1
    if class_map is not None:
        if class_names is None:
            raise ValueError("class_names is required when class_map is given")
        draw_class_map(axes[k], class_map, class_names)
        axes[k].set_title("ground-truth land cover", fontsize="small")
    _pixel_axes(axes)
    if title:
        fig.suptitle(title)
    return fig


def plot_pairs(
    samples: Sequence[dict[str, Tensor]],
    optical_bands: Sequence[str] | None = None,
    titles: Sequence[str] | None = None,
) -> Figure:
    """Several samples as a grid: SAR false colour on top, optical true colour below.

    Args:
        samples: dicts with standardised ``sar`` ``[2, H, W]`` and ``optical`` ``[C, H, W]``
            (and ``cloud`` ``[H, W]`` if known, kept out of the optical stretch).
        optical_bands: names of the optical channels.
        titles: one title per sample (e.g. its labels).
    """
    n = len(samples)
    fig = Figure(figsize=(2.6 * n + 1.2, 6.2), layout="constrained")
    axes = fig.subplots(2, n, squeeze=False)
    for j, sample in enumerate(samples):
        sar_rgb, opt_rgb = composites(
            sample["sar"], sample["optical"], optical_bands, sample.get("cloud")
        )
        axes[0, j].imshow(sar_rgb, interpolation=PIXELS)
        axes[1, j].imshow(opt_rgb, interpolation=PIXELS)
        if titles is not None:
            axes[0, j].set_title(titles[j], fontsize="small")
        for ax in axes[:, j]:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel(f"SAR false colour\n{SAR_CAPTION}", fontsize="small")
    axes[1, 0].set_ylabel(f"optical true colour\n{OPTICAL_CAPTION}", fontsize="small")
    return fig


def plot_masks(
    sar: Tensor,
    optical: Tensor,
    masks: dict[str, tuple[Tensor, Tensor]],
    patch_size: int,
    optical_bands: Sequence[str] | None = None,
    cloud: Tensor | None = None,
) -> Figure:
    """Masks of several strategies drawn on both modalities, one row per strategy.

    Args:
        sar, optical: one standardised sample, ``[2, H, W]`` and ``[C, H, W]``.
        masks: strategy name -> ``(mask_sar, mask_optical)``, each bool ``[L]``.
        patch_size: P.
        optical_bands: names of the optical channels.
        cloud: optional ``[H, W]`` cloud mask, left out of the optical stretch.
    """
    sar_rgb, opt_rgb = composites(sar, optical, optical_bands, cloud)
    grid = sar_rgb.shape[0] // patch_size
    fig = Figure(figsize=(11, 3.3 * len(masks)), layout="constrained")
    axes = fig.subplots(len(masks), 3, squeeze=False)
    cmap = colors.ListedColormap(OVERLAP_COLOURS)
    for row, (name, (m_sar, m_opt)) in enumerate(masks.items()):
        ax_s, ax_o, ax_c = axes[row]
        ax_s.imshow(hide_patches(sar_rgb, m_sar, patch_size), interpolation=PIXELS)
        ax_s.set_title(f"{name}: SAR, {int(m_sar.sum())} of {m_sar.numel()} hidden")
        ax_o.imshow(hide_patches(opt_rgb, m_opt, patch_size), interpolation=PIXELS)
        ax_o.set_title(f"{name}: optical, {int(m_opt.sum())} of {m_opt.numel()} hidden")
        ax_c.imshow(
            overlap_map(m_sar, m_opt, grid), cmap=cmap, vmin=-0.5, vmax=3.5, interpolation="nearest"
        )
        both = int((m_sar & m_opt).sum())
        ax_c.set_title(f"{name}: {both} patches hidden in both")
        ax_c.set(xlabel="patch column", ylabel="patch row")
        _pixel_axes([ax_s, ax_o])
    handles = [
        Patch(facecolor=c, edgecolor="k", label=n)
        for c, n in zip(OVERLAP_COLOURS, OVERLAP_NAMES, strict=True)
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=4, fontsize="small")
    return fig


def plot_reconstruction(
    sar: Tensor,
    optical: Tensor,
    pred_sar: Tensor,
    pred_optical: Tensor,
    mask_sar: Tensor,
    mask_optical: Tensor,
    patch_size: int,
    optical_bands: Sequence[str] | None = None,
    title: str | None = None,
    cloud: Tensor | None = None,
) -> Figure:
    """The reconstruction grid of one sample: a row per modality, four columns.

    Columns: original, masked input, the model's reconstruction of every patch, and the
    reconstruction with the visible patches pasted back (what MAE papers show).

    Args:
        sar, optical: standardised ``[2, H, W]`` and ``[C, H, W]``.
        pred_sar, pred_optical: predicted patches ``[L, P*P*C]`` of each modality.
        mask_sar, mask_optical: bool ``[L]``, True = hidden.
        patch_size: P.
        optical_bands: names of the optical channels.
        title: figure title.
        cloud: optional ``[H, W]`` cloud mask, left out of the optical stretch.
    """
    fig = Figure(figsize=(12, 6.4), layout="constrained")
    axes = fig.subplots(2, 4)
    limits = optical_limits(optical, optical_bands, cloud)
    rows = (("SAR", sar, pred_sar, mask_sar), ("optical", optical, pred_optical, mask_optical))
    for ax_row, (name, image, pred, mask) in zip(axes, rows, strict=True):
        channels = image.shape[0]
        target = patchify(image[None], patch_size)[0]  # [L, P*P*C]
        hidden = mask.bool()
        mse = ((pred - target) ** 2).mean(dim=-1)[hidden].mean().item() if hidden.any() else 0.0
        images = {
            "original": image,
            "masked input": image,
            "reconstruction": unpatchify(pred[None], patch_size, channels)[0],
            "reconstruction + visible": unpatchify(
                paste_visible(pred, target, mask)[None], patch_size, channels
            )[0],
        }
        for ax, (label, img) in zip(ax_row, images.items(), strict=True):
            rgb = _composite(name, img, optical_bands, limits)
            if label == "masked input":
                rgb = hide_patches(rgb, mask, patch_size)
            ax.imshow(rgb, interpolation=PIXELS)
            ax.set_title(f"{name}: {label}", fontsize="small")
        ax_row[2].set_xlabel(f"MSE on hidden patches: {mse:.3f}\n(standardised units)")
        ax_row[0].set_ylabel(SAR_CAPTION if name == "SAR" else OPTICAL_CAPTION, fontsize="small")
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title)
    return fig


def plot_sweep(
    image: Tensor,
    modality: str,
    cells: dict[tuple[str, str], tuple[Tensor, Tensor]],
    patch_size: int,
    optical_bands: Sequence[str] | None = None,
    cloud: Tensor | None = None,
    title: str | None = None,
) -> Figure:
    """Reconstructions (visible patches pasted back) of one image over a grid of settings.

    Args:
        image: the standardised ``[C, H, W]`` image of ``modality``.
        modality: ``"sar"`` or ``"optical"``.
        cells: ``(row label, column label)`` -> ``(pred [L, P*P*C], mask [L])``, e.g.
            rows = strategies and columns = mask ratios.
        patch_size: P.
        optical_bands: names of the optical channels.
        cloud: optional ``[H, W]`` cloud mask, left out of the optical stretch.
        title: figure title.

    The first column is the original; hidden patches are outlined in each cell.
    """
    if modality not in ("sar", "optical"):
        raise ValueError(f"modality must be 'sar' or 'optical', got {modality!r}")
    rows = list(dict.fromkeys(r for r, _ in cells))
    cols = list(dict.fromkeys(c for _, c in cells))
    name = "SAR" if modality == "sar" else "optical"
    limits = optical_limits(image, optical_bands, cloud) if modality == "optical" else None
    target = patchify(image[None], patch_size)[0]  # [L, P*P*C]
    fig = Figure(figsize=(2.7 * (len(cols) + 1), 2.8 * len(rows) + 0.6), layout="constrained")
    axes = fig.subplots(len(rows), len(cols) + 1, squeeze=False)
    original = _composite(name, image, optical_bands, limits)
    for i, row in enumerate(rows):
        axes[i, 0].imshow(original, interpolation=PIXELS)
        axes[i, 0].set_title(f"{name}: original", fontsize="small")
        axes[i, 0].set_ylabel(row)
        for j, col in enumerate(cols):
            if (row, col) not in cells:
                axes[i, j + 1].set_axis_off()
                continue
            pred, mask = cells[row, col]
            pasted = unpatchify(paste_visible(pred, target, mask)[None], patch_size, image.shape[0])
            axes[i, j + 1].imshow(
                _composite(name, pasted[0], optical_bands, limits), interpolation=PIXELS
            )
            _outline_hidden(axes[i, j + 1], mask, patch_size, image.shape[-1] // patch_size)
            axes[i, j + 1].set_title(f"{col}: {int(mask.sum())} hidden", fontsize="small")
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title or f"{name}: reconstruction + visible patches (hidden ones outlined)")
    return fig


def plot_attention(
    sar: Tensor,
    optical: Tensor,
    maps: dict[str, Tensor],
    query: tuple[int, int],
    patch_size: int,
    optical_bands: Sequence[str] | None = None,
    direction: str = "optical_to_sar",
    block: int = 0,
    index: int = 0,
    cloud: Tensor | None = None,
) -> Figure:
    """Where one patch looks in the other modality, from ``model.attention_maps``.

    Args:
        sar, optical: the standardised sample ``index`` of the batch given to the model.
        maps: the dict returned by :meth:`FusionXMAE.attention_maps`.
        query: (row, column) of the query patch on the patch grid; it must be visible.
        patch_size: P.
        optical_bands: names of the optical channels.
        direction: ``"optical_to_sar"`` (an optical patch queries SAR) or ``"sar_to_optical"``.
        block: which fusion block.
        index: which sample of the batch.
        cloud: optional ``[H, W]`` cloud mask, left out of the optical stretch.

    Raises:
        ValueError: for an unknown direction or a hidden / out-of-grid query patch.
    """
    if direction not in ("optical_to_sar", "sar_to_optical"):
        raise ValueError(
            f"direction must be 'optical_to_sar' or 'sar_to_optical', got {direction!r}"
        )
    src, dst = ("optical", "sar") if direction == "optical_to_sar" else ("sar", "optical")
    grid = sar.shape[-1] // patch_size
    row, col = query
    if not (0 <= row < grid and 0 <= col < grid):
        raise ValueError(
            f"query must be a (row, column) inside the {grid} x {grid} patch grid, got {query}"
        )
    ids_q, ids_k = maps[f"ids_{src}"][index].tolist(), maps[f"ids_{dst}"][index]
    if row * grid + col not in ids_q:
        raise ValueError(f"query patch {query} is hidden in {src}; choose a visible patch")
    weights = maps[direction][block, index].mean(dim=0)  # [L_vis_q, L_vis_k], heads averaged
    heat = np.full(grid * grid, np.nan)
    heat[ids_k.numpy()] = to_numpy(weights[ids_q.index(row * grid + col)])
    heat = heat.reshape(grid, grid)
    sar_rgb, opt_rgb = composites(sar, optical, optical_bands, cloud)
    pictures = {"sar": sar_rgb, "optical": opt_rgb}
    names = {"sar": "SAR", "optical": "optical"}
    fig = Figure(figsize=(12, 3.9), layout="constrained")
    ax_q, ax_k, ax_h = fig.subplots(1, 3)
    ax_q.imshow(pictures[src], interpolation=PIXELS)
    ax_q.set_title(f"query: {names[src]} patch (row {row}, col {col})", fontsize="small")
    ax_k.imshow(pictures[dst], interpolation=PIXELS)
    strength = np.kron(np.nan_to_num(heat) / np.nanmax(heat), np.ones((patch_size, patch_size)))
    overlay = colormaps["magma"](strength)  # [H, W, 4]
    overlay[..., 3] = 0.85 * strength  # weak weights stay transparent
    ax_k.imshow(overlay, interpolation=PIXELS)
    ax_k.set_title(f"{names[dst]} image, attention overlaid (opaque = more)", fontsize="small")
    im = ax_h.imshow(heat, cmap="magma", vmin=0, interpolation="nearest")
    ax_h.set_title(
        f"attention weights {names[src]} -> {names[dst]}\n(block {block}, mean over heads)",
        fontsize="small",
    )
    ax_h.set(xlabel="patch column", ylabel="patch row")
    fig.colorbar(im, ax=ax_h, label="attention weight (row sums to 1)")
    for ax in (ax_q, ax_k, ax_h):
        box = (
            (col * patch_size - 0.5, row * patch_size - 0.5)
            if ax is not ax_h
            else (col - 0.5, row - 0.5)
        )
        size = patch_size if ax is not ax_h else 1
        ax.add_patch(Rectangle(box, size, size, fill=False, edgecolor="cyan", lw=2))
    _pixel_axes([ax_q, ax_k])
    return fig


# ------------------------------------------------------------------ helpers
def _composite(modality: str, image: Tensor, optical_bands, limits) -> np.ndarray:
    if modality == "SAR":
        return sar_false_colour(denormalize_sar(image))
    return optical_true_colour(denormalize_optical(image, optical_bands), optical_bands, limits)


def _outline_hidden(ax, mask: Tensor, patch_size: int, grid_w: int) -> None:
    """Thin white outlines around hidden patches."""
    for k in np.flatnonzero(to_numpy(mask) > 0):
        r, c = divmod(int(k), grid_w)
        corner = (c * patch_size - 0.5, r * patch_size - 0.5)
        ax.add_patch(Rectangle(corner, patch_size, patch_size, fill=False, ec="w", lw=0.4))


def _pixel_axes(axes) -> None:
    for ax in axes:
        ax.set_xlabel("x (pixels, 10 m)")
        ax.set_ylabel("y (pixels, 10 m)")
