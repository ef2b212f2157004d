# %% [markdown]
# # 3. Masking strategies: consistent or independent?
#
# {{badges}}
#
# A masked autoencoder learns by filling in what it cannot see. With two sensors there
# are two ways to hide patches:
#
# * **consistent** masking hides the *same* positions in the radar and the optical
#   image: the model must guess a hidden place from its surroundings alone;
# * **independent** masking draws a separate mask per sensor: a place hidden in one
#   image is often visible in the other, so the model can *translate* between sensors.
#
# This notebook loads two small FusionX models pretrained on the synthetic world, one
# per strategy (a few minutes of CPU training each; `checkpoints/make_checkpoints.py`
# rebuilds them), and lets you look inside.
#
# **You will learn**
#
# 1. what the two strategies hide, and how much of a hidden patch's partner stays
#    visible;
# 2. how to read MAE reconstructions (original, masked, reconstruction, and the
#    reconstruction with the visible patches pasted back), with a live widget;
# 3. how the reconstruction error grows with the mask ratio, for each strategy, and
#    whether the visible partner patch really helps;
# 4. how to read cross-attention maps: which radar patches an optical patch looks at.

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
mask_ratio = 0.75  # fraction of patches hidden per modality
strategy = "independent"  # strategy of the first widget view and of the attention maps
ratios = [0.25, 0.5, 0.75, 0.9]  # mask ratios of the error curves
num_eval = 64  # validation scenes for the error curves
seed = 0  # seeds the masks and the scene choice
query = None  # (row, col) of the optical patch for the attention maps (None: centre)
threads = None  # PyTorch CPU threads (None: the CPUs this machine lets us use)

# %%
import numpy as np
import torch
from matplotlib.figure import Figure

from fusionx_lite import make_masks, patchify, plots
from fusionx_lite.config import STRATEGIES
from fusionx_lite.course import checkpoint_path, cpu_threads
from fusionx_lite.data import build_dataset
from fusionx_lite.train import load_pretrained
from fusionx_lite.widgets import MaskExplorer

%matplotlib inline
torch.manual_seed(seed)
torch.set_num_threads(threads or cpu_threads())
torch.set_grad_enabled(False)
models = {s: load_pretrained(checkpoint_path(s, checkpoint_dir)) for s in STRATEGIES}
cfg = models["consistent"].cfg
val = build_dataset("synthetic", split="val", img_size=cfg.img_size, length=num_eval, seed=0)
batch = {k: torch.stack([val[i][k] for i in range(len(val))])
         for k in ("sar", "optical", "cloud", "label")}
# the demo scene: among the scenes with under 5% cloud (so both images show the ground),
# the first one with the most land-cover classes
clear = batch["cloud"].mean(dim=(1, 2)) < 0.05
index = int(torch.where(clear, batch["label"].sum(dim=1), -1).argmax())
sample = val[index]
L, P = cfg.num_patches, cfg.patch_size

# %%
# NBVAL_CHECK_OUTPUT
for s, m in models.items():
    print(f"{s:12s} model: {m.cfg.fusion} fusion, pretrained with strategy={m.cfg.strategy!r}, "
          f"mask_ratio={m.cfg.mask_ratio}, {sum(p.numel() for p in m.parameters()):,d} parameters")
print(f"images {cfg.img_size} x {cfg.img_size} px, patches {P} x {P} px, L = {L} patches per modality")

# %% [markdown]
# ## 1. What each strategy hides
#
# Both strategies hide `round(mask_ratio * L)` patches per modality. Under consistent
# masking the two masks are identical; under independent masking they overlap only by
# chance.

# %%
hidden = round(mask_ratio * L)
masks = {}
for s in STRATEGIES:
    m_sar, m_opt = make_masks(1, L, mask_ratio, s, generator=torch.Generator().manual_seed(seed))
    masks[s] = (m_sar[0], m_opt[0])
plots.plot_masks(sample["sar"], sample["optical"], masks, P, val.optical_bands, sample["cloud"])

# %%
# NBVAL_CHECK_OUTPUT
print(f"mask ratio {mask_ratio}: {hidden} of {L} patches hidden per modality")
for s, (m_sar, m_opt) in masks.items():
    print(f"{s:12s} hidden SAR {int(m_sar.sum())}, hidden optical {int(m_opt.sum())}, "
          f"hidden in both {int((m_sar & m_opt).sum())}")
print(f"independent masks overlap by chance: about h^2 / L = {hidden ** 2 / L:.1f} patches expected")

# %% [markdown]
# ## 2. Reconstructions, live
#
# Each row of the grid is one modality: the original, the masked input the model
# receives, the model's prediction for **every** patch, and the prediction with the
# visible patches pasted back (the usual MAE picture: only the grey patches were
# guessed). The loss is computed on hidden patches only, so the prediction on visible
# patches is a by-product. The toggle switches both the masks and the model (each
# model was pretrained with its strategy). Both are drawn in physical units with the
# composites of notebook 1.

# %%
explorer = MaskExplorer(models, sample, val.optical_bands, seed=seed, mask_ratio=mask_ratio,
                        strategy=strategy)
explorer.widget()

# %% [markdown]
# A static copy of the two strategies at the default mask ratio (the widget above needs
# a live notebook):

# %%
for s in STRATEGIES:
    view = explorer.update(mask_ratio=mask_ratio, strategy=s)
    print(f"{s}: {view.counts}, hidden-patch MSE SAR {view.loss['sar']:.3f}, "
          f"optical {view.loss['optical']:.3f}")
    display(view.figure)

# %% [markdown]
# ## 3. How does the error grow with the mask ratio?
#
# One scene tells little. Over `num_eval` validation scenes, we measure the mean squared
# error on hidden patches, in standardised units (each band divided by its BigEarthNet
# standard deviation; bright synthetic clouds make optical values, and errors, large),
# for each model under each masking strategy at test time. A baseline that knows no
# deep learning fills every hidden patch with the mean of the visible patches of the
# same image and band: the models must beat it to have learned anything about the
# scenes.

# %%
def visible_mean_baseline(images: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Hidden-patch MSE of predicting each band's mean over the visible patches."""
    target = patchify(images, P)  # [N, L, P*P*C]
    n, _, width = target.shape
    per_band = target.reshape(n, L, P * P, -1)  # [N, L, P*P, C]
    keep = (~mask).float()[..., None, None]  # [N, L, 1, 1]
    mean = (per_band * keep).sum(dim=(1, 2)) / (keep.sum(dim=(1, 2)) * P * P)  # [N, C]
    pred = mean[:, None, None, :].expand_as(per_band).reshape(n, L, width)
    err = ((pred - target) ** 2).mean(dim=-1)  # [N, L]
    return (err * mask).sum() / mask.sum()


rows = []
for ratio in ratios:
    for test in STRATEGIES:
        for name, model in models.items():
            out = model(batch["sar"], batch["optical"], mask_ratio=ratio, strategy=test,
                        generator=torch.Generator().manual_seed(seed))
            rows.append({"ratio": ratio, "test": test, "model": name,
                         "sar": out.loss_sar.item(), "optical": out.loss_optical.item()})
        rows.append({"ratio": ratio, "test": test, "model": "visible-mean baseline",
                     "sar": visible_mean_baseline(batch["sar"], out.mask_sar).item(),
                     "optical": visible_mean_baseline(batch["optical"], out.mask_optical).item()})

# %%
fig = Figure(figsize=(12, 4.4), layout="constrained")
axes = fig.subplots(1, 2)
styles = {"consistent": "-", "independent": "--"}
colours = {"consistent": "C0", "independent": "C1", "visible-mean baseline": "0.5"}
for ax, modality in zip(axes, ("sar", "optical")):
    for name in colours:
        for test in STRATEGIES:
            sel = [r for r in rows if r["model"] == name and r["test"] == test]
            label = (f"{name} model, {test} test masks" if "baseline" not in name
                     else f"baseline, {test} test masks")
            ax.plot([r["ratio"] for r in sel], [r[modality] for r in sel], styles[test],
                    marker="o", color=colours[name], label=label)
    ax.set(xlabel="mask ratio at test time", ylabel="MSE on hidden patches (standardised)",
           title=f"{'SAR' if modality == 'sar' else 'optical'} reconstruction error, "
                 f"{len(val)} validation scenes")
    ax.grid(alpha=0.3)
axes[1].legend(fontsize="small", loc="upper left")
fig

# %% [markdown]
# ### Does the visible partner help?
#
# Under independent masking, a hidden optical patch sometimes has its radar patch
# visible, sometimes not. If the model has learned to translate between sensors, the
# first kind should be reconstructed better. We split the hidden patches of the
# independent model's test run at the default mask ratio accordingly.

# %%
model = models["independent"]
out = model(batch["sar"], batch["optical"], mask_ratio=mask_ratio, strategy="independent",
            generator=torch.Generator().manual_seed(seed))
split = {}
for modality, other in (("optical", "sar"), ("sar", "optical")):
    pred, target = getattr(out, f"pred_{modality}"), patchify(batch[modality], P)
    err = ((pred - target) ** 2).mean(dim=-1)  # [N, L]
    own, partner = getattr(out, f"mask_{modality}"), getattr(out, f"mask_{other}")
    split[modality] = {
        "partner visible": err[own & ~partner].mean().item(),
        "partner hidden": err[own & partner].mean().item(),
        "share with partner visible": (own & ~partner).sum().item() / own.sum().item(),
    }
    print(f"hidden {modality:8s} patches: MSE {split[modality]['partner visible']:.3f} when the "
          f"{other} patch is visible ({split[modality]['share with partner visible']:.0%} of them), "
          f"{split[modality]['partner hidden']:.3f} when it is hidden too")

# %% [markdown]
# Read the curves and the split with a critical eye before drawing conclusions:
#
# * Is the error lower when the partner patch is visible? Then the model does use the
#   other sensor, which is what independent masking is meant to teach.
# * Which model wins under its *own* strategy, and which under the *other* one? A model
#   pretrained with independent masks has always had a partner to lean on.
# * Reconstruction error is not the goal of pretraining: notebook 6 measures what the
#   encoders are worth for land-cover classification, which can rank them differently.
# * These are two small models, trained once on one synthetic world with one seed:
#   small differences between them are not significant.
#
# ## 4. Cross-attention maps: where does an optical patch look?
#
# In the first fusion block every optical token attends to the radar tokens (and the
# other way round). `model.attention_maps` returns these weights (here with nothing
# masked). We pick one optical patch and draw, over the radar image, how much weight
# it gives to each radar patch (averaged over the heads).

# %%
model = models[strategy]
grid = cfg.grid_size
q = tuple(query) if query is not None else (grid // 2, grid // 2)
maps = model.attention_maps(sample["sar"][None], sample["optical"][None], mask_ratio=0.0)
plots.plot_attention(sample["sar"], sample["optical"], maps, q, P, val.optical_bands,
                     direction="optical_to_sar", cloud=sample["cloud"])

# %%
# NBVAL_CHECK_OUTPUT
for key in ("optical_to_sar", "sar_to_optical"):
    print(key, tuple(maps[key].shape), "  # [blocks, N, heads, L_query, L_key]")

# %%
w = maps["optical_to_sar"][0, 0].mean(dim=0)  # [L, L]: optical query -> SAR key, heads averaged
rows_, cols_ = np.divmod(np.arange(L), grid)
dist = np.hypot(rows_[:, None] - rows_[None, :], cols_[:, None] - cols_[None, :])  # [L, L] in patches
same_place = w.diagonal().mean().item()
mean_dist = (w.numpy() * dist).sum(axis=1).mean()
# the land cover of each patch: its most common class
cm = val.class_map(index).reshape(grid, P, grid, P).permute(0, 2, 1, 3).reshape(L, P * P)
patch_class = cm.mode(dim=1).values  # [L]
same_class = (patch_class[:, None] == patch_class[None, :]).float()  # [L, L]
print(f"weight an optical patch gives to the SAR patch at the same place: {same_place:.3f} "
      f"(uniform attention: 1/L = {1 / L:.3f})")
print(f"attention-weighted distance to the SAR patches it looks at: {mean_dist:.2f} patches "
      f"(uniform attention: {dist.mean():.2f})")
print(f"attention on SAR patches of the query's land cover: {(w * same_class).sum(1).mean():.2f} "
      f"(uniform attention: {same_class.mean(1).mean():.2f})")

# %% [markdown]
# Compare each number with its uniform-attention value. A weight on the same place well
# above 1/L (and a shorter distance) means the model aligns the two sensors by position;
# the position embeddings of notebook 2 make that easy, yet nothing in the loss demands
# it. More attention on patches of the query's own land cover than uniform attention
# would give means the model gathers context from places that *look alike*, wherever
# they are. Small models trained for minutes often do neither clearly in their first
# block: read the numbers rather than the hopes. Try other query patches with the
# `query` parameter (e.g. one on a field edge), and the other model with `strategy`.
#
# ## Exercises
#
# **Exercise 1.** Under independent masking, each modality hides `h` of `L` patches at
# random. What fraction of the hidden optical patches has its radar partner *visible*,
# on average? Write it as a function of `L` and `h`.

# %%
def partner_visible_fraction(L: int, h: int) -> float | None:
    return None  # your formula


# %%
gen = torch.Generator().manual_seed(1)
m_sar, m_opt = make_masks(4000, L, mask_ratio, "independent", generator=gen)
simulated = ((m_opt & ~m_sar).sum() / m_opt.sum()).item()
answer = partner_visible_fraction(L, hidden)
if answer is None:
    print("Exercise 1: not answered yet. Hint: the SAR mask hides h of the L positions, "
          "whatever the optical mask did.")
else:
    assert abs(answer - simulated) < 0.01, f"{answer:.3f} does not match a simulation of 4000 masks"
    print(f"Exercise 1: correct! {answer:.3f} (simulated: {simulated:.3f})")

# %% [markdown]
# **Exercise 2.** Build the "reconstruction + visible" patches of the demo scene
# yourself: take the independent model's prediction `out1.pred_optical[0]` (below), the
# true patches `patchify(sample["optical"][None], P)[0]` and the mask
# `out1.mask_optical[0]`, and keep the prediction only where the patch is hidden.
# Store the result, `[L, P*P*C]`, in `pasted`.

# %%
out1 = models["independent"](sample["sar"][None], sample["optical"][None], mask_ratio=mask_ratio,
                             generator=torch.Generator().manual_seed(seed))
pasted = None  # your code

# %%
reference = plots.paste_visible(out1.pred_optical[0], patchify(sample["optical"][None], P)[0],
                                out1.mask_optical[0])
if pasted is None:
    print("Exercise 2: not answered yet. Hint: torch.where(mask[:, None], prediction, truth)")
else:
    assert torch.equal(pasted, reference), "not quite: visible patches must be the true ones"
    print("Exercise 2: correct!")

# %% [markdown]
# **Exercise 3.** In the error curves of section 3, at the default mask ratio, which
# *test-time* strategy gives the independent model the lower **optical** error:
# `"consistent"` or `"independent"`? Read it from `rows` (or the figure).

# %%
lower_error_strategy = None  # "consistent" or "independent"

# %%
at_ratio = {r["test"]: r["optical"] for r in rows
            if r["model"] == "independent" and abs(r["ratio"] - mask_ratio) < 1e-9}
if not at_ratio:
    print(f"Exercise 3: add mask_ratio={mask_ratio} to `ratios` to answer this one.")
elif lower_error_strategy is None:
    print("Exercise 3: not answered yet. Hint: filter rows by model, ratio and test.")
else:
    assert lower_error_strategy == min(at_ratio, key=at_ratio.get), "look again at the numbers"
    print(f"Exercise 3: correct! optical MSE by test strategy: "
          + ", ".join(f"{k} {v:.3f}" for k, v in at_ratio.items()) + ". Why would that be?")

# %% [markdown]
# <details><summary>Solutions</summary>
#
# 1. `return (L - h) / L`: the SAR mask hides `h` of the `L` positions independently of
#    the optical mask, so a given hidden optical position is visible in SAR with
#    probability `(L - h) / L = 1 - mask_ratio`.
# 2. `pasted = torch.where(out1.mask_optical[0][:, None], out1.pred_optical[0],
#    patchify(sample["optical"][None], P)[0])`
# 3. `lower_error_strategy = min(at_ratio, key=at_ratio.get)` with `at_ratio` as in the
#    check cell. Then ask why. Independent test masks give `1 - mask_ratio` of the
#    hidden patches a visible partner, which should help; if consistent masks still
#    give the lower error, the model does not lean on the partner much, and the
#    "partner visible / partner hidden" split of section 3 tells you how much it does.
# </details>
#
# ## Summary
#
# * Consistent masking hides the same places in both sensors; independent masking
#   leaves the partner of a hidden patch visible with probability `1 - mask_ratio`.
# * MAE reconstructions are blurry by design (the loss is a mean squared error); the
#   picture with the visible patches pasted back shows what the model actually guessed.
# * The error curves and the partner-visible split measure whether the model uses the
#   other sensor; cross-attention maps show where it looks.
#
# Next: notebook 4 pretrains such a model yourself; notebook 5 tries these two on real
# BigEarthNet patches.
