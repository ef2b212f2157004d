# %% [markdown]
# # 5. From the synthetic world to real BigEarthNet patches
#
# {{badges}}
#
# The models of notebook 3 never saw a real image: they were pretrained on the
# synthetic world only. Here they meet the six real Sentinel-1 / Sentinel-2 patch pairs
# from BigEarthNet that ship with the kit. This is a small *domain-shift* experiment:
# what carries over from a simulated world to real imagery, and what does not?
#
# **You will learn**
#
# 1. how to run a pretrained model on real patches (same normalisation, same size);
# 2. how to read reconstructions for both strategies and several mask ratios;
# 3. how to judge them honestly: against a trivial baseline, and against the error the
#    same models make on the synthetic world they were trained on.

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
checkpoint_dir = None  # folder holding lite-consistent.pt / lite-independent.pt (None: the kit's)
ratios = [0.5, 0.75, 0.9]  # mask ratios to compare
fit = "crop"  # real 120 px patches -> model size: "crop" (keeps 10 m pixels) or "resize"
show = [1, 5]  # real patches drawn in full (indices 0-5)
num_synthetic = 64  # synthetic validation scenes for the reference errors
seed = 0  # seeds the masks
threads = None  # PyTorch CPU threads (None: the CPUs this machine lets us use)

# %%
import numpy as np
import torch

from fusionx_lite import patchify, plots
from fusionx_lite.config import STRATEGIES
from fusionx_lite.course import checkpoint_path, cpu_threads
from fusionx_lite.data import build_dataset
from fusionx_lite.train import load_pretrained

%matplotlib inline
torch.manual_seed(seed)
torch.set_num_threads(threads or cpu_threads())
torch.set_grad_enabled(False)
models = {s: load_pretrained(checkpoint_path(s, checkpoint_dir)) for s in STRATEGIES}
cfg = models["consistent"].cfg
P, L = cfg.patch_size, cfg.num_patches
real = build_dataset("bundled", img_size=cfg.img_size, fit=fit)
synthetic = build_dataset("synthetic", split="val", img_size=cfg.img_size, length=num_synthetic,
                          seed=0)


def stack(ds) -> dict[str, torch.Tensor]:
    return {k: torch.stack([ds[i][k] for i in range(len(ds))]) for k in ("sar", "optical")}


real_batch, syn_batch = stack(real), stack(synthetic)

# %%
# NBVAL_CHECK_OUTPUT
print(f"{len(real)} real patch pairs, {fit}ped to {cfg.img_size} x {cfg.img_size} px: "
      f"sar {tuple(real_batch['sar'].shape)}, optical {tuple(real_batch['optical'].shape)}")
print("same bands and normalisation as the synthetic world:",
      real.optical_bands == synthetic.optical_bands and real.sar_bands == synthetic.sar_bands)

# %% [markdown]
# Both data sources are standardised with the same BigEarthNet statistics, so the model
# sees real patches in the units it was trained on. With `fit="crop"` we keep the
# central 64 x 64 pixels (640 m) of each 120 x 120 patch: the pixel size stays 10 m,
# as in training.
#
# ## What the models see, and what they paint back
#
# For two real patches, both strategies at the middle mask ratio: the full
# reconstruction grid of notebook 3.

# %%
middle = ratios[len(ratios) // 2]
for i in show:
    s = real[i]
    for strategy, model in models.items():
        o = model(s["sar"][None], s["optical"][None], mask_ratio=middle, strategy=strategy,
                  generator=torch.Generator().manual_seed(seed))
        display(plots.plot_reconstruction(
            s["sar"], s["optical"], o.pred_sar[0], o.pred_optical[0], o.mask_sar[0],
            o.mask_optical[0], P, real.optical_bands,
            title=f"real patch {i} ({real.patch_id(i)}), {strategy} masking, ratio {middle}"))

# %% [markdown]
# ## Several mask ratios
#
# The same optical patch for each strategy (rows) and mask ratio (columns), with the
# visible patches pasted back and the hidden ones outlined.

# %%
i = show[0]
s = real[i]
cells = {m: {} for m in ("sar", "optical")}
for strategy, model in models.items():
    for ratio in ratios:
        o = model(s["sar"][None], s["optical"][None], mask_ratio=ratio, strategy=strategy,
                  generator=torch.Generator().manual_seed(seed))
        for m in cells:
            cells[m][strategy, f"ratio {ratio}"] = (getattr(o, f"pred_{m}")[0],
                                                   getattr(o, f"mask_{m}")[0])
for m in ("optical", "sar"):
    display(plots.plot_sweep(s[m], m, cells[m], P, real.optical_bands,
                             title=f"real patch {i}, {m}: reconstruction + visible patches"))

# %% [markdown]
# ## Measure it: real against synthetic, model against a trivial baseline
#
# For every strategy and mask ratio we compute the mean squared error on hidden patches
# (standardised units), on the six real patches and on `num_synthetic` synthetic
# validation scenes. The baseline fills each hidden patch with the mean of the visible
# patches of the same image and band: a model that cannot beat it has learned nothing
# transferable about the scenes.

# %%
def hidden_errors(model, batch, ratio, strategy):
    """Per-image hidden-patch MSE of the model and of the visible-mean baseline."""
    o = model(batch["sar"], batch["optical"], mask_ratio=ratio, strategy=strategy,
              generator=torch.Generator().manual_seed(seed))
    result = {}
    for m in ("sar", "optical"):
        target = patchify(batch[m], P)  # [N, L, P*P*C]
        mask = getattr(o, f"mask_{m}")  # [N, L]
        err = ((getattr(o, f"pred_{m}") - target) ** 2).mean(dim=-1)  # [N, L]
        bands = target.reshape(*target.shape[:2], P * P, -1)  # [N, L, P*P, C]
        keep = (~mask).float()[..., None, None]
        mean = (bands * keep).sum(dim=(1, 2)) / (keep.sum(dim=(1, 2)) * P * P)  # [N, C]
        base = ((bands - mean[:, None, None]) ** 2).mean(dim=(2, 3))  # [N, L]
        hidden = mask.float()
        result[m] = ((err * hidden).sum(1) / hidden.sum(1), (base * hidden).sum(1) / hidden.sum(1))
    return result


table = []
for strategy, model in models.items():
    for ratio in ratios:
        r_err, s_err = hidden_errors(model, real_batch, ratio, strategy), hidden_errors(
            model, syn_batch, ratio, strategy)
        for m in ("sar", "optical"):
            table.append({"strategy": strategy, "ratio": ratio, "modality": m,
                          "real": r_err[m][0].mean().item(), "real baseline": r_err[m][1].mean().item(),
                          "real per patch": r_err[m][0].numpy(),
                          "real baseline per patch": r_err[m][1].numpy(),
                          "synthetic": s_err[m][0].mean().item(),
                          "synthetic baseline": s_err[m][1].mean().item()})
print(f"{'strategy':12s} {'ratio':>5s} {'modality':8s} {'real':>7s} {'baseline':>9s} "
      f"{'synthetic':>10s} {'baseline':>9s}   (hidden-patch MSE)")
for r in table:
    print(f"{r['strategy']:12s} {r['ratio']:5.2f} {r['modality']:8s} {r['real']:7.3f} "
          f"{r['real baseline']:9.3f} {r['synthetic']:10.3f} {r['synthetic baseline']:9.3f}")

# %%
from matplotlib.figure import Figure

fig = Figure(figsize=(12, 4.2), layout="constrained")
axes = fig.subplots(1, 2)
for ax, m in zip(axes, ("sar", "optical")):
    for strategy, colour in zip(STRATEGIES, ("C0", "C1")):
        sel = [r for r in table if r["strategy"] == strategy and r["modality"] == m]
        ax.plot(ratios, [r["real"] for r in sel], "-o", color=colour, label=f"{strategy}, real")
        ax.plot(ratios, [r["synthetic"] for r in sel], ":o", color=colour,
                label=f"{strategy}, synthetic")
    sel = [r for r in table if r["strategy"] == "independent" and r["modality"] == m]
    ax.plot(ratios, [r["real baseline"] for r in sel], "-s", color="0.5",
            label="visible-mean baseline, real")
    ax.set(xlabel="mask ratio", ylabel="MSE on hidden patches (standardised)",
           title=f"{'SAR' if m == 'sar' else 'optical'}: real patches vs the synthetic world")
    ax.grid(alpha=0.3)
axes[0].legend(fontsize="small")
fig

# %%
# The verdict, computed from the table above
for m in ("sar", "optical"):
    rows_m = [r for r in table if r["modality"] == m]
    wins = sum(int((r["real per patch"] < r["real baseline per patch"]).sum()) for r in rows_m)
    total = sum(len(r["real per patch"]) for r in rows_m)
    gain_real = np.mean([1 - r["real"] / r["real baseline"] for r in rows_m])
    gain_syn = np.mean([1 - r["synthetic"] / r["synthetic baseline"] for r in rows_m])
    print(f"{m:8s}: the models beat the baseline on {wins} of {total} (patch, strategy, ratio) "
          f"cases; mean error reduction vs the baseline {gain_real:+.0%} on real patches, "
          f"{gain_syn:+.0%} on synthetic scenes")

# %% [markdown]
# ## An honest reading
#
# What a model pretrained only on the synthetic world **can** do on real patches:
#
# * take real data at all: the same bands, units and normalisation, so nothing breaks;
# * carry over what the synthetic world shares with reality: the typical brightness of
#   each band and sensor, the smoothness of fields at the 80 m scale of a patch, the
#   relation between neighbouring patches. Wherever the error-reduction line above is
#   positive, the model does better than copying the visible average.
#
# What it **cannot** do, and why:
#
# * paint real texture: hedgerows, roads, roofs, field edges thinner than a patch. The
#   synthetic world has smooth fields and a handful of land-cover types, so the model
#   has never seen such detail; reconstructions are blurry averages (every MAE trained
#   with a mean squared error blurs, and this small one more so).
# * handle what the world never shows: snow (real patch 4, Finland in February), mixed
#   forest, wetlands, permanent crops. The synthetic world has 8 classes; BigEarthNet
#   has 19 (43 in its original nomenclature).
# * know when it is unsure. At high mask ratios a reconstruction may turn whitish: in
#   the synthetic world, bright flat patches (clouds) are common, so painting one is a
#   cheap guess when little is visible. BigEarthNet's official splits leave cloudy
#   patches out, so that prior does not transfer.
# * be trusted from six patches. Six real pairs are a sanity check, not a benchmark:
#   per-patch errors vary a lot (look at the per-patch numbers), and one seed of one
#   small model says nothing about the strategies in general.
#
# Comparing the strategies: look at the table before believing a winner. Independent
# masking gives the model a partner patch to translate from; if the synthetic relation
# between radar and optical values differs from the real one, that advantage can shrink
# or turn around on real data. The way to find out is to pretrain on real data:
# notebook 4 with `data="subset"` (prepared by `data_scripts/build_subset.py`) on a GPU.
#
# ## Exercises
#
# **Exercise 1.** Which of the six real patches is hardest for the *independent* model's
# **optical** reconstruction at the middle mask ratio (highest hidden-patch MSE)? Use the
# `"real per patch"` entries of `table`. Then look at the patch in notebook 1: can you
# say why?

# %%
hardest_patch = None  # an index 0-5

# %%
row = next(r for r in table if r["strategy"] == "independent" and r["ratio"] == middle
           and r["modality"] == "optical")
truth = int(np.argmax(row["real per patch"]))
if hardest_patch is None:
    print("Exercise 1: not answered yet. Hint: np.argmax(row['real per patch']) for the right row.")
else:
    assert hardest_patch == truth, f"patch {hardest_patch} is not the hardest one"
    print(f"Exercise 1: correct! Patch {truth} ({real.patch_id(truth)}), labels: "
          + ", ".join(real.class_names[k] for k in real[truth]['label'].nonzero().flatten().tolist()))

# %% [markdown]
# **Exercise 2.** By what factor is the consistent model's optical error on real patches
# larger than on synthetic scenes, at the middle mask ratio (`real / synthetic`)?

# %%
domain_gap = None  # a number

# %%
row = next(r for r in table if r["strategy"] == "consistent" and r["ratio"] == middle
           and r["modality"] == "optical")
if domain_gap is None:
    print("Exercise 2: not answered yet.")
else:
    assert abs(domain_gap - row["real"] / row["synthetic"]) < 0.01 * row["real"] / row["synthetic"]
    print(f"Exercise 2: correct! {row['real'] / row['synthetic']:.2f}x. A factor far from 1 in "
          "either direction means the two worlds differ; below 1 can simply mean real patches "
          "are smoother or have no clouds.")

# %% [markdown]
# <details><summary>Solutions</summary>
#
# 1. `hardest_patch = int(np.argmax(row["real per patch"]))` with `row` the independent,
#    middle-ratio, optical entry of `table`.
# 2. `domain_gap = row["real"] / row["synthetic"]` with `row` the consistent,
#    middle-ratio, optical entry.
# </details>
#
# ## Summary
#
# * Shared normalisation lets a synthetic-world model run on real patches unchanged.
# * Judge reconstructions with numbers: against a trivial baseline, and against the
#   error on the training domain.
# * Smooth, low-detail reconstructions on real data are expected from this small,
#   synthetic-only model; pretraining on real data is the fix, not a bigger figure.
