# %% [markdown]
# # 1. A tour of the data: radar and optical, synthetic and real
#
# {{badges}}
#
# FusionX learns from pairs of images of the same place: a **Sentinel-1** radar image
# (SAR, two polarisations VV and VH) and a **Sentinel-2** optical image (12 spectral
# bands). Before building a model, look at what the two sensors see.
#
# **You will learn**
#
# 1. what a sample of the kit holds, and how to draw SAR as a false-colour composite
#    and optical as true colour;
# 2. how the synthetic world is made, and what its two knobs do: **clouds** (which hide
#    the optical image but not the radar) and **speckle** (the grainy noise of radar);
# 3. why the two sensors complement each other, measured on the classes of the world;
# 4. what real BigEarthNet patches look like, and where on Earth they are.

# %%
# On Colab, install the kit first (elsewhere it is already installed).
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q",
         "git+https://github.com/fusionx-lite/fusionx-lite"],
        check=True,
    )

# %% tags=["parameters"]
img_size = 64  # H = W of the synthetic scenes, in 10 m pixels
seed = 0  # world seed: the same seed always gives the same scenes
num_scenes = 3  # scenes in the gallery
num_stats = 200  # scenes used to measure the class signatures
cloud_cover = 0.3  # mean cloud cover of the world (0 to 1)
looks = 4.4  # speckle: equivalent number of looks (Sentinel-1 GRD has about 4.4)
scene = 0  # the scene used for the knob experiments
show_map = True  # draw the footprints of the real patches on an interactive map

# %%
import textwrap

import numpy as np
import torch
from matplotlib.figure import Figure

from fusionx_lite import plots
from fusionx_lite.data import (
    OPTICAL_STD,
    build_dataset,
    denormalize_optical,
    denormalize_sar,
    optical_band_indices,
    rgb_indices,
)
from fusionx_lite.widgets import WorldExplorer

%matplotlib inline
torch.manual_seed(seed)
np.random.seed(seed)
world = build_dataset("synthetic", split="train", img_size=img_size, seed=seed,
                      length=max(num_scenes, num_stats, scene + 1), cloud_cover=cloud_cover,
                      looks=looks)
sample = world[scene]

# %% [markdown]
# ## What is in a sample?
#
# Every data source of the kit (synthetic world, bundled real patches, full
# BigEarthNet) returns the same dictionary of tensors. Images are *standardised*: each
# band has had a dataset mean subtracted and was divided by a standard deviation, which
# is what a neural network likes. To draw them we undo that and get back physical
# units: backscatter in **dB** for SAR, **reflectance** (0 to 1) for optical.

# %%
# NBVAL_CHECK_OUTPUT
for key, value in sample.items():
    print(f"{key:8s} {str(value.dtype):14s} {tuple(value.shape)}")
print("SAR bands:    ", world.sar_bands)
print("optical bands:", world.optical_bands)
print("classes:      ", world.class_names)

# %%
sar_db = denormalize_sar(sample["sar"])  # [2, H, W] in dB
reflectance = denormalize_optical(sample["optical"], world.optical_bands)  # [C, H, W]
print(f"VV {sar_db[0].mean():.1f} dB, VH {sar_db[1].mean():.1f} dB on average; "
      f"red reflectance {reflectance[rgb_indices(world.optical_bands)[0]].mean():.3f}")

# %% [markdown]
# ## A gallery of synthetic scenes
#
# * **SAR false colour**: red = VV, green = VH, blue = VV/VH (their difference in dB),
#   each with the fixed stretch written above the image. Water is a dark mirror (the
#   radar pulse bounces away), forests are bright in VH (volume scattering in the
#   canopy), towns are bright in VV (walls and ground make corner reflectors), and the
#   grain everywhere is **speckle**.
# * **Optical true colour**: red = B04, green = B03, blue = B02, stretched between the
#   2nd and 98th percentile of the cloud-free pixels. Clouds are white and cast dark
#   shadows.
# * The cloud mask and the ground-truth land cover come with the synthetic world only.

# %%
for i in range(num_scenes):
    s = world[i]
    fig = plots.plot_sample(s["sar"], s["optical"], world.optical_bands,
                            class_map=world.class_map(i), class_names=world.class_names,
                            cloud=s["cloud"], title=f"synthetic scene {i}")
    display(fig)

# %% [markdown]
# ## Knob 1: clouds hide the optical image, never the radar
#
# The world draws clouds *after* the landscape, so changing `cloud_cover` changes only
# the clouds. Radar (C-band, 5.6 cm waves) passes through clouds: the SAR image stays
# the same to the last bit.

# %%
covers = [0.0, 0.5, 0.9]
versions = [build_dataset("synthetic", split="train", img_size=img_size, seed=seed,
                          length=scene + 1, cloud_cover=c, looks=looks)[scene] for c in covers]
clear_rgb = denormalize_optical(versions[0]["optical"], world.optical_bands)[rgb_indices(world.optical_bands)]
limits = plots.stretch_limits(clear_rgb)  # one stretch for all three, from the clear image
fig = Figure(figsize=(13, 3.6), layout="constrained")
axes = fig.subplots(1, 4)
axes[0].imshow(plots.sar_false_colour(denormalize_sar(versions[0]["sar"])), interpolation="nearest")
axes[0].set_title("SAR (the same for every cloud cover)", fontsize="small")
for ax, c, v in zip(axes[1:], covers, versions):
    refl = denormalize_optical(v["optical"], world.optical_bands)
    ax.imshow(plots.optical_true_colour(refl, world.optical_bands, limits), interpolation="nearest")
    ax.set_title(f"optical, cloud_cover={c}: {v['cloud'].mean():.0%} hidden", fontsize="small")
for ax in axes:
    ax.set(xlabel="x (pixels, 10 m)", ylabel="y (pixels, 10 m)")
fig

# %%
# NBVAL_CHECK_OUTPUT
print("SAR identical under every cloud cover:",
      all(torch.equal(versions[0]["sar"], v["sar"]) for v in versions))

# %% [markdown]
# ## Knob 2: speckle
#
# A radar pixel adds the echoes of many scatterers with random phases, so its brightness
# fluctuates around the true backscatter: **speckle**. Averaging L independent looks
# tames it: the intensity is the true value times a Gamma(L, 1/L) variable whose
# relative spread is 1/sqrt(L). Sentinel-1 GRD images have about 4.4 looks.

# %%
looks_values = [1.0, 4.4, 30.0]
views = [build_dataset("synthetic", split="train", img_size=img_size, seed=seed,
                       length=scene + 1, cloud_cover=cloud_cover, looks=lk).render(scene)
         for lk in looks_values]
main_class = np.bincount(views[0]["class_map"].ravel()).argmax()
fig = Figure(figsize=(14, 3.6), layout="constrained")
axes = fig.subplots(1, 4)
for ax, lk, v in zip(axes[:3], looks_values, views):
    im = ax.imshow(v["sar_db"][0], cmap="gray", vmin=-25, vmax=0, interpolation="nearest")
    ax.set(title=f"VV, {lk:g} look{'s' if lk != 1 else ''}", xlabel="x (pixels, 10 m)", ylabel="y (pixels, 10 m)")
    inside = v["sar_db"][0][v["class_map"] == main_class]
    axes[3].hist(inside, bins=60, range=(-30, 5), histtype="step", lw=1.5,
                 label=f"{lk:g} looks: std {inside.std():.1f} dB")
fig.colorbar(im, ax=axes[:3], label="VV backscatter (dB)", shrink=0.8)
axes[3].set(xlabel="VV backscatter (dB)", ylabel="pixels",
            title=f"VV over the {world.class_names[main_class]} pixels")
axes[3].legend(fontsize="small")
fig

# %% [markdown]
# ### Try the knobs yourself
#
# Move the sliders: the scene below is redrawn with your cloud cover and number of looks
# (the widget needs a live notebook; a static copy follows it).

# %%
explorer = WorldExplorer(index=scene, img_size=img_size, seed=seed, cloud_cover=cloud_cover,
                         looks=looks)
explorer.widget()

# %%
view = explorer.update(cloud_cover=0.6, looks=1.0)
print(f"cloud or shadow over {view.cloud_fraction:.0%} of the image; "
      f"VV varies by {view.sar_db_std:.1f} dB across the scene")
view.figure

# %% [markdown]
# ## Why two sensors? Measure the class signatures
#
# We average every class over `num_stats` scenes, in physical units: optical
# reflectance on cloud-free pixels, radar backscatter on all pixels.

# %%
K, C = len(world.class_names), len(world.optical_bands)
opt_sum, opt_n = np.zeros((K, C)), np.zeros(K)
sar_sum, sar_sq, sar_n = np.zeros((K, 2)), np.zeros((K, 2)), np.zeros(K)
hidden, total = 0, 0
for i in range(num_stats):
    r = world.render(i)
    cm, clear = r["class_map"].ravel(), ~r["cloud"].ravel()
    refl, db = r["reflectance"].reshape(C, -1), r["sar_db"].reshape(2, -1)
    np.add.at(opt_sum, cm[clear], refl[:, clear].T)
    opt_n += np.bincount(cm[clear], minlength=K)
    np.add.at(sar_sum, cm, db.T)
    np.add.at(sar_sq, cm, db.T ** 2)
    sar_n += np.bincount(cm, minlength=K)
    hidden, total = hidden + r["cloud"].sum(), total + r["cloud"].size
seen = (opt_n > 0) & (sar_n > 0)
opt_mean = opt_sum / np.maximum(opt_n, 1)[:, None]  # [K, C] reflectance
sar_mean = sar_sum / np.maximum(sar_n, 1)[:, None]  # [K, 2] dB
sar_std = np.sqrt(np.maximum(sar_sq / np.maximum(sar_n, 1)[:, None] - sar_mean ** 2, 0))
red, nir = world.optical_bands.index("B04"), world.optical_bands.index("B08")
print(f"{'class':20s} {'red':>6s} {'NIR':>6s} {'VV dB':>7s} {'VH dB':>7s}  pixels")
for k in np.flatnonzero(seen):
    print(f"{world.class_names[k]:20s} {opt_mean[k, red]:6.3f} {opt_mean[k, nir]:6.3f} "
          f"{sar_mean[k, 0]:7.1f} {sar_mean[k, 1]:7.1f}  {int(sar_n[k]):,d}")

# %%
palette = plots.class_colours(world.class_names)
fig = Figure(figsize=(12, 4.6), layout="constrained")
ax_o, ax_s = fig.subplots(1, 2)
for k in np.flatnonzero(seen):
    ax_o.scatter(opt_mean[k, red], opt_mean[k, nir], s=120, color=palette[k], edgecolor="k",
                 label=world.class_names[k])
    ax_s.errorbar(sar_mean[k, 0], sar_mean[k, 1], xerr=sar_std[k, 0], yerr=sar_std[k, 1],
                  fmt="o", ms=10, color=palette[k], mec="k", capsize=3)
ax_o.set(xlabel="red reflectance (B04)", ylabel="near-infrared reflectance (B08)",
         title="optical: class means (cloud-free pixels)")
ax_s.set(xlabel="VV backscatter (dB)", ylabel="VH backscatter (dB)",
         title="radar: class means ± 1 std (speckle included)")
fig.legend(loc="outside right center", fontsize="small", title="class")
fig

# %% [markdown]
# Read the two panels together. In the optical panel, vegetation sits high (plants
# reflect near-infrared strongly) and bare soil and towns sit close together. In the
# radar panel, towns are far to the right of everything (bright VV) and water far to
# the bottom-left, but the crop types pile up on top of each other: C-band radar sees
# their structure and moisture, not their colour. Each sensor separates classes the
# other confuses, and radar keeps working under clouds. That is the bet of SAR-optical
# fusion.
#
# ## Exercises
#
# **Exercise 1.** Which class is the nearest neighbour of `"Bare soil"` in the optical
# bands (the smallest Euclidean distance between class means, with every band divided
# by its dataset standard deviation `np.array(OPTICAL_STD) / 10000`)? And how many dB
# apart are the two classes in VV (absolute difference of `sar_mean[:, 0]`)?

# %%
nearest_to_bare_soil = None  # a class name, e.g. "Water"
vv_gap_db = None  # a number in dB

# %%
scale = np.array(OPTICAL_STD)[optical_band_indices(world.optical_bands)] / 10000
soil = world.class_names.index("Bare soil")
dist = np.linalg.norm((opt_mean - opt_mean[soil]) / scale, axis=1)
dist[soil] = np.inf
dist[~seen] = np.inf
truth_class = world.class_names[int(dist.argmin())]
truth_gap = abs(sar_mean[soil, 0] - sar_mean[int(dist.argmin()), 0])
if nearest_to_bare_soil is None or vv_gap_db is None:
    print("Exercise 1: not answered yet. Hint: np.linalg.norm((opt_mean - opt_mean[soil]) / scale, axis=1)")
else:
    assert nearest_to_bare_soil == truth_class, f"{nearest_to_bare_soil!r} is not the nearest class"
    assert abs(vv_gap_db - truth_gap) < 0.1, f"the VV gap is not {vv_gap_db:.1f} dB"
    print(f"Exercise 1: correct! {truth_class} looks like bare soil to Sentinel-2, "
          f"but radar puts them {truth_gap:.1f} dB apart.")

# %% [markdown]
# **Exercise 2.** What fraction of all optical pixels of the `num_stats` scenes is hidden
# by cloud or shadow? Use the `cloud` entry of the samples (`world[i]["cloud"]`). How does
# it compare with `cloud_cover`?

# %%
hidden_fraction = None  # a number between 0 and 1

# %%
truth_fraction = hidden / total
if hidden_fraction is None:
    print("Exercise 2: not answered yet. Hint: average world[i]['cloud'].mean() over the scenes.")
else:
    assert abs(hidden_fraction - truth_fraction) < 1e-3, f"{hidden_fraction:.3f} is not right"
    print(f"Exercise 2: correct! {truth_fraction:.1%} hidden for a mean cloud cover of "
          f"{cloud_cover:.0%} (each scene draws its own cloud fraction).")

# %% [markdown]
# <details><summary>Solutions</summary>
#
# 1. `k = int(dist.argmin())` with `dist` as in the hint (setting the class itself to
#    infinity), then `nearest_to_bare_soil = world.class_names[k]` and
#    `vv_gap_db = abs(sar_mean[soil, 0] - sar_mean[k, 0])`.
# 2. `hidden_fraction = np.mean([world[i]["cloud"].mean().item() for i in range(num_stats)])`
#    (every scene has the same number of pixels, so the mean of the means is the overall
#    fraction). It is close to `cloud_cover`, as designed.
# </details>

# %% [markdown]
# ## Real data: six BigEarthNet patches
#
# The kit ships six real Sentinel-1 / Sentinel-2 patch pairs from BigEarthNet v1 (they
# come with the `bigearthnet-common` package, so no download is needed). Each is
# 120 x 120 pixels of 10 m (1.2 km across) and carries the multi-labels of the 19-class
# BigEarthNet nomenclature, taken from the CORINE land-cover map.

# %%
real = build_dataset("bundled", img_size=120)
real_samples = [real[i] for i in range(len(real))]
titles = []
for i, s in enumerate(real_samples):
    labels = [real.class_names[k] for k in s["label"].nonzero().flatten().tolist()]
    titles.append(f"patch {i}\n" + "\n".join(textwrap.fill(lab, 26) for lab in labels))

# %%
# NBVAL_CHECK_OUTPUT
print(len(real), "patch pairs;", len(real.class_names), "classes")
for key in ("sar", "optical", "label", "bounds"):
    print(f"{key:8s} {tuple(real_samples[0][key].shape)}")
print("crs of each patch:", [s["crs"] for s in real_samples])

# %%
plots.plot_pairs(real_samples, real.optical_bands, titles)

# %% [markdown]
# Compare them with the synthetic scenes. Real fields are larger and their edges less
# regular, real speckle sits on top of textures the synthetic world does not have
# (hedges, roads, roofs), and the winter patch from Finland is covered in snow (bright
# in the optical image, a different radar response too). Keep these differences in
# mind for notebook 5, where a model pretrained on the synthetic world meets these
# patches.
#
# ### Where are they?
#
# Each sample carries its footprint (`bounds` in the UTM zone given by `crs`). The map
# outlines them in orange with the true-colour preview on top; zoom in to see each one.
# (`backend="folium"` draws a static map that renders everywhere; in JupyterLab,
# `backend="ipyleaflet"` gives an interactive widget.)

# %%
from fusionx_lite.maps import footprint_map

footprint_map(real, backend="folium") if show_map else None

# %% [markdown]
# ## Summary
#
# * A sample is a dict of standardised tensors: `sar` (VV, VH), `optical` (12 bands),
#   `label` (multi-hot), plus `cloud` (synthetic) or `bounds` and `crs` (real data).
# * SAR is drawn as a false-colour composite (VV, VH, VV/VH), optical as true colour
#   (B04, B03, B02) with a percentile stretch; always state the stretch.
# * Clouds hide the optical image and leave the radar untouched; speckle makes radar
#   grainy, less so with more looks.
# * Optical bands separate vegetation types, radar separates built-up areas, water and
#   forests by structure: each sensor resolves what the other confuses.
#
# Next: notebook 2 builds the fusion encoder that learns from both.
