# %% [markdown]
# # 6. Few labels: what is the pretraining worth?
#
# {{badges}}
#
# Masked-autoencoder pretraining needs no labels. Its promise is that afterwards a
# classifier needs only a few. This notebook tests that promise on the synthetic
# world: every method is pretrained with the same data and budget, then a linear
# classifier (and a fine-tuned one) learns the land-cover labels from 1% to 100% of the
# training set, and we plot the mean average precision (mAP) against the label fraction.
#
# **You will learn**
#
# 1. how to read learning curves with bands over seeds, and what the baselines
#    (random encoder, supervised from scratch, single-sensor MAEs) are for;
# 2. what happens when the optical image is missing or cloudy at test time;
# 3. how to question a comparison before believing it.
#
# The full comparison (8 methods, lite preset) takes about 30 minutes on a 2-core CPU,
# so by default this notebook **loads** the kit's results, made by
# `python checkpoints/make_checkpoints.py --experiment` (the engine's
# `python -m fusionx_lite experiment --preset lite`). Set `run_comparison = True` to run
# it here (`quick = True` runs a tiny version in about a minute).

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
results_csv = None  # a results.csv of your own (None: the kit's lite comparison)
run_comparison = False  # True: run the comparison in this notebook instead of loading it
quick = False  # with run_comparison: a tiny version (about a minute) instead of the lite one
out = "runs/nb06"  # output folder when the comparison runs here
metric = "map_micro"  # "map_micro" or "map_macro"
seed = 0  # pretraining seed when the comparison runs here
threads = None  # PyTorch CPU threads (None: the CPUs this machine lets us use)

# %%
import numpy as np
import torch
from IPython.display import Markdown
from matplotlib.figure import Figure

from fusionx_lite.course import cpu_threads, experiment_results
from fusionx_lite.curves import METRIC_LABELS, plot_learning_curves, read_rows
from fusionx_lite.evaluate import EvalConfig
from fusionx_lite.experiment import ExperimentConfig, results_table, run_experiment

%matplotlib inline
torch.set_num_threads(threads or cpu_threads())
if run_comparison:
    if quick:  # three methods, one pretraining epoch, two fractions and two seeds
        exp = ExperimentConfig.quick(
            methods=("fusionx-independent", "sar-only", "random-init"),
            train_size=96, test_size=96, epochs=1, seed=seed,
            eval=EvalConfig(fractions=(0.1, 1.0), seeds=(0, 1), protocols=("linear",),
                            probe_steps=100))
    else:
        exp = ExperimentConfig(seed=seed)
    rows = run_experiment(exp, out, overwrite=True, progress=False).rows
    source = f"run here ({'quick' if quick else 'lite'} comparison, output in {out})"
else:
    path = results_csv or experiment_results()
    rows = read_rows(path)
    source = f"loaded from {path}"
for r in rows:  # a CSV gives strings
    r["fraction"], r["value"], r["seed"] = float(r["fraction"]), float(r["value"]), int(r["seed"])
methods = list(dict.fromkeys(r["method"] for r in rows))
protocols = list(dict.fromkeys(r["protocol"] for r in rows))
fractions = sorted({r["fraction"] for r in rows})
print(f"results {source}")

# %%
# NBVAL_CHECK_OUTPUT
print(f"{len(rows)} rows, {len(methods)} methods: {', '.join(methods)}")
print(f"protocols: {', '.join(protocols)}")
print(f"label fractions: {', '.join(f'{f:.0%}' for f in fractions)}; "
      f"{len({r['seed'] for r in rows})} seeds per fraction")

# %% [markdown]
# ## The methods
#
# | method | what it is | why it is here |
# |---|---|---|
# | fusionx-independent | cross-attention fusion, SAR and optical masked at different places | the method |
# | fusionx-consistent | the same, masked at the same places | the other strategy |
# | joint | one encoder over the tokens of both sensors, no cross-attention | is cross-attention needed? |
# | concat | SAR and optical channels stacked into one image | the simplest fusion |
# | optical-only, sar-only | an MAE on one sensor | is the second sensor worth it? |
# | random-init | the FusionX encoder with random weights, linear probe | what pretraining adds at all |
# | supervised | the FusionX encoder trained from scratch on the labels, fine-tuned | what labels alone achieve |
#
# The **linear** protocol freezes the encoder and fits a linear classifier on its pooled
# features: it measures the features themselves. **Fine-tuning** trains the encoder too.
# Each fraction is drawn several times (seeds); the line is the mean, the band spans the
# lowest to the highest seed.
#
# ## Learning curves

# %%
plot_learning_curves(rows, metric=metric, protocol="linear")

# %%
if "finetune" in protocols:
    display(plot_learning_curves(rows, metric=metric, protocol="finetune"))
else:
    print("no fine-tuning results in this table")

# %%
Markdown(results_table(rows, metric=metric))

# %% [markdown]
# ## When the optical image is missing
#
# Clouds hide two thirds of the Earth at any time. Two checks, with the linear probe:
#
# * **linear-cloudy**: the probe is trained on ordinary images and tested on the same
#   test scenes re-drawn under heavy cloud (synthetic world only);
# * **linear-sar-only**: a two-sensor encoder gets only the radar image, for training
#   and testing (as if the optical image were absent); `sar-only` is the reference, a
#   model that never relied on optical data.

# %%
def mean_std(method: str, protocol: str, fraction: float) -> tuple[float, float]:
    v = np.array([r["value"] for r in rows if r["method"] == method and r["protocol"] == protocol
                  and r["fraction"] == fraction and r["metric"] == metric])
    return (v.mean(), v.std()) if len(v) else (np.nan, np.nan)


checks = [p for p in ("linear", "linear-cloudy", "linear-sar-only") if p in protocols]
shown = [m for m in methods if any(not np.isnan(mean_std(m, p, fractions[-1])[0])
                                   for p in checks[1:])] if len(checks) > 1 else []
if shown:
    ends = sorted({fractions[0], fractions[-1]})
    fig = Figure(figsize=(6 * len(ends), 4.4), layout="constrained")
    axes = fig.subplots(1, len(ends), squeeze=False)[0]
    width = 0.8 / len(checks)
    for ax, f in zip(axes, ends):
        for k, p in enumerate(checks):
            stats = [mean_std(m, p, f) for m in shown]
            ax.bar(np.arange(len(shown)) + (k - (len(checks) - 1) / 2) * width,
                   [s[0] for s in stats], width, yerr=[s[1] for s in stats], capsize=3, label=p)
        ax.set_xticks(np.arange(len(shown)), shown, rotation=30, ha="right")
        values = [mean_std(m, p, f)[0] for m in shown for p in checks]
        low = max(0.0, np.nanmin(values) - 0.1)
        ax.set(ylabel=METRIC_LABELS.get(metric, metric), title=f"{f:.0%} of the labels",
               ylim=(low, min(1.0, np.nanmax(values) + 0.05)))
        ax.grid(axis="y", alpha=0.3)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=3,
               title="protocol (bar: mean over seeds, line: +- 1 std)", fontsize="small")
    display(fig)
    for m in shown:
        full, sar = mean_std(m, "linear", fractions[-1])[0], mean_std(m, "linear-sar-only", fractions[-1])[0]
        if not np.isnan(sar):
            print(f"{m:20s} linear {full:.3f} -> SAR only {sar:.3f} ({100 * (sar - full):+.1f} points)")
else:
    print("this table has no missing-modality results")

# %% [markdown]
# ## Questions before believing it
#
# 1. **Is the gap bigger than the band?** Two curves whose seed bands overlap are not
#    different on this evidence. How many seeds would you need to separate them?
# 2. **Same budget?** Every MAE had the same data, epochs, batch and learning rate. Is
#    that fair to the single-sensor models, which do half the work per step?
# 3. **Does reconstruction predict classification?** Compare with notebook 3: is the
#    strategy with the lower reconstruction error also the better feature extractor?
# 4. **Synthetic is not real.** The synthetic world ties radar and optical values to
#    one hidden variable per region. Would the ranking survive on BigEarthNet? (Run
#    `python -m fusionx_lite experiment --data subset ...` on a GPU to find out.)
# 5. **Where does fusion pay?** Look at the cloudy and SAR-only bars: which method
#    degrades most gracefully, and why would cross-attention help or not?
#
# ## Exercises
#
# **Exercise 1.** With the fewest labels, which method has the highest mean linear-probe
# score? Use `mean_std(method, "linear", fractions[0])`.

# %%
best_at_few_labels = None  # a method name

# %%
scores = {m: mean_std(m, "linear", fractions[0])[0] for m in methods}
scores = {m: v for m, v in scores.items() if not np.isnan(v)}
truth = max(scores, key=scores.get)
if best_at_few_labels is None:
    print("Exercise 1: not answered yet. Hint: max(methods, key=...)")
else:
    assert best_at_few_labels == truth, f"{best_at_few_labels} is not the best at {fractions[0]:.0%}"
    print(f"Exercise 1: correct! {truth} ({scores[truth]:.3f}); is its lead larger than the "
          "spread over seeds?")

# %% [markdown]
# **Exercise 2.** How many mAP points (x 100) does `fusionx-independent` lose with all
# labels when it gets only the radar image (`"linear"` to `"linear-sar-only"`)? Give a
# negative number for a loss.

# %%
sar_only_change = None  # points, e.g. -12.3

# %%
full, sar = (mean_std("fusionx-independent", p, fractions[-1])[0] for p in ("linear", "linear-sar-only"))
if np.isnan(sar) or np.isnan(full):
    print("Exercise 2: this table has no SAR-only result for fusionx-independent.")
elif sar_only_change is None:
    print("Exercise 2: not answered yet.")
else:
    assert abs(sar_only_change - 100 * (sar - full)) < 0.05, "not quite: points are mAP x 100"
    print(f"Exercise 2: correct! {100 * (sar - full):+.1f} points. Compare with the sar-only MAE.")

# %% [markdown]
# <details><summary>Solutions</summary>
#
# 1. `best_at_few_labels = max(scores, key=scores.get)` with `scores` as in the check.
# 2. `sar_only_change = 100 * (sar - full)` with `full`, `sar` the two means at 100%.
# </details>
#
# ## Summary
#
# * Learning curves show what pretraining is worth as labels become scarce; read them
#   with their seed bands and against the random-encoder and supervised baselines.
# * The missing-modality checks ask whether a fusion encoder still works when a sensor
#   drops out, which is the everyday situation for optical satellites.
# * Every number here comes from one small model per method on a synthetic world:
#   it teaches how to run and read such a comparison, not which method wins on Earth.
