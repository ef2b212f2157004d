# %% [markdown]
# # 4. Pretrain a FusionX model
#
# {{badges}}
#
# Time to train. This notebook pretrains the masked autoencoder of notebooks 2 and 3
# with the kit's engine (`fusionx_lite.train.pretrain`): AdamW, a linear warmup then a
# cosine decay of the learning rate, seeded masks, a checkpoint after every epoch.
#
# It runs anywhere: on a GPU when there is one (on Colab choose *Runtime > Change
# runtime type > GPU*; this notebook asks for one), on the CPU otherwise. The default
# parameters take about a minute on a laptop CPU and give a rough model; the table
# below suggests longer runs.
#
# **You will learn**
#
# 1. how to choose a preset, a data source, a masking strategy and a training budget;
# 2. how to follow a run (progress bar, loss curve) and check it against simple
#    references;
# 3. how to save, reload and reuse the model in the other notebooks.
#
# | where | suggested parameters | time |
# |---|---|---|
# | laptop CPU, Binder | `preset="lite"`, `length=1024`, `epochs=3` (the defaults) | ~1 min |
# | laptop CPU, patient | `preset="lite"`, `length=4096`, `epochs=20` (the kit's checkpoints) | ~15-30 min |
# | Colab T4 GPU | `preset="lite"`, `length=10000`, `epochs=50`, `batch_size=128` | ~10 min |
# | GPU, real data | `preset="base"`, `data="subset"`, `data_root="data/subset"` | hours |
#
# Real BigEarthNet data must be prepared first with the scripts in `data_scripts/`
# (`download_bigearthnet.py`, then `build_subset.py` for a compact `subset`).

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
preset = "lite"  # model size: "tiny", "lite" or "base"
data = "synthetic"  # "synthetic", or real data: "bigearthnet", "bigearthnet-v2", "subset"
data_root = None  # folder of the real data prepared by data_scripts/ (None for synthetic)
strategy = "independent"  # masking strategy: "consistent" or "independent"
mask_ratio = 0.75  # fraction of patches hidden per modality
length = 1024  # training samples
epochs = 3  # passes over the training samples
batch_size = 32  # samples per optimiser step
lr = 1.5e-3  # peak learning rate (warmup over the first epoch, then cosine decay)
device = "auto"  # "auto" (GPU if there is one), "cpu", "cuda" or "mps"
seed = 0  # seeds the weights, the sample order and the masks
out = "runs/nb04"  # folder for this notebook's runs
threads = None  # PyTorch CPU threads (None: the CPUs this machine lets us use)

# %%
import dataclasses
from pathlib import Path

import torch

from fusionx_lite import FusionXConfig, plots
from fusionx_lite.course import checkpoint_path, cpu_threads, slim_checkpoint
from fusionx_lite.curves import plot_loss_curve
from fusionx_lite.data import build_dataset
from fusionx_lite.train import load_pretrained, pick_device, pretrain

%matplotlib inline
torch.manual_seed(seed)
torch.set_num_threads(threads or cpu_threads())
run_dir = Path(out) / f"{preset}-{strategy}"
train_set = build_dataset(data, split="train", img_size=FusionXConfig.preset(preset).img_size,
                          length=length, root=data_root, seed=seed)
cfg = FusionXConfig.preset(preset, strategy=strategy, mask_ratio=mask_ratio,
                           optical_channels=len(train_set.optical_bands))
dev = pick_device(device)
print(f"training on: {dev}" + (f" ({torch.cuda.get_device_name(dev)})" if dev.type == "cuda" else ""))

# %%
# NBVAL_CHECK_OUTPUT
print(f"preset {preset!r}: image {cfg.img_size} px, patch {cfg.patch_size} px, width {cfg.embed_dim}, "
      f"{cfg.cross_depth} fusion + {cfg.depth} shared blocks")
print(f"data {data!r}: {len(train_set)} samples, {len(train_set.optical_bands)} optical bands")
print(f"{epochs} epochs x {len(train_set) // batch_size} steps of {batch_size} samples")

# %% [markdown]
# ## Train
#
# `pretrain` builds the model from `cfg`, runs the loop with a progress bar and writes
# the run folder: `run.json` (settings), `checkpoint.pt`, `loss.csv` (one row per step)
# and `loss.png`. `overwrite=True` replaces an earlier run of this notebook with the
# same preset and strategy; `resume=True` would continue a killed one instead.

# %%
result = pretrain(cfg, train_set, run_dir, epochs=epochs, batch_size=batch_size, lr=lr,
                  device=device, seed=seed, overwrite=True)
print(f"{result.steps} steps in {result.seconds:.0f} s on {result.device} "
      f"({result.samples_per_s:.0f} samples/s)")

# %% [markdown]
# ## The loss curve
#
# The loss is the mean squared error on hidden patches, in standardised units, summed
# over the two modalities (faint: every step; solid: a moving average). It falls fast
# at first, when the model learns the average look of each band, then slowly, as it
# learns shapes and the relation between the sensors. Optical dominates the total on the
# synthetic world: clouds are far brighter than anything else, so missing one costs a
# lot.

# %%
plot_loss_curve(run_dir / "loss.csv", title=f"pretraining loss, {preset} preset, {strategy} masking")

# %% [markdown]
# ## Is it any good? Compare with references
#
# A loss value means little alone. On held-out validation scenes we compare the fresh
# model with (a) predicting zero everywhere (the dataset mean, since the data are
# standardised) and (b) the kit's longer-trained checkpoint of the same strategy (only
# for the lite preset on synthetic data, which is what it was trained on).

# %%
val = build_dataset(data, split="val", img_size=cfg.img_size, length=64, root=data_root,
                    seed=0)
vb = {k: torch.stack([val[i][k] for i in range(len(val))]) for k in ("sar", "optical")}
references = {"this run": result.model.cpu()}
if preset == "lite" and data == "synthetic" and cfg.optical_channels == 12:
    references["kit checkpoint"] = load_pretrained(checkpoint_path(strategy))
with torch.no_grad():
    for name, model in references.items():
        o = model(vb["sar"], vb["optical"], generator=torch.Generator().manual_seed(seed))
        print(f"{name:15s} hidden-patch MSE: SAR {o.loss_sar.item():.3f}, "
              f"optical {o.loss_optical.item():.3f}")
    # the first scene with under 5% cloud (real data has no cloud mask: the first scene)
    sample = next((v for v in (val[i] for i in range(len(val)))
                   if "cloud" not in v or v["cloud"].mean() < 0.05), val[0])
    o = result.model(sample["sar"][None], sample["optical"][None],
                     generator=torch.Generator().manual_seed(seed))
plots.plot_reconstruction(sample["sar"], sample["optical"], o.pred_sar[0], o.pred_optical[0],
                          o.mask_sar[0], o.mask_optical[0], cfg.patch_size, val.optical_bands,
                          title=f"this run: {strategy} masking, ratio {mask_ratio}",
                          cloud=sample.get("cloud"))

# %% [markdown]
# ## Save, reload, reuse
#
# The run folder's `checkpoint.pt` holds everything needed to resume training. For the
# other notebooks a slim copy (configuration and float16 weights) is enough:
# notebooks 3 and 5 read `lite-consistent.pt` and `lite-independent.pt` from their
# `checkpoint_dir` parameter, so run this notebook once per strategy and point them at
# the folder printed below.

# %%
slim = slim_checkpoint(run_dir, Path(out) / "checkpoints" / f"{preset}-{strategy}.pt")
reloaded = load_pretrained(slim)
with torch.no_grad():
    a = reloaded(vb["sar"], vb["optical"], generator=torch.Generator().manual_seed(seed))
    b = result.model(vb["sar"], vb["optical"], generator=torch.Generator().manual_seed(seed))
print(f"slim checkpoint: {slim} ({slim.stat().st_size / 2**20:.1f} MB)")
print(f"for notebooks 3 and 5 (run from this folder): checkpoint_dir = {str(slim.parent)!r}")

# %%
# NBVAL_CHECK_OUTPUT
print("reloaded model reproduces the run (to float16 precision):",
      torch.allclose(a.loss, b.loss, rtol=1e-2), dataclasses.asdict(reloaded.cfg) == dataclasses.asdict(cfg))

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** How many optimiser steps did the run take? Work it out from the
# parameters (the engine drops the last incomplete batch of every epoch).

# %%
expected_steps = None  # a formula using epochs, length and batch_size

# %%
if expected_steps is None:
    print("Exercise 1: not answered yet. Hint: steps per epoch = samples // batch size.")
else:
    assert expected_steps == result.steps, f"{expected_steps} is not the number of steps"
    print(f"Exercise 1: correct! {result.steps} steps.")

# %% [markdown]
# **Exercise 2.** What loss would a "model" get that predicts zero for every pixel?
# Compute the mean of the squared standardised values of the validation batch `vb`,
# separately for SAR and optical (the mask does not matter on average). Is the trained
# model better?

# %%
zero_loss_sar = None  # e.g. (vb["sar"] ** 2).mean().item()
zero_loss_optical = None

# %%
truth = {"sar": (vb["sar"] ** 2).mean().item(), "optical": (vb["optical"] ** 2).mean().item()}
if zero_loss_sar is None or zero_loss_optical is None:
    print("Exercise 2: not answered yet.")
else:
    assert abs(zero_loss_sar - truth["sar"]) < 1e-3 * truth["sar"], "check the SAR value"
    assert abs(zero_loss_optical - truth["optical"]) < 1e-3 * truth["optical"], "check the optical value"
    print(f"Exercise 2: correct! Predicting zero scores {truth['sar']:.3f} (SAR) and "
          f"{truth['optical']:.3f} (optical); compare with the model's numbers above.")

# %% [markdown]
# **Going further.** Train the other strategy (`strategy = "consistent"`) with the
# same budget and compare the two hidden-patch errors. Then open notebook 6 to see
# whether the better reconstructor is also the better feature extractor.
#
# <details><summary>Solutions</summary>
#
# 1. `expected_steps = epochs * (length // batch_size)`.
# 2. `zero_loss_sar = (vb["sar"] ** 2).mean().item()` and the same for `vb["optical"]`.
#    The trained model should be clearly below both; if it is not, train longer.
# </details>
#
# ## Summary
#
# * `pretrain(cfg, data, out, epochs=..., batch_size=..., lr=..., device="auto")` runs the
#   whole loop on CPU or GPU, with a progress bar and a checkpoint every epoch.
# * Judge a loss against references: predicting the mean, and a longer run.
# * `slim_checkpoint` and `load_pretrained` move a model between notebooks.
