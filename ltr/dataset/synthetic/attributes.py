"""Per-sequence attribute tags, measured from what happened (not from what was planned).

Thresholds follow LaSOT's attribute definitions where one exists (scale and aspect ratio
outside [1/2, 2] of the first frame); the rest are stated next to each constant.
"""
from __future__ import annotations

import numpy as np

from ltr.dataset.synthetic.geometry import SequenceGeometry
from ltr.dataset.synthetic.params import EVENTS
from ltr.dataset.synthetic.plan import ScenePlan
from ltr.dataset.synthetic.shapes import place

OCCLUDED_MIN = 0.1  # partial occlusion: an occluder hides at least this fraction of the target
SCALE_RATIO = 2.0  # target pixel area vs frame 0 outside [1/2, 2]
ASPECT_RATIO = 2.0  # target width/height (before rotation) vs frame 0 outside [1/2, 2]
ROTATION_MIN = np.deg2rad(30)  # in-plane rotation away from the frame-0 angle
FAST_MOTION = 0.5  # box-centre step over the previous box's side sqrt(w h)
DISTRACTOR_NEAR = 2.5  # a look-alike centre within this many target sides, both in view
ILLUMINATION_RATIO = 1.35  # brightest / darkest mean gain
BLUR_MOTION_MIN, BLUR_SIGMA_MIN = 3.0, 1.0  # motion-blur length / defocus sigma, pixels
BACKGROUND_MOTION_MIN = 0.05  # camera pan away from its start, fraction of min(W, H)


def _outside(ratio: np.ndarray, limit: float) -> bool:
    return bool(np.any((ratio > limit) | (ratio < 1 / limit)))


def _distractor_near(plan: ScenePlan, geometry: SequenceGeometry) -> bool:
    boxes = geometry.boxes
    centres = boxes[:, :2] + boxes[:, 2:] / 2
    side = np.sqrt(boxes[:, 2] * boxes[:, 3])
    for track in plan.distractors:
        vertices = place(track.outline, track.center, track.size, track.angle)
        lo, hi = vertices.min(axis=1), vertices.max(axis=1)
        in_view = (hi[:, 0] > 0) & (hi[:, 1] > 0) & (lo[:, 0] < plan.width) & (lo[:, 1] < plan.height)
        near = np.linalg.norm(track.center - centres, axis=1) <= DISTRACTOR_NEAR * side
        if np.any(in_view & near & (geometry.visible_pixels > 0)):
            return True
    return False


def tag_attributes(plan: ScenePlan, geometry: SequenceGeometry) -> list[str]:
    """The attribute tags of a sequence, in :data:`EVENTS` order."""
    target = plan.target
    boxes = geometry.boxes
    steps = np.linalg.norm(np.diff(boxes[:, :2] + boxes[:, 2:] / 2, axis=0), axis=1)
    occluded = geometry.occluded_pixels / geometry.full_pixels
    blur_min = BLUR_SIGMA_MIN if plan.blur_kind == "defocus" else BLUR_MOTION_MIN
    brightness = plan.gain.mean(axis=1)
    aspect = target.size[:, 0] / target.size[:, 1]
    pan = np.linalg.norm(plan.pan - plan.pan[0], axis=1)
    found = {
        "occlusion": bool(np.any((occluded >= OCCLUDED_MIN) & (geometry.visible_pixels > 0))),
        "full_occlusion": bool(np.any((geometry.inside_pixels > 0) & (geometry.visible_pixels == 0))),
        "out_of_view": bool(np.any(geometry.inside_pixels == 0)),
        "scale_change": _outside(geometry.full_pixels / geometry.full_pixels[0], SCALE_RATIO),
        "aspect_change": _outside(aspect / aspect[0], ASPECT_RATIO),
        "fast_motion": bool(np.any(steps > FAST_MOTION * np.sqrt(boxes[:-1, 2] * boxes[:-1, 3]))),
        "distractor": _distractor_near(plan, geometry),
        "illumination": bool(brightness.max() / brightness.min() >= ILLUMINATION_RATIO),
        "blur": bool(np.any(plan.blur_strength >= blur_min)),
        "rotation": bool(np.any(np.abs(target.angle - target.angle[0]) >= ROTATION_MIN)),
        "background_motion": bool(pan.max() >= BACKGROUND_MOTION_MIN * min(plan.width, plan.height)),
    }
    return [name for name in EVENTS if found[name]]
