"""Footprint maps: every footprint reaches the HTML, reprojection, backends, errors."""

import pytest
import torch

from fusionx_lite.data import build_dataset
from fusionx_lite.maps import _pick_backend, footprint_map, footprints_geojson, footprints_html


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    return build_dataset("bundled", root=tmp_path_factory.mktemp("cache"), img_size=32)


def test_html_contains_every_footprint_and_preview(bundled):
    html = footprints_html(bundled)
    features = footprints_geojson(bundled)["features"]
    assert len(features) == 6
    for i, feature in enumerate(features):
        assert feature["properties"]["name"] == bundled.patch_id(i)
        assert bundled.patch_id(i) in html
        for lon, lat in feature["geometry"]["coordinates"][0][:4]:  # every corner
            assert str(lon) in html and str(lat) in html
    assert html.count("data:image/png;base64") == 6  # one RGB preview per patch
    assert "Pastures" in html  # labels travel with the footprints


def test_plain_bounds_are_reprojected_to_lon_lat():
    # UTM zone 33N has its central meridian at 15 E: easting 500000 is on it.
    bounds = torch.tensor([[500000.0, 5300000.0, 501200.0, 5301200.0]])
    ring = footprints_geojson(bounds, crs="EPSG:32633")["features"][0]["geometry"]["coordinates"][0]
    assert ring[0][0] == pytest.approx(15.0, abs=1e-6) and 47.8 < ring[0][1] < 47.9
    assert ring[0] == ring[-1] and len(ring) == 5  # closed ring
    html = footprints_html([(500000, 5300000, 501200, 5301200)], crs="EPSG:32633", names=["here"])
    assert "here" in html


def test_ipyleaflet_backend_builds_a_widget_without_a_browser(bundled):
    import ipyleaflet
    import leafmap

    m = footprint_map(bundled, backend="ipyleaflet")
    assert isinstance(m, leafmap.Map)
    assert sum(isinstance(layer, ipyleaflet.ImageOverlay) for layer in m.layers) == 6
    assert _pick_backend("auto") == "folium"  # no Jupyter kernel in a test run


def test_bad_inputs_are_clear_errors(bundled):
    with pytest.raises(ValueError, match="backend must be one of"):
        footprint_map(bundled, backend="plotly")
    with pytest.raises(ValueError, match="crs is required"):
        footprints_geojson([(0, 0, 1, 1)])
    with pytest.raises(ValueError, match="no footprints"):
        footprints_geojson([], crs="EPSG:4326")
    with pytest.raises(ValueError, match="no 'bounds'"):
        footprints_geojson(build_dataset("synthetic", length=2, img_size=32))
    with pytest.raises(ValueError, match="2 bounds, 2 crs and 1 names"):
        footprints_geojson([(0, 0, 1, 1)] * 2, crs="EPSG:4326", names=["a"])
