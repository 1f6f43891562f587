"""Parameters of the synthetic sequence generator: frame size, length, difficulty and event odds.

One frozen dataclass so a benchmark split can record exactly what generated it (``to_dict``)
and a config file can set any knob by name (``from_dict``).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ltr.config.loader import ConfigError, from_dict

SHAPES = ("ellipse", "rectangle", "polygon", "blob")
TEXTURES = ("noise", "stripes", "checker", "gradient")
EVENTS = (
    "occlusion", "full_occlusion", "out_of_view", "scale_change", "aspect_change", "fast_motion",
    "distractor", "illumination", "blur", "rotation", "background_motion",
)
# camera events drawn from a generator of their own, so adding them leaves every older sequence unchanged
CAMERA_EVENTS = ("camera_zoom", "camera_shake")


MAX_SIDE = 4096
"""Largest generated frame side (a 100000 px side tried to allocate 58 GiB)."""
MAX_FRAMES = 100_000


@dataclass(frozen=True)
class SyntheticParams:
    """Everything that shapes a synthetic sequence besides its seed.

    ``p_<event>`` is the per-sequence probability that the generator stages that event; the
    attribute tags of a sequence are measured afterwards from what actually happened. With
    ``image_folder``, sequences also depend on the folder's (sorted) image files.

    Real imagery: with ``object_folder`` the target, its look-alikes, the partial occluder and
    part of the clutter are real objects cut from those images (:mod:`.cutouts`); with
    ``background_folder`` the background is always a photo or a video from that folder.
    ``p_camera_zoom`` / ``p_camera_shake`` add a camera that zooms in (scaling background and
    objects about the frame centre) or shakes (everything jitters together).
    ``p_companion`` is a training aid: a different object that stays beside the target for the
    whole sequence, so that only the template tells the two objects of a search crop apart.
    """

    width: int = 480
    height: int = 360
    num_frames: int = 150
    target_size: tuple[float, float] = (0.12, 0.3)  # target side at frame 0, fraction of min(W, H)
    speed: float = 0.05  # typical target speed, in target sides per frame
    shapes: tuple[str, ...] = SHAPES
    textures: tuple[str, ...] = TEXTURES
    image_folder: str | None = None  # optional photos to cut target and background textures from
    p_image_texture: float = 0.5  # with image_folder: chance that a texture is a photo crop
    object_folder: str | None = None  # real objects (alpha, <stem>_mask.png or whole image) to paste
    background_folder: str | None = None  # photos and/or videos used as backgrounds
    p_object_clutter: float = 0.5  # with object_folder: chance that a clutter item is a real object
    clutter: int = 24  # static textured shapes on the background (for a 480x360 frame)
    max_distractors: int = 3
    p_occlusion: float = 0.35
    p_full_occlusion: float = 0.15
    p_out_of_view: float = 0.1
    p_scale_change: float = 0.3
    p_aspect_change: float = 0.2
    p_fast_motion: float = 0.15
    p_distractor: float = 0.4
    p_illumination: float = 0.25
    p_blur: float = 0.2
    p_rotation: float = 0.3
    p_background_motion: float = 0.6
    p_camera_zoom: float = 0.0
    p_camera_shake: float = 0.0
    p_companion: float = 0.0

    def __post_init__(self) -> None:
        if self.width < 32 or self.height < 32:
            raise ValueError(f"frame size {self.width}x{self.height} is too small (at least 32x32)")
        if max(self.width, self.height) > MAX_SIDE:
            raise ValueError(f"frame size {self.width}x{self.height} is too large (at most {MAX_SIDE} a side)")
        if not 1 <= self.num_frames <= MAX_FRAMES:
            raise ValueError(f"num_frames must be in [1, {MAX_FRAMES}], got {self.num_frames}")
        lo, hi = self.target_size
        if not 0.02 <= lo <= hi <= 0.6:
            raise ValueError(f"target_size must satisfy 0.02 <= lo <= hi <= 0.6, got {self.target_size}")
        if not 0 <= self.speed <= 10:
            raise ValueError(f"speed must be in [0, 10] target sides per frame, got {self.speed}")
        for name, known in (("shapes", SHAPES), ("textures", TEXTURES)):
            values = getattr(self, name)
            unknown = sorted(set(values) - set(known))
            if not values or unknown:
                raise ValueError(f"{name} must be a non-empty subset of {known}, got {values}")
        if not 0 <= self.clutter <= 1000 or not 1 <= self.max_distractors <= 32:
            raise ValueError(f"clutter must be in [0, 1000] and max_distractors in [1, 32], got {self.clutter} and "
                             f"{self.max_distractors}")
        for name in ("p_image_texture", "p_object_clutter", "p_companion",
                     *(f"p_{e}" for e in EVENTS + CAMERA_EVENTS)):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], got {getattr(self, name)}")

    def probability(self, event: str) -> float:
        """The probability that ``event`` (one of :data:`EVENTS`) is staged in a sequence."""
        if event not in EVENTS + CAMERA_EVENTS:
            raise KeyError(f"unknown event '{event}'; known: {', '.join(EVENTS + CAMERA_EVENTS)}")
        return float(getattr(self, f"p_{event}"))

    def with_events(self, probability: float, *events: str) -> SyntheticParams:
        """A copy with the probability of ``events`` (all events when none named) set."""
        for event in events:
            self.probability(event)
        return dataclasses.replace(self, **{f"p_{e}": probability for e in (events or EVENTS)})

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (tuples become lists)."""
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
                for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> SyntheticParams:
        """Build from a mapping (a YAML/JSON section); unknown keys are an error naming them."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise TypeError(f"unknown synthetic parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        try:  # typed like every config: '64.5' frames, 'abc' widths and NaN are errors naming the key
            return from_dict(cls, dict(values), "synthetic parameters")
        except ConfigError as err:
            raise ValueError(str(err)) from None
