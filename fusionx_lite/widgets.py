"""Notebook widgets whose logic runs without a browser.

Each explorer has an ``update(...)`` method that takes the knob values and returns a
view (the figure plus the numbers behind it), so tests and scripts can drive it
directly. ``widget()`` wraps it in ipywidgets (imported only there): a slider or a
toggle changes, ``update`` runs, the figure is redrawn.

    explorer = MaskExplorer({"consistent": m1, "independent": m2}, sample)
    view = explorer.update(mask_ratio=0.5, strategy="independent")
    view.counts["hidden_both"], view.figure
    explorer.widget()                     # in a notebook
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import torch
from matplotlib.figure import Figure
from torch import Tensor

from fusionx_lite.config import STRATEGIES, check_choice, check_mask_ratio
from fusionx_lite.model import FusionXMAE
from fusionx_lite.plots import plot_reconstruction, plot_sample

MASK_RATIO_STEPS = (0.0, 0.95, 0.05)  # slider min, max, step


@dataclass
class MaskView:
    """What :meth:`MaskExplorer.update` draws, and the numbers behind it."""

    figure: Figure  # the reconstruction grid (both modalities, four columns)
    counts: dict[str, int]  # num_patches, hidden_sar, hidden_optical, hidden_both
    loss: dict[str, float] = field(default_factory=dict)  # MSE on hidden patches per modality
    model_name: str = ""  # which pretrained model drew the reconstruction


class MaskExplorer:
    """Mask-ratio slider and strategy toggle over the reconstructions of pretrained models.

    Args:
        models: one :class:`FusionXMAE`, or strategy name -> model pretrained with that
            strategy (the toggle then also switches the model).
        sample: a data sample with ``sar`` ``[2, H, W]`` and ``optical`` ``[C, H, W]``.
        optical_bands: names of the optical channels (None: the 12 BigEarthNet bands).
        seed: seeds the masks, so the same knob values always draw the same masks.
        mask_ratio: initial slider value.
        strategy: initial toggle value.

    Raises:
        ValueError: for an empty ``models`` dict or bad initial values.
    """

    def __init__(
        self,
        models: FusionXMAE | Mapping[str, FusionXMAE],
        sample: Mapping[str, Tensor],
        optical_bands: Sequence[str] | None = None,
        seed: int = 0,
        mask_ratio: float = 0.75,
        strategy: str = "independent",
    ) -> None:
        self.models = dict(models) if isinstance(models, Mapping) else {"model": models}
        if not self.models:
            raise ValueError("models must hold at least one FusionXMAE")
        for name in self.models:
            if name != "model":
                check_choice("models key", name, STRATEGIES)
        self.sar, self.optical = sample["sar"], sample["optical"]
        self.cloud = sample.get("cloud")  # [H, W] or None: kept out of the optical stretch
        self.optical_bands = optical_bands
        self.seed = seed
        self.mask_ratio = check_mask_ratio(mask_ratio)
        check_choice("strategy", strategy, STRATEGIES)
        self.strategy = strategy

    def model_for(self, strategy: str) -> tuple[str, FusionXMAE]:
        """The model pretrained with ``strategy`` if there is one, else the first model."""
        name = strategy if strategy in self.models else next(iter(self.models))
        return name, self.models[name]

    @torch.no_grad()
    def update(self, mask_ratio: float | None = None, strategy: str | None = None) -> MaskView:
        """Draw masks with the given knob values and reconstruct both modalities.

        Args:
            mask_ratio: fraction of patches hidden per modality, in [0, 1) (None: keep).
            strategy: ``"consistent"`` or ``"independent"`` (None: keep).

        Returns:
            A :class:`MaskView`.

        Raises:
            ValueError: for a mask ratio outside [0, 1) or an unknown strategy.
        """
        if mask_ratio is not None:
            self.mask_ratio = check_mask_ratio(mask_ratio)
        if strategy is not None:
            check_choice("strategy", strategy, STRATEGIES)
            self.strategy = strategy
        name, model = self.model_for(self.strategy)
        generator = torch.Generator().manual_seed(self.seed)
        out = model(
            self.sar[None],
            self.optical[None],
            mask_ratio=self.mask_ratio,
            strategy=self.strategy,
            generator=generator,
        )
        mask_sar, mask_opt = out.mask_sar[0], out.mask_optical[0]  # [L]
        counts = {
            "num_patches": int(mask_sar.numel()),
            "hidden_sar": int(mask_sar.sum()),
            "hidden_optical": int(mask_opt.sum()),
            "hidden_both": int((mask_sar & mask_opt).sum()),
        }
        loss = {"sar": float(out.loss_sar), "optical": float(out.loss_optical)}
        title = (
            f"{self.strategy} masking, mask ratio {self.mask_ratio:.2f} "
            f"(model pretrained with: {name})"
        )
        figure = plot_reconstruction(
            self.sar,
            self.optical,
            out.pred_sar[0],
            out.pred_optical[0],
            mask_sar,
            mask_opt,
            model.cfg.patch_size,
            self.optical_bands,
            title=title,
            cloud=self.cloud,
        )
        return MaskView(figure=figure, counts=counts, loss=loss, model_name=name)

    def widget(self):
        """An ipywidgets UI: a mask-ratio slider, a strategy toggle and the redrawn figure."""
        import ipywidgets as w

        lo, hi, step = MASK_RATIO_STEPS
        slider = w.FloatSlider(
            value=self.mask_ratio,
            min=lo,
            max=hi,
            step=step,
            description="mask ratio",
            continuous_update=False,
        )
        toggle = w.ToggleButtons(
            options=list(STRATEGIES), value=self.strategy, description="strategy"
        )
        return _live(lambda: self.update(slider.value, toggle.value), [slider, toggle])


@dataclass
class WorldView:
    """What :meth:`WorldExplorer.update` draws, and the numbers behind it."""

    figure: Figure  # SAR, optical, cloud mask and class map of one synthetic scene
    cloud_fraction: float  # share of pixels under cloud or shadow
    sar_db_std: float  # spatial standard deviation of VV in dB (speckle makes it grow)


class WorldExplorer:
    """Cloud-cover and speckle (looks) knobs on one scene of the synthetic world.

    The scene (land cover, region variable) depends only on ``seed`` and ``index``: the
    knobs change the clouds over it and the speckle on its radar image.

    Args:
        index: which scene of the world.
        img_size: H = W in pixels.
        seed: world seed.
        cloud_cover: initial mean cloud cover, in [0, 1].
        looks: initial equivalent number of looks (> 0).
    """

    def __init__(
        self,
        index: int = 0,
        img_size: int = 64,
        seed: int = 0,
        cloud_cover: float = 0.3,
        looks: float = 4.4,
    ) -> None:
        self.index, self.img_size, self.seed = index, img_size, seed
        self.cloud_cover, self.looks = cloud_cover, looks

    def update(self, cloud_cover: float | None = None, looks: float | None = None) -> WorldView:
        """Redraw the scene with new knob values (None: keep); invalid values raise."""
        from fusionx_lite.data.synthetic import SyntheticWorld

        world = SyntheticWorld(
            length=self.index + 1,
            img_size=self.img_size,
            seed=self.seed,
            split="train",
            cloud_cover=self.cloud_cover if cloud_cover is None else cloud_cover,
            looks=self.looks if looks is None else looks,
        )
        self.cloud_cover, self.looks = world.cloud_cover, world.looks
        sample = world[self.index]
        figure = plot_sample(
            sample["sar"],
            sample["optical"],
            world.optical_bands,
            class_map=world.class_map(self.index),
            class_names=world.class_names,
            cloud=sample["cloud"],
            title=f"synthetic scene {self.index}: cloud cover {self.cloud_cover:.2f}, "
            f"speckle with {self.looks:g} looks",
        )
        vv_db = world.render(self.index)["sar_db"][0]
        return WorldView(figure, float(sample["cloud"].mean()), float(vv_db.std()))

    def widget(self):
        """An ipywidgets UI: cloud-cover and looks sliders and the redrawn scene."""
        import ipywidgets as w

        cloud = w.FloatSlider(
            value=self.cloud_cover,
            min=0.0,
            max=1.0,
            step=0.05,
            description="cloud cover",
            continuous_update=False,
        )
        looks = w.FloatLogSlider(
            value=self.looks,
            base=10,
            min=0,
            max=2,
            step=0.1,
            description="looks",
            continuous_update=False,
        )
        return _live(lambda: self.update(cloud.value, looks.value), [cloud, looks])


def figure_output(figure: Figure) -> dict:
    """A Jupyter ``display_data`` output holding the figure as a PNG."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    png = base64.b64encode(buffer.getvalue()).decode("ascii")
    return {
        "output_type": "display_data",
        "metadata": {},
        "data": {"image/png": png, "text/plain": repr(figure)},
    }


def _live(redraw, controls: list):
    """Controls above an output area that shows ``redraw().figure`` after every change.

    The PNG is set as the output widget's content rather than printed inside
    ``with out:``: captured output plus ``clear_output(wait=True)`` can hang headless
    runners such as papermill, and this needs no IPython display formatter.
    """
    import ipywidgets as w

    out = w.Output()

    def refresh(_change=None) -> None:
        out.outputs = (figure_output(redraw().figure),)

    for control in controls:
        control.observe(refresh, names="value")
    refresh()
    return w.VBox([w.HBox(controls), out])
