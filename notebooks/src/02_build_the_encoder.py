# %% [markdown]
# # 2. Build the fusion encoder, step by step
#
# {{badges}}
#
# The FusionX encoder turns a Sentinel-1 radar image and a Sentinel-2 optical image into
# a handful of tokens that know about both sensors. In this notebook you rebuild it by
# hand, one stage at a time, printing the shape of every tensor, and after each stage
# you check that your version gives **exactly the same numbers** as `fusionx_lite`'s own
# modules with the same weights.
#
# **You will learn**
#
# 1. how an image becomes a sequence of patches and then of tokens (patch embedding);
# 2. how a token learns *where* it is (2D sine-cosine positions) and *which sensor* it
#    comes from (modality embedding);
# 3. how MAE-style masking keeps only a few tokens, and what "consistent" and
#    "independent" masking mean;
# 4. how cross-attention lets every radar token look at the optical tokens (and back);
# 5. where the parameters of the model sit.
#
# Shape letters used below: N batch, C channels, H W pixels, P patch size, L patches per
# image, L_vis visible patches, D token width.

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
preset = "lite"  # model size: "tiny" (seconds, used by CI), "lite" or "base"
batch_size = 4  # images in the example batch
mask_ratio = 0.75  # fraction of patches hidden in each modality
strategy = "independent"  # "consistent" (same positions) or "independent" masking
seed = 0  # seeds the model weights, the data and the masks
threads = None  # PyTorch CPU threads (None: the CPUs this machine lets us use)

# %%
import inspect
import math

import torch
from matplotlib.figure import Figure

import fusionx_lite
from fusionx_lite import FusionXConfig, FusionXMAE, make_masks, patchify
from fusionx_lite.course import cpu_threads
from fusionx_lite.data import build_dataset
from fusionx_lite.masking import mask_to_ids
from fusionx_lite.patches import sincos_pos_embed

%matplotlib inline
torch.manual_seed(seed)
torch.set_num_threads(threads or cpu_threads())
cfg = FusionXConfig.preset(preset, mask_ratio=mask_ratio, strategy=strategy)
model = FusionXMAE(cfg).eval()  # random weights: we check the computation, not the training
data = build_dataset("synthetic", split="train", img_size=cfg.img_size, length=batch_size,
                     seed=seed)
batch = [data[i] for i in range(batch_size)]
sar = torch.stack([b["sar"] for b in batch])  # [N, 2, H, W]
optical = torch.stack([b["optical"] for b in batch])  # [N, C, H, W]
torch.set_grad_enabled(False)  # we only run the model forward

# %%
# NBVAL_CHECK_OUTPUT
print("config:", preset, "| image", cfg.img_size, "px | patch", cfg.patch_size, "px | width D =",
      cfg.embed_dim, "| heads", cfg.num_heads)
print("sar    ", tuple(sar.shape), "  # [N, C_sar, H, W]: VV and VH")
print("optical", tuple(optical.shape), "  # [N, C_opt, H, W]: 12 Sentinel-2 bands")

# %% [markdown]
# ## Step 1: cut the image into patches
#
# A ViT does not look at pixels one by one: it cuts the image into P x P patches and
# flattens each into a vector of P * P * C numbers. With a reshape and a permute:
# `[N, C, H, W]` -> `[N, C, H/P, P, W/P, P]` -> `[N, H/P, W/P, P, P, C]` -> `[N, L, P*P*C]`.

# %%
P = cfg.patch_size
N, C_sar, H, W = sar.shape


def my_patchify(x: torch.Tensor, p: int) -> torch.Tensor:
    n, c, h, w = x.shape
    x = x.reshape(n, c, h // p, p, w // p, p)  # [N, C, H/P, P, W/P, P]
    x = x.permute(0, 2, 4, 3, 5, 1)  # [N, H/P, W/P, P, P, C]
    return x.reshape(n, (h // p) * (w // p), p * p * c)  # [N, L, P*P*C]


sar_patches = my_patchify(sar, P)
opt_patches = my_patchify(optical, P)
L = sar_patches.shape[1]

# %%
# NBVAL_CHECK_OUTPUT
print("sar patches    ", tuple(sar_patches.shape), "  # [N, L, P*P*C_sar]")
print("optical patches", tuple(opt_patches.shape), "  # [N, L, P*P*C_opt]")
print("same as fusionx_lite.patchify:", torch.equal(sar_patches, patchify(sar, P)),
      torch.equal(opt_patches, patchify(optical, P)))

# %% [markdown]
# The package does the same with one `einops.rearrange`, which reads like the shape
# comment above:

# %%
print(inspect.getsource(fusionx_lite.patches.patchify))

# %% [markdown]
# ## Step 2: patch embedding
#
# Each flattened patch is mapped to a D-dimensional token by one linear layer (the same
# map as MAE's stride-P convolution). Radar and optical patches have different lengths,
# so each modality has its own layer. We reuse the model's weights `W` and `b`.

# %%
def my_embed(patches: torch.Tensor, linear: torch.nn.Linear) -> torch.Tensor:
    return patches @ linear.weight.T + linear.bias  # [N, L, D]


embed = model.encoder.embed
sar_tokens = my_embed(sar_patches, embed["sar"].proj)
opt_tokens = my_embed(opt_patches, embed["optical"].proj)

# %%
# NBVAL_CHECK_OUTPUT
print("sar tokens    ", tuple(sar_tokens.shape), "  # [N, L, D]")
print("optical tokens", tuple(opt_tokens.shape), "  # [N, L, D]")
print("W_sar", tuple(embed["sar"].proj.weight.shape), " W_opt", tuple(embed["optical"].proj.weight.shape),
      "  # [D, P*P*C]")
print("same as PatchEmbed:", torch.allclose(sar_tokens, embed["sar"](sar), atol=1e-5),
      torch.allclose(opt_tokens, embed["optical"](optical), atol=1e-5))

# %% [markdown]
# ## Step 3: where is each patch? 2D sine-cosine positions
#
# Attention treats its input as a *set*: without help, the model would not know which
# patch is top-left. MAE adds a fixed code to every token: half of the D channels
# encode the patch row, half the column, each as sines and cosines of the position at
# D/4 frequencies from 1 down to 1/10000. Nearby patches get similar codes.

# %%
def sincos_1d(pos: torch.Tensor, dim: int) -> torch.Tensor:
    freqs = 1.0 / 10000 ** (torch.arange(dim // 2, dtype=torch.float64) / (dim // 2))  # [dim/2]
    angles = pos.double()[:, None] * freqs  # [L, dim/2]
    return torch.cat([angles.sin(), angles.cos()], dim=1)  # [L, dim]


D = cfg.embed_dim
grid = H // P
rows, cols = torch.meshgrid(torch.arange(grid), torch.arange(grid), indexing="ij")
my_pos = torch.cat([sincos_1d(rows.flatten(), D // 2), sincos_1d(cols.flatten(), D // 2)],
                   dim=1).float()  # [L, D]

# %%
# NBVAL_CHECK_OUTPUT
print("positions", tuple(my_pos.shape), "  # [L, D], the same for every image and modality")
print("same as sincos_pos_embed:", torch.allclose(my_pos, sincos_pos_embed(D, (grid, grid))))

# %%
centre = (grid // 2) * grid + grid // 2
similarity = torch.nn.functional.cosine_similarity(my_pos[centre][None], my_pos, dim=1)
fig = Figure(figsize=(10, 3.6), layout="constrained")
ax1, ax2 = fig.subplots(1, 2, width_ratios=[1.6, 1])
im = ax1.imshow(my_pos, aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
ax1.set(xlabel="channel (first half: row code, second half: column code)",
        ylabel="patch index (row-major)", title="2D sine-cosine position embedding")
fig.colorbar(im, ax=ax1, label="value")
im = ax2.imshow(similarity.reshape(grid, grid), cmap="viridis", interpolation="nearest")
ax2.plot(grid // 2, grid // 2, "r+", ms=12)
ax2.set(xlabel="patch column", ylabel="patch row",
        title=f"cosine similarity to patch ({grid // 2}, {grid // 2})")
fig.colorbar(im, ax=ax2, label="cosine similarity")
fig

# %% [markdown]
# ## Step 4: which sensor? The modality embedding
#
# Radar and optical tokens share one token space later on, so each modality also adds
# its own learned vector (one D-vector per modality, the same for every patch). The
# tokens are now complete: patch content + position + modality.

# %%
sar_tokens = sar_tokens + my_pos + model.encoder.modality_embed["sar"]  # [N, L, D]
opt_tokens = opt_tokens + my_pos + model.encoder.modality_embed["optical"]  # [N, L, D]
reference = model.encoder.embed_tokens({"sar": sar, "optical": optical})

# %%
# NBVAL_CHECK_OUTPUT
print("modality embedding", tuple(model.encoder.modality_embed["sar"].shape), "  # [1, 1, D]")
print("same as FusionEncoder.embed_tokens:",
      torch.allclose(sar_tokens, reference["sar"], atol=1e-5),
      torch.allclose(opt_tokens, reference["optical"], atol=1e-5))

# %% [markdown]
# ## Step 5: masking
#
# A masked autoencoder hides most patches and asks the model to paint them back. MAE's
# trick: draw one uniform random number per patch, sort them (`argsort`), and hide the
# first `round(mask_ratio * L)` patches of that random order. A mask is a bool tensor
# `[N, L]`, **True where a patch is hidden**.
#
# With two sensors there is a choice:
#
# * **consistent**: both modalities hide the *same* positions. A hidden place is seen by
#   neither sensor, so the model must guess it from the surroundings.
# * **independent**: each modality draws its own mask. A place hidden in the optical
#   image is often visible in the radar image, so fusion can fill it in.

# %%
def my_random_mask(n: int, num_patches: int, ratio: float, gen: torch.Generator):
    hidden = round(ratio * num_patches)
    noise = torch.rand(n, num_patches, generator=gen)  # [N, L]
    ids_shuffle = noise.argsort(dim=1)  # [N, L]: a random order of the patches
    mask = torch.zeros(n, num_patches, dtype=torch.bool)
    mask.scatter_(1, ids_shuffle[:, :hidden], True)  # hide the first `hidden` of the order
    return mask


gen = torch.Generator().manual_seed(seed)
my_mask_sar = my_random_mask(N, L, mask_ratio, gen)
my_mask_opt = my_mask_sar.clone() if strategy == "consistent" else my_random_mask(N, L, mask_ratio, gen)
mask_sar, mask_opt = make_masks(N, L, mask_ratio, strategy, generator=torch.Generator().manual_seed(seed))

# keep only the visible tokens, in their original order
ids_sar, ids_opt = mask_to_ids(mask_sar), mask_to_ids(mask_opt)  # [N, L_vis]
sar_vis = torch.gather(sar_tokens, 1, ids_sar[..., None].expand(-1, -1, D))  # [N, L_vis, D]
opt_vis = torch.gather(opt_tokens, 1, ids_opt[..., None].expand(-1, -1, D))  # [N, L_vis, D]

# %%
# NBVAL_CHECK_OUTPUT
print(f"{strategy} masking at ratio {mask_ratio}: hidden per image",
      mask_sar.sum(1).tolist(), "(SAR),", mask_opt.sum(1).tolist(), "(optical) of L =", L)
print("same as fusionx_lite.make_masks:", torch.equal(my_mask_sar, mask_sar),
      torch.equal(my_mask_opt, mask_opt))
print("visible sar tokens    ", tuple(sar_vis.shape), "  # [N, L_vis, D]")
print("visible optical tokens", tuple(opt_vis.shape), "  # [N, L_vis, D]")

# %% [markdown]
# ## Step 6: cross-attention fusion
#
# Now the two sensors talk. In a fusion block every radar token asks a question (a
# *query* q) and every optical token offers a *key* k and a *value* v; the answer is a
# mix of the values, weighted by how well the query matches each key:
#
# $$\text{attention}(q, K, V) = \text{softmax}\left(\frac{q K^\top}{\sqrt{d}}\right) V$$
#
# split over several heads of width d = D / heads. The block is pre-norm with a
# residual connection, then a small MLP: `x = x + attn(norm(x), norm(context))`,
# `x = x + mlp(norm(x))`. The optical tokens do the same towards the radar tokens,
# with their own weights. Both directions read the streams as they entered the block.

# %%
def my_attention(attn, x: torch.Tensor, context: torch.Tensor):
    """Multi-head attention from x [N, Lq, D] to context [N, Lk, D], written out."""
    n, lq, d_model = x.shape
    heads = attn.num_heads
    d = d_model // heads
    q = attn.to_q(x)  # [N, Lq, D]
    k, v = attn.to_kv(context).chunk(2, dim=-1)  # each [N, Lk, D]
    q, k, v = (t.reshape(n, -1, heads, d).transpose(1, 2) for t in (q, k, v))  # [N, h, L, d]
    weights = (q @ k.transpose(-2, -1) / math.sqrt(d)).softmax(dim=-1)  # [N, h, Lq, Lk]
    out = (weights @ v).transpose(1, 2).reshape(n, lq, d_model)  # [N, Lq, D]
    return attn.proj(out), weights


def my_cross_block(block, x: torch.Tensor, context: torch.Tensor):
    attended, weights = my_attention(block.attn, block.norm_q(x), block.norm_kv(context))
    x = x + attended  # [N, Lq, D]
    return x + block.mlp(block.norm2(x)), weights


fusion = model.encoder.fusion_blocks
s, o = sar_vis, opt_vis
for blk in fusion:
    (s, w_so), (o, w_os) = (my_cross_block(blk.sar_from_optical, s, o),
                            my_cross_block(blk.optical_from_sar, o, s))
ref_s, ref_o = sar_vis, opt_vis
for blk in fusion:
    ref_s, ref_o = blk(ref_s, ref_o)

# %%
# NBVAL_CHECK_OUTPUT
print("fusion blocks:", len(fusion), "| heads", cfg.num_heads, "| head width d =", D // cfg.num_heads)
print("SAR -> optical weights", tuple(w_so.shape), "  # [N, heads, L_vis_sar, L_vis_opt]")
print("optical -> SAR weights", tuple(w_os.shape), "  # [N, heads, L_vis_opt, L_vis_sar]")
print("each query's weights sum to 1:", torch.allclose(w_so.sum(-1), torch.ones(())))
print("same as FusionBlock:", torch.allclose(s, ref_s, atol=1e-5), torch.allclose(o, ref_o, atol=1e-5))

# %% [markdown]
# ## Step 7: shared self-attention, and the whole encoder
#
# After fusion, the visible tokens of both sensors are concatenated into one sequence
# and pass through ordinary transformer blocks (self-attention: the context is the
# sequence itself), then a final LayerNorm. The encoder's output is one token per
# visible patch per modality.

# %%
def my_block(block, x: torch.Tensor) -> torch.Tensor:
    attended, _ = my_attention(block.attn, block.norm1(x), block.norm1(x))
    x = x + attended
    return x + block.mlp(block.norm2(x))


x = torch.cat([s, o], dim=1)  # [N, L_vis_sar + L_vis_opt, D]
for blk in model.encoder.blocks:
    x = my_block(blk, x)
x = model.encoder.norm(x)
my_out = dict(zip(["sar", "optical"], x.split([s.shape[1], o.shape[1]], dim=1)))
ref_out, _ = model.forward_encoder({"sar": sar, "optical": optical},
                                   {"sar": mask_sar, "optical": mask_opt})

# %%
# NBVAL_CHECK_OUTPUT
print("tokens through the shared blocks", tuple(x.shape), "  # [N, L_vis_sar + L_vis_opt, D]")
for m in ("sar", "optical"):
    print(f"{m:8s} output {tuple(my_out[m].shape)}  same as FusionXMAE.forward_encoder:",
          torch.allclose(my_out[m], ref_out[m], atol=1e-4))

# %% [markdown]
# You have rebuilt the whole encoder. The decoder (notebook 3) puts mask tokens back at
# the hidden positions and predicts their pixels. Here is the package's encoder, which
# now should read easily:

# %%
print(inspect.getsource(fusionx_lite.encoder.FusionEncoder.forward))

# %% [markdown]
# ## Where are the parameters?

# %%
# NBVAL_CHECK_OUTPUT
def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


parts = {
    "patch embeddings": count(model.encoder.embed) + count(model.encoder.modality_embed),
    "cross-attention fusion blocks": count(model.encoder.fusion_blocks),
    "shared self-attention blocks": count(model.encoder.blocks) + count(model.encoder.norm),
    "decoder (both modalities)": count(model.decoder),
}
for name, n in parts.items():
    print(f"{name:32s} {n:>10,d}")
print(f"{'total':32s} {count(model):>10,d}")

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** How many tokens does *one image pair* send through the shared
# self-attention blocks with the parameters above? Write the number (or a formula using
# `L`, `mask_ratio`) in `tokens_per_image`.

# %%
tokens_per_image = None  # your answer, e.g. 2 * (L - round(mask_ratio * L))

# %%
expected = x.shape[1]
if tokens_per_image is None:
    print("Exercise 1: not answered yet. Hint: count the visible patches of each modality.")
else:
    assert tokens_per_image == expected, f"not quite: {tokens_per_image} tokens is wrong, try again"
    print("Exercise 1: correct!")

# %% [markdown]
# **Exercise 2.** One `Attention` module has the layers `to_q` (D -> D), `to_kv`
# (D -> 2D) and `proj` (D -> D), each with a bias. Write its parameter count as a
# function of D.

# %%
def attention_params(d: int) -> int | None:
    return None  # your formula


# %%
got = attention_params(D)
truth = count(model.encoder.fusion_blocks[0].sar_from_optical.attn)
if got is None:
    print("Exercise 2: not answered yet. Hint: a Linear(a, b) layer has a * b + b parameters.")
else:
    assert got == truth and attention_params(2 * D) == 4 * (2 * D) ** 2 + 4 * (2 * D), (
        f"not quite: your formula gives {got} for D = {D}")
    print("Exercise 2: correct!")

# %% [markdown]
# **Exercise 3.** Attention treats its context as a *set*. Shuffle the order of the
# visible optical tokens (e.g. with `torch.randperm`) and run `my_cross_block` for the
# SAR tokens of the first fusion block again. Store the new SAR output in `shuffled`.
# Does it change? (Positions are not lost: they are inside the tokens.)

# %%
shuffled = None  # your code: my_cross_block(fusion[0].sar_from_optical, sar_vis, ...)[0]

# %%
unshuffled = my_cross_block(fusion[0].sar_from_optical, sar_vis, opt_vis)[0]
if shuffled is None:
    print("Exercise 3: not answered yet. Hint: opt_vis[:, torch.randperm(opt_vis.shape[1])]")
else:
    assert torch.allclose(shuffled, unshuffled, atol=1e-5), "the outputs differ: did you shuffle only the context?"
    print("Exercise 3: correct! The output does not depend on the order of the context tokens.")

# %% [markdown]
# <details><summary>Solutions</summary>
#
# 1. `tokens_per_image = 2 * (L - round(mask_ratio * L))`: every modality keeps
#    `L - round(mask_ratio * L)` patches and both streams are concatenated.
# 2. `return 4 * d * d + 4 * d`: `to_q` has D*D + D, `to_kv` 2D*D + 2D, `proj` D*D + D.
# 3. `perm = torch.randperm(opt_vis.shape[1]);`
#    `shuffled = my_cross_block(fusion[0].sar_from_optical, sar_vis, opt_vis[:, perm])[0]`:
#    the same output, because softmax-weighted sums do not care about the order of the
#    keys and values.
# </details>
#
# ## Summary
#
# * Patches are flattened and linearly embedded, one layer per modality.
# * Fixed 2D sine-cosine positions and a learned modality vector tell each token where
#   it is and which sensor it comes from.
# * Masking keeps `L - round(mask_ratio * L)` random tokens per modality: the same
#   positions for both sensors (consistent) or different ones (independent).
# * Cross-attention lets each radar token mix in the optical tokens that match its
#   query, and the other way round; then shared self-attention blocks process all
#   visible tokens together.
# * Every stage you wrote matches `fusionx_lite` to floating-point precision.
#
# Next: notebook 3 compares the two masking strategies on a pretrained model.
