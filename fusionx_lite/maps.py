"""Where the patches are: footprints (and RGB previews) on a leafmap map.

Footprints come from real samples (``bounds`` in the patch's UTM ``crs``) or from plain
bounds; they are reprojected to longitude / latitude with pyproj. Two backends:

* ``"ipyleaflet"`` (``leafmap.Map``): an interactive widget for JupyterLab;
* ``"folium"`` (``leafmap.foliumap.Map``): plain HTML, renders anywhere (Colab without
  custom widgets, nbconvert, CI). :func:`footprints_html` returns that HTML as a string.

``backend="auto"`` picks ipyleaflet inside a Jupyter kernel and folium elsewhere and in
Colab (where ipyleaflet needs ``google.colab.output.enable_custom_widget_manager()``).
"""

from __future__ import annotations

import base64
import io
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
from torch import Tensor

BACKENDS = ("auto", "ipyleaflet", "folium")
RGB_MAX = 0.3  # reflectance shown as white in the previews


def _lonlat_ring(bounds: Sequence[float], crs: str) -> list[list[float]]:
    """The four corners of a footprint as a closed [lon, lat] ring."""
    from pyproj import Transformer

    minx, miny, maxx, maxy = (float(b) for b in bounds)
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    xs, ys = [minx, maxx, maxx, minx, minx], [miny, miny, maxy, maxy, miny]
    lon, lat = to_lonlat.transform(xs, ys)
    return [[round(a, 6), round(b, 6)] for a, b in zip(lon, lat, strict=True)]


def _rgb_png(sample: dict[str, Any], optical_bands: Sequence[str]) -> str | None:
    """A data-URL PNG of a sample's true-colour composite, or None without B04/B03/B02."""
    from PIL import Image

    from fusionx_lite.data.normalize import denormalize_optical, rgb_indices

    if not {"B02", "B03", "B04"} <= set(optical_bands):
        return None
    refl = denormalize_optical(sample["optical"], optical_bands)[rgb_indices(optical_bands)]
    rgb = (refl.clamp(0, RGB_MAX) / RGB_MAX * 255).byte().permute(1, 2, 0).numpy()  # [H, W, 3]
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _patches(source: Any, crs: str | Sequence[str] | None, names: Sequence[str] | None,
             rgb: bool, limit: int) -> list[dict[str, Any]]:  # fmt: skip
    """One dict per footprint: name, bounds, crs, labels and an optional PNG."""
    if hasattr(source, "__getitem__") and hasattr(source, "class_names"):  # a dataset
        out = []
        for i in range(min(len(source), limit)):
            s = source[i]
            if "bounds" not in s:
                raise ValueError(
                    "the dataset's samples have no 'bounds'; footprints need real data"
                )
            name = source.patch_id(i) if hasattr(source, "patch_id") else f"patch {i}"
            labels = [source.class_names[k] for k in s["label"].nonzero().flatten().tolist()]
            png = _rgb_png(s, source.optical_bands) if rgb else None
            out.append({"name": name, "bounds": s["bounds"].tolist(), "crs": s["crs"],
                        "labels": labels, "png": png})  # fmt: skip
        return out
    bounds = source.tolist() if isinstance(source, Tensor) else [list(b) for b in source]
    if crs is None:
        raise ValueError("crs is required with plain bounds, e.g. crs='EPSG:32633'")
    crss = [crs] * len(bounds) if isinstance(crs, str) else list(crs)
    names = list(names) if names is not None else [f"patch {i}" for i in range(len(bounds))]
    if not len(crss) == len(names) == len(bounds):
        raise ValueError(f"got {len(bounds)} bounds, {len(crss)} crs and {len(names)} names")
    return [{"name": n, "bounds": [float(v) for v in b], "crs": c, "labels": [], "png": None}
            for n, b, c in zip(names, bounds, crss, strict=True)]  # fmt: skip


def footprints_geojson(
    source: Any,
    crs: str | Sequence[str] | None = None,
    names: Sequence[str] | None = None,
    limit: int = 200,
) -> dict[str, Any]:
    """Footprints as a GeoJSON FeatureCollection in longitude / latitude.

    Args:
        source: a dataset whose samples carry ``bounds`` and ``crs`` (for example
            ``build_dataset("bundled")``), or a sequence / ``[N, 4]`` tensor of bounds.
        crs: the CRS of plain bounds (one string, or one per footprint).
        names: names of plain bounds (default "patch i").
        limit: at most this many samples are read from a dataset.

    Returns:
        A FeatureCollection; each feature's properties hold name, crs, bounds, labels.
    """
    patches = _patches(source, crs, names, rgb=False, limit=limit)
    return _collection(patches)


def _collection(patches: list[dict[str, Any]]) -> dict[str, Any]:
    if not patches:
        raise ValueError("there are no footprints to show (empty dataset or bounds)")
    features = []
    for p in patches:
        props = {"name": p["name"], "crs": p["crs"], "labels": ", ".join(p["labels"]),
                 "bounds": ", ".join(f"{v:.1f}" for v in p["bounds"])}  # fmt: skip
        geometry = {"type": "Polygon", "coordinates": [_lonlat_ring(p["bounds"], p["crs"])]}
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    return {"type": "FeatureCollection", "features": features}


def _pick_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend != "auto":
        return backend
    try:
        from IPython import get_ipython

        in_kernel = get_ipython() is not None and hasattr(get_ipython(), "kernel")
    except ImportError:
        in_kernel = False
    return "ipyleaflet" if in_kernel and "google.colab" not in sys.modules else "folium"


def footprint_map(
    source: Any,
    *,
    crs: str | Sequence[str] | None = None,
    names: Sequence[str] | None = None,
    rgb: bool = True,
    backend: str = "auto",
    limit: int = 200,
) -> Any:
    """A leafmap map with every footprint outlined and, for datasets, an RGB preview.

    Args:
        source: a dataset with ``bounds`` / ``crs`` samples, or plain bounds.
        crs: CRS of plain bounds.
        names: names of plain bounds.
        rgb: overlay each sample's true-colour composite (needs B02, B03, B04).
        backend: "auto", "ipyleaflet" (interactive widget) or "folium" (static HTML).
        limit: at most this many samples are read from a dataset.

    Returns:
        ``leafmap.Map`` (ipyleaflet) or ``leafmap.foliumap.Map`` (folium).

    Raises:
        ValueError: for an unknown backend, plain bounds without crs, or no footprints.
    """
    backend = _pick_backend(backend)
    patches = _patches(source, crs, names, rgb, limit)
    collection = _collection(patches)
    if backend == "folium":
        import leafmap.foliumap as leafmap
    else:
        import leafmap
    m = leafmap.Map()
    for p, feature in zip(patches, collection["features"], strict=True):
        if p["png"] is not None:
            ring = np.array(feature["geometry"]["coordinates"][0])  # [5, 2] lon, lat
            box = [[ring[:, 1].min(), ring[:, 0].min()], [ring[:, 1].max(), ring[:, 0].max()]]
            _add_image(m, backend, p["png"], box, p["name"])
    style = {"color": "#ff7f00", "weight": 2, "fillOpacity": 0.0}
    layer: Any = collection
    if backend == "folium":  # leafmap's folium backend reads GeoJSON through geopandas
        import geopandas as gpd

        layer = gpd.GeoDataFrame.from_features(collection["features"], crs="EPSG:4326")
    m.add_geojson(layer, layer_name="footprints", style=style, zoom_to_layer=True)
    return m


def _add_image(m: Any, backend: str, url: str, box: list[list[float]], name: str) -> None:
    """Overlay one PNG on the lat/lon box ``[[south, west], [north, east]]``."""
    if backend == "folium":
        import folium

        folium.raster_layers.ImageOverlay(image=url, bounds=box, name=name).add_to(m)
    else:
        import ipyleaflet

        m.add(ipyleaflet.ImageOverlay(url=url, bounds=[tuple(c) for c in box], name=name))


def footprints_html(
    source: Any,
    *,
    crs: str | Sequence[str] | None = None,
    names: Sequence[str] | None = None,
    rgb: bool = True,
    limit: int = 200,
) -> str:
    """The folium footprint map as a standalone HTML page (for tests, CI and sharing).

    Arguments are those of :func:`footprint_map`.
    """
    m = footprint_map(source, crs=crs, names=names, rgb=rgb, backend="folium", limit=limit)
    return m.to_html()
