"""A synthetic tracking sequence: cheap geometry up front, any frame rendered on demand.

``SyntheticSequence(seed, params)`` is a pure function of its arguments: ``render_frame(i)``
gives the same pixels whether or not other frames were rendered before, so a training
sampler can draw three frames of a sequence without rendering the rest.
"""
from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property

import numpy as np

from ltr.dataset.synthetic.attributes import tag_attributes
from ltr.dataset.synthetic.geometry import SequenceGeometry, measure
from ltr.dataset.synthetic.params import SyntheticParams
from ltr.dataset.synthetic.plan import ScenePlan, draw_plan
from ltr.dataset.synthetic.render import Appearance, render


class SyntheticSequence:
    """One generated sequence: plan, geometry (boxes, visibility), attributes and frames."""

    def __init__(self, seed: int, params: SyntheticParams | None = None) -> None:
        self.seed = int(seed)
        self.params = params or SyntheticParams()
        self.plan: ScenePlan = draw_plan(self.seed, self.params)

    def __len__(self) -> int:
        return self.plan.num_frames

    @cached_property
    def geometry(self) -> SequenceGeometry:
        """Boxes, pixel counts and visibility of every frame (rasterised, not rendered)."""
        return measure(self.plan)

    @cached_property
    def attributes(self) -> list[str]:
        """Attribute tags measured from the sequence (see :mod:`.attributes`)."""
        return tag_attributes(self.plan, self.geometry)

    @cached_property
    def _appearance(self) -> Appearance:
        return Appearance(self.plan)

    def render_frame(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Frame ``i``: RGB ``uint8`` ``H x W x 3`` image and ``uint8`` ``H x W`` {0, 1} mask of the
        visible target pixels."""
        if not 0 <= i < len(self):
            raise IndexError(f"frame {i} out of range for a {len(self)}-frame sequence")
        return render(self.plan, self._appearance, i)

    def frames(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``render_frame(i)`` for every frame in order."""
        return (self.render_frame(i) for i in range(len(self)))

    @property
    def object_class(self) -> str:
        """The target's shape name (``ellipse``, ``rectangle``, ``polygon``, ``blob``)."""
        return self.plan.target.shape

    def meta(self) -> dict[str, str]:
        """GOT-10k-style class fields: object, motion, major and root class, motion adverb."""
        boxes = self.geometry.boxes
        steps = np.linalg.norm(np.diff(boxes[:, :2] + boxes[:, 2:] / 2, axis=0), axis=1)
        pace = float(np.median(steps / np.sqrt(boxes[:-1, 2] * boxes[:-1, 3]))) if len(steps) else 0.0
        tags = self.attributes
        return {
            "object_class": self.object_class,
            "motion_class": "spinning" if "rotation" in tags else "darting" if "fast_motion" in tags else "gliding",
            "major_class": self.plan.target.texture.kind,
            "root_class": "synthetic",
            "motion_adverb": "slowly" if pace < 0.03 else "steadily" if pace < 0.08 else "quickly",
        }
