"""The scenario of one synthetic sequence, drawn from its seed: who is where in every frame.

:func:`draw_plan` decides the target, distractors, occluders, background, camera pan,
illumination and blur as per-frame arrays. It renders nothing, so it is cheap; geometry and
rendering both read the same plan, which keeps boxes, masks and pixels consistent.
Events that would fight each other (out of view, full and partial occlusion, fast motion) get
disjoint time windows, and frame 0 is always event-free with the target fully visible.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ltr.dataset.synthetic.cutouts import is_video, load_cutout, scan_folder, video_length
from ltr.dataset.synthetic.params import EVENTS, SHAPES, SyntheticParams
from ltr.dataset.synthetic.shapes import circumradius, outline, place
from ltr.dataset.synthetic.textures import TextureSpec, list_images, palette
from ltr.dataset.synthetic.timeline import allocate_windows, bump, ramp, reflect, wobble

BLUR_KINDS = ("motion", "defocus")


@dataclass
class ObjectTrack:
    """One object: its outline, its look, and its pose (centre, size, angle) in every frame."""

    shape: str
    outline: np.ndarray  # K x 2, unit square
    texture: TextureSpec
    texture_seed: int
    center: np.ndarray  # N x 2, pixels
    size: np.ndarray  # N x 2, width and height before rotation, pixels
    angle: np.ndarray  # N, radians

    @cached_property
    def placed(self) -> np.ndarray:
        """The outline placed in every frame, ``N x K x 2`` (pixels, continuous coordinates)."""
        return place(self.outline, self.center, self.size, self.angle)

    def vertices(self, i: int) -> np.ndarray:
        """The outline placed in frame ``i``."""
        return self.placed[i]

    def sprite_side(self) -> int:
        """Side of the square texture sprite: a power of two near the largest size, 32..512."""
        return int(np.clip(2 ** np.ceil(np.log2(max(float(self.size.max()), 1.0))), 32, 512))


@dataclass
class ScenePlan:
    """Everything about a sequence except pixels; ``pan`` indexes the background canvas, which is
    ``margin`` pixels larger than the frame on every side."""

    width: int
    height: int
    target: ObjectTrack
    distractors: list[ObjectTrack]
    occluders: list[ObjectTrack]
    background: TextureSpec
    background_seed: int
    clutter: list[ObjectTrack]  # static shapes on the background canvas (one pose each)
    margin: int
    pan: np.ndarray  # N x 2, canvas offset (x, y) of the frame's top-left corner
    gain: np.ndarray  # N x 3, per-channel illumination gain
    blur_kind: str  # one of BLUR_KINDS
    blur_strength: np.ndarray  # N: motion-blur length or defocus sigma, pixels (0 = sharp)
    blur_angle: float
    zoom: np.ndarray | None = None  # N: camera zoom about the frame centre (>= 1), None = no zoom
    video_start: int = 0  # with a video background: the video frame shown in frame 0
    camera_events: tuple[str, ...] = ()  # camera events staged (see params.CAMERA_EVENTS)

    @property
    def num_frames(self) -> int:
        """Frames in the sequence."""
        return len(self.pan)


def _texture_spec(rng: np.random.Generator, params: SyntheticParams, hue: float,
                  allow_photo: bool | str) -> TextureSpec:
    """A procedural texture of a kind allowed by ``params`` or, sometimes, a photo crop;
    ``allow_photo="background"`` takes a photo or video of ``params.background_folder`` and
    ``"board"`` a photo of it (for occluding boards), when that folder is set."""
    colours = palette(rng, hue)
    if allow_photo in ("background", "board") and params.background_folder is not None:
        files = scan_folder(params.background_folder, "backgrounds").files
        if allow_photo == "board":
            files = tuple(f for f in files if not is_video(f))
        if files:
            path = files[int(rng.integers(len(files)))]
            return TextureSpec("video" if is_video(path) else "image", colours, path)
        allow_photo = allow_photo == "background"
    if allow_photo and params.image_folder is not None and rng.random() < params.p_image_texture:
        images = list_images(params.image_folder)
        return TextureSpec("image", colours, images[int(rng.integers(len(images)))])
    return TextureSpec(str(rng.choice(params.textures)), colours)


def _cutout(rng: np.random.Generator, params: SyntheticParams, hue: float) -> tuple[np.ndarray, TextureSpec, float]:
    """A random real object of ``params.object_folder``: its outline, texture and aspect (w / h)."""
    assert params.object_folder is not None
    files = scan_folder(params.object_folder, "objects").files
    path = files[int(rng.integers(len(files)))]
    cut = load_cutout(path)
    return cut.outline, TextureSpec("cutout", palette(rng, hue), path), cut.aspect


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2 ** 31))


def _box_half_extents(track: ObjectTrack, i: int) -> np.ndarray:
    vertices = track.vertices(i)
    return (vertices.max(axis=0) - vertices.min(axis=0)) / 2


class _Planner:
    """Draws a :class:`ScenePlan` step by step from one random generator."""

    def __init__(self, seed: int, params: SyntheticParams) -> None:
        self.rng = np.random.default_rng(seed)
        self.p = params
        self.n = params.num_frames
        self.short = min(params.width, params.height)
        self.staged = {e for e in EVENTS if self.rng.random() < params.probability(e)}
        n = self.n
        lengths = {
            "out_of_view": int(np.clip(round(0.2 * n), 6, 40)),
            "full_occlusion": int(np.clip(round(0.2 * n), 6, 40)),
            "occlusion": int(np.clip(round(0.15 * n), 4, 30)),
            "fast_motion": int(np.clip(round(0.06 * n), 3, 8)),
        }
        self.windows = allocate_windows(self.rng, n, {k: v for k, v in lengths.items() if k in self.staged})

    def _ramp_window(self) -> tuple[int, int]:
        """A random window for a gradual change that completes before the last frame."""
        length = int(self.rng.integers(max(1, self.n // 4), max(2, self.n // 2 + 1)))
        start = int(self.rng.integers(1, max(2, self.n - length)))
        return start, length

    def _signed_log_factor(self, lo: float, hi: float) -> float:
        return float(np.log(self.rng.uniform(lo, hi)) * self.rng.choice([-1.0, 1.0]))

    # -- the target -----------------------------------------------------------------------------
    def target(self, hue: float) -> ObjectTrack:
        rng, n = self.rng, self.n
        cutout = None
        if self.p.object_folder is not None:
            shape = "cutout"
            points, cutout, aspect = _cutout(rng, self.p, hue)
            base_aspect = np.log(aspect) + rng.uniform(-0.15, 0.15)
        else:
            shape = str(rng.choice(self.p.shapes))
            points = outline(shape, rng)
        log_scale = wobble(rng, n, 0.08)
        if "scale_change" in self.staged:
            log_scale += self._signed_log_factor(1.6, 2.2) * ramp(n, *self._ramp_window())
        log_aspect = (base_aspect if cutout is not None else np.log(rng.uniform(0.5, 2.0))) + wobble(rng, n, 0.08)
        if "aspect_change" in self.staged:
            log_aspect += self._signed_log_factor(2.2, 3.0) * ramp(n, *self._ramp_window())
        angle = rng.uniform(-0.3, 0.3) + wobble(rng, n, 0.12)
        if "rotation" in self.staged:
            angle += rng.uniform(np.pi / 4, np.pi) * rng.choice([-1.0, 1.0]) * ramp(n, *self._ramp_window())
        side = rng.uniform(*self.p.target_size) * self.short * np.exp(log_scale)
        size = side[:, None] * np.stack([np.exp(log_aspect / 2), np.exp(-log_aspect / 2)], axis=1)
        size *= max(1.0, 4.0 / size.min())  # at least 4 px on each side
        size *= min(1.0, 0.8 * self.short / (2 * circumradius(points, size).max()))  # fits the frame
        texture = cutout if cutout is not None else _texture_spec(rng, self.p, hue, allow_photo=True)
        center = self._trajectory(points, size)
        return ObjectTrack(shape, points, texture, _seed(rng), center, size, angle)

    def _trajectory(self, points: np.ndarray, size: np.ndarray) -> np.ndarray:
        """Centres: a smooth wander bouncing inside the frame, a fast dash, an excursion out of view."""
        rng, n = self.rng, self.n
        radius = circumradius(points, size)
        side = np.sqrt(size.prod(axis=1))
        lo = radius.max() + 1
        hi = np.array([self.p.width, self.p.height]) - lo
        pos = np.array([rng.uniform(lo, max(lo, hi[0])), rng.uniform(lo, max(lo, hi[1]))])
        heading = rng.uniform(0, 2 * np.pi) + wobble(rng, n, 1.5)
        speed = self.p.speed * side * (1 + wobble(rng, n, 0.5))
        velocity = speed[:, None] * np.stack([np.cos(heading), np.sin(heading)], axis=1)
        fast_start, fast_length = self.windows.get("fast_motion", (-1, 0))
        centers = np.empty((n, 2))
        centers[0] = pos
        flip = np.ones(2)
        for t in range(1, n):
            if t == fast_start:  # dash towards the side with the most room
                room = np.array([hi[0] - pos[0], pos[0] - lo, hi[1] - pos[1], pos[1] - lo])
                direction = np.array([[1, 0], [-1, 0], [0, 1], [0, -1]])[int(room.argmax())]
                dash = direction * rng.uniform(0.8, 1.3) * side[t] * flip
            step = dash if fast_start <= t < fast_start + fast_length else velocity[t]
            moved = pos + flip * step
            for axis in range(2):
                moved[axis], reversed_ = reflect(moved[axis], lo, hi[axis])
                flip[axis] *= -1 if reversed_ else 1
            pos = centers[t] = moved
        if "out_of_view" in self.windows:
            centers = self._leave_view(centers, radius)
        return centers

    def _leave_view(self, centers: np.ndarray, radius: np.ndarray) -> np.ndarray:
        """Blend the centres towards a spot just beyond the nearest border, and back."""
        start, length = self.windows["out_of_view"]
        weight = bump(self.n, start, length)[:, None]
        middle = centers[start + length // 2]
        limits = np.array([self.p.width, self.p.height])
        gaps = np.concatenate([middle, limits - middle])  # left, top, right, bottom
        side = int(gaps.argmin())
        axis = side % 2
        outside = centers.copy()
        outside[:, axis] = -(radius + 2) if side < 2 else limits[axis] + radius + 2
        return (1 - weight) * centers + weight * outside

    # -- other objects --------------------------------------------------------------------------
    def _sweep(self, target: ObjectTrack, window: tuple[int, int], reach: float, axis: int
               ) -> tuple[np.ndarray, np.ndarray]:
        """Centres that cross the target's centre along ``axis`` (0 = x, 1 = y) at constant relative
        speed, at least ``reach`` away outside ``window``; also the unit direction of the sweep."""
        start, length = window
        direction = np.eye(2)[axis] * self.rng.choice([-1.0, 1.0])
        offset = reach * (2 * (np.arange(self.n) - start + 1) / (length + 1) - 1)
        return target.center + offset[:, None] * direction, direction

    def full_occluder(self, target: ObjectTrack) -> ObjectTrack:
        """A board reaching a target radius past the target along the sweep (and 0.3 radius
        across it), so it hides the whole target in the middle frames of the window."""
        start, length = self.windows["full_occlusion"]
        r = float(circumradius(target.outline, target.size[start:start + length]).max()) + 1
        along, across = 2 * r + 1, 1.3 * r + 1
        center, direction = self._sweep(target, (start, length), r + along + 2, int(self.rng.integers(2)))
        half = np.abs(direction) * along + (1 - np.abs(direction)) * across
        return self._occluder("rectangle", center, np.tile(2 * half, (self.n, 1)), np.zeros(self.n))

    def partial_occluder(self, target: ObjectTrack) -> ObjectTrack:
        """A smaller object that passes over part of the target mid-window, travelling along the
        target's longer side so that it stays over the target for several frames."""
        start, length = self.windows["occlusion"]
        half_target = _box_half_extents(target, start + length // 2)
        size = np.tile(2 * half_target * self.rng.uniform(0.5, 0.7, 2), (self.n, 1))
        texture = None
        if self.p.object_folder is not None:
            shape = "cutout"
            points, texture, _ = _cutout(self.rng, self.p, self.rng.random())
        else:
            shape = str(self.rng.choice(SHAPES))
            points = outline(shape, self.rng)
        reach = float(circumradius(target.outline, target.size[start:start + length]).max()
                      + circumradius(points, size[0]) + 2)
        center, direction = self._sweep(target, (start, length), reach, int(half_target.argmax()))
        center = center + (1 - np.abs(direction)) * half_target * self.rng.uniform(-0.35, 0.35)
        return self._occluder(shape, center, size, self.rng.uniform(-0.15, 0.15) + wobble(self.rng, self.n, 0.1),
                              points, texture)

    def _occluder(self, shape: str, center: np.ndarray, size: np.ndarray, angle: np.ndarray,
                  points: np.ndarray | None = None, texture: TextureSpec | None = None) -> ObjectTrack:
        points = outline(shape, self.rng) if points is None else points
        if texture is None:
            texture = _texture_spec(self.rng, self.p, self.rng.random(),
                                    allow_photo="board" if self.p.background_folder else False)
        return ObjectTrack(shape, points, texture, _seed(self.rng), center, size, angle)

    def distractors(self, target: ObjectTrack) -> list[ObjectTrack]:
        """Look-alikes (same texture family, mostly the same shape) passing close to the target,
        on its side towards the frame's middle, at a moment when it is in view."""
        rng, n = self.rng, self.n
        busy = np.zeros(n, bool)
        for name in ("out_of_view", "full_occlusion"):
            if name in self.windows:
                start, length = self.windows[name]
                busy[start:start + length] = True
        free = np.flatnonzero(~busy)
        middle = np.array([self.p.width, self.p.height]) / 2
        out = []
        for _ in range(int(rng.integers(1, self.p.max_distractors + 1))):
            texture = target.texture
            if target.shape == "cutout":  # the same object (recoloured slightly per seed) or another one
                shape = "cutout"
                points = target.outline
                if rng.random() >= 0.7:
                    points, texture, _ = _cutout(rng, self.p, rng.random())
            else:
                shape = target.shape if rng.random() < 0.7 else str(rng.choice(self.p.shapes))
                points = None
            size = target.size[0] * rng.uniform(0.75, 1.3) * np.exp(wobble(rng, n, 0.1))[:, None]
            meet = int(rng.choice(free))
            side = float(np.sqrt(target.size[meet].prod()))
            towards_middle = np.arctan2(*(middle - target.center[meet])[::-1])
            bearing, heading = towards_middle + rng.uniform(-1.0, 1.0), rng.uniform(0, 2 * np.pi)
            near = target.center[meet] + rng.uniform(1.0, 1.8) * side * np.array([np.cos(bearing), np.sin(bearing)])
            velocity = rng.uniform(0.5, 1.5) * self.p.speed * side * np.array([np.cos(heading), np.sin(heading)])
            center = near + (np.arange(n) - meet)[:, None] * velocity
            angle = rng.uniform(-np.pi, np.pi) + wobble(rng, n, 0.3)
            points = outline(shape, rng) if points is None else points
            out.append(ObjectTrack(shape, points, texture, _seed(rng), center, size, angle))
        return out

    # -- scene ----------------------------------------------------------------------------------
    def clutter(self, hue: float, margin: int) -> list[ObjectTrack]:
        """Static textured shapes scattered over the background canvas."""
        rng = self.rng
        count = round(self.p.clutter * self.p.width * self.p.height / (480 * 360))
        canvas = np.array([self.p.width, self.p.height]) + 2 * margin
        items = []
        for _ in range(count):
            side = rng.uniform(0.04, 0.2) * self.short
            if self.p.object_folder is not None and rng.random() < self.p.p_object_clutter:
                shape = "cutout"
                points, texture, aspect = _cutout(rng, self.p, hue)
                size = side * np.sqrt(np.array([aspect, 1 / aspect]))
            else:
                shape = str(rng.choice(SHAPES))
                points = None
                size = side * np.exp(np.array([1, -1]) * rng.uniform(-0.5, 0.5))
                texture = TextureSpec(str(rng.choice(self.p.textures)), palette(rng, (hue + rng.uniform(-0.2, 0.2)) % 1))
            center = rng.uniform(0, 1, (1, 2)) * canvas
            items.append(ObjectTrack(shape, outline(shape, rng) if points is None else points, texture, _seed(rng),
                                     center, size[None], np.array([rng.uniform(-np.pi, np.pi)])))
        return items

    def pan(self, margin: int) -> np.ndarray:
        """Camera pan: the frame's offset in the background canvas, bouncing inside it."""
        rng, n = self.rng, self.n
        start = rng.uniform(0.5, 1.5, 2) * margin
        if "background_motion" not in self.staged:
            return np.tile(start, (n, 1))
        heading = rng.uniform(0, 2 * np.pi) + wobble(rng, n, 1.0)
        speed = max(rng.uniform(1.5, 4.0) * self.short / 360, 0.1 * self.short / max(n - 1, 1))
        offsets = np.empty((n, 2))
        offsets[0], flip = start, np.ones(2)
        for t in range(1, n):
            moved = offsets[t - 1] + flip * speed * np.array([np.cos(heading[t]), np.sin(heading[t])])
            for axis in range(2):
                moved[axis], reversed_ = reflect(moved[axis], 0.0, 2.0 * margin)
                flip[axis] *= -1 if reversed_ else 1
            offsets[t] = moved
        return offsets

    def gain(self) -> np.ndarray:
        """Per-channel illumination gain: a slight flicker, plus a dimming or brightening event."""
        rng, n = self.rng, self.n
        log_gain = wobble(rng, n, 0.04)[:, None] + np.stack([wobble(rng, n, 0.03) for _ in range(3)], axis=1)
        if "illumination" in self.staged:
            level = bump(n, *self._ramp_window())[:, None]
            factor = rng.uniform(0.45, 0.6) if rng.random() < 0.5 else rng.uniform(1.5, 1.8)
            log_gain += level * (np.log(factor) + rng.uniform(-0.12, 0.12, 3))
        return np.exp(log_gain)

    def blur(self) -> tuple[str, np.ndarray, float]:
        """Kind, per-frame strength and direction of a motion or defocus blur episode."""
        rng, n = self.rng, self.n
        kind = str(rng.choice(BLUR_KINDS))
        angle = float(rng.uniform(0, np.pi))
        if "blur" not in self.staged:
            return kind, np.zeros(n), angle
        length = int(np.clip(round(0.12 * n), 3, 15))
        start = int(rng.integers(1, max(2, n - length + 1)))
        longest = max(self.p.width, self.p.height)
        if kind == "motion":
            peak = max(5.0, rng.uniform(0.02, 0.04) * longest)
        else:
            peak = max(1.2, rng.uniform(0.004, 0.008) * longest)
        return kind, peak * bump(n, start, length), angle


def draw_plan(seed: int, params: SyntheticParams) -> ScenePlan:
    """The scenario of sequence ``seed``: a pure function of (seed, params), with no rendering."""
    planner = _Planner(seed, params)
    rng = planner.rng
    hue = rng.random()
    target = planner.target(hue)
    occluders = []
    if "full_occlusion" in planner.windows:
        occluders.append(planner.full_occluder(target))
    if "occlusion" in planner.windows:
        occluders.append(planner.partial_occluder(target))
    distractors = planner.distractors(target) if "distractor" in planner.staged else []
    background_hue = (hue + rng.uniform(0.2, 0.8)) % 1
    background = _texture_spec(rng, params, background_hue,
                               allow_photo="background" if params.background_folder else True)
    margin = round(0.15 * max(params.width, params.height))
    blur_kind, blur_strength, blur_angle = planner.blur()
    plan = ScenePlan(
        width=params.width, height=params.height, target=target, distractors=distractors, occluders=occluders,
        background=background, background_seed=_seed(rng), clutter=planner.clutter(background_hue, margin),
        margin=margin, pan=planner.pan(margin), gain=planner.gain(), blur_kind=blur_kind,
        blur_strength=blur_strength, blur_angle=blur_angle,
    )
    if background.kind == "video":
        length = video_length(str(background.image_path))
        plan.video_start = plan.background_seed % max(1, length - plan.num_frames)
    _stage_companion(plan, seed, params)
    _stage_camera(plan, seed, params)
    return plan


def _stage_companion(plan: ScenePlan, seed: int, params: SyntheticParams) -> None:
    """With probability ``params.p_companion``, a different object that keeps 0.7-1.8 target sides
    from the target in every frame, drawn under it (so the target stays whole), from its own
    generator so that plans without it are unchanged. Search crops then hold two salient objects
    near the centre, and only the template says which one is the target."""
    if params.p_companion <= 0:
        return
    rng = np.random.default_rng([seed, 0xC0A9A7])
    if rng.random() >= params.p_companion:
        return
    target, n = plan.target, plan.num_frames
    if params.object_folder is not None:
        shape = "cutout"
        for _ in range(4):  # another object than the target's, where the folder has one
            points, texture, aspect = _cutout(rng, params, rng.random())
            if texture.image_path != target.texture.image_path:
                break
    else:
        shape, points, aspect = str(rng.choice(params.shapes)), None, float(rng.uniform(0.5, 2.0))
        texture = _texture_spec(rng, params, rng.random(), allow_photo=True)
    points = outline(shape, rng) if points is None else points
    side = np.sqrt(target.size.prod(axis=1))
    distance = rng.uniform(0.7, 1.8) * side * np.exp(wobble(rng, n, 0.2))
    bearing = rng.uniform(0, 2 * np.pi) + wobble(rng, n, 1.0)
    center = target.center + distance[:, None] * np.stack([np.cos(bearing), np.sin(bearing)], axis=1)
    own_side = side[0] * rng.uniform(0.7, 1.4) * np.exp(wobble(rng, n, 0.1))
    size = own_side[:, None] * np.sqrt([aspect, 1 / aspect])
    angle = rng.uniform(-np.pi, np.pi) + wobble(rng, n, 0.3)
    plan.distractors.append(ObjectTrack(shape, points, texture, _seed(rng), center, size, angle))


def _stage_camera(plan: ScenePlan, seed: int, params: SyntheticParams) -> None:
    """Camera zoom and shake, drawn from their own generator (so plans without them are unchanged):
    the background window and every moving object follow the same similarity about the frame
    centre, which keeps boxes and masks exact."""
    if params.p_camera_zoom <= 0 and params.p_camera_shake <= 0:
        return
    rng = np.random.default_rng([seed, 0xCA3E7A])
    staged = tuple(e for e in ("camera_zoom", "camera_shake") if rng.random() < params.probability(e))
    n, short = plan.num_frames, min(plan.width, plan.height)
    plan.camera_events = staged
    shake = np.zeros((n, 2))
    if "camera_shake" in staged:
        length = int(np.clip(round(0.25 * n), 4, 40))
        start = int(rng.integers(1, max(2, n - length + 1)))
        amplitude = rng.uniform(0.01, 0.03) * short
        jitter = rng.normal(0, amplitude, (n, 2))
        shake = jitter * bump(n, start, length)[:, None]
        shake[0] = 0
        # keep the background window inside the canvas
        shake = np.clip(shake, -plan.pan, 2 * plan.margin - plan.pan)
        plan.pan = plan.pan + shake
    zoom = np.ones(n)
    if "camera_zoom" in staged:
        zoom = np.exp(np.log(rng.uniform(1.15, 1.4)) * ramp(n, *_camera_window(rng, n)))
        plan.zoom = zoom
    middle = np.array([plan.width, plan.height]) / 2
    for track in (plan.target, *plan.distractors, *plan.occluders):
        track.center = middle + zoom[:, None] * (track.center - shake - middle)
        track.size = track.size * zoom[:, None]
        track.__dict__.pop("placed", None)  # drop the cached placement made before the camera moved


def _camera_window(rng: np.random.Generator, n: int) -> tuple[int, int]:
    length = int(rng.integers(max(1, n // 4), max(2, n // 2 + 1)))
    return int(rng.integers(1, max(2, n - length))), length
