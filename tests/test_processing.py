"""Processing: crops put the target where the box says, masks and padding stay aligned."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ltr.config.train import CropConfig, ProcessingConfig
from ltr.data.boxes import crop_transform
from ltr.data.processing import EpisodeProcessing, normalise_images
from ltr.data.transforms import GeometricParams, crop_matrix, render_crop, warp
from ltr.data.sampler import Episode, FrameGroup, RejectEpisode
from training_fakes import BACKGROUND, TARGET, RectangleDataset

MEAN = np.array([0.485, 0.456, 0.406])
STD = np.array([0.229, 0.224, 0.225])


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """The processing's uint8 crops (N,h,w,3) as a numpy array."""
    assert images.dtype == torch.uint8 and images.shape[-1] == 3
    return images.numpy()


def episode(frames, boxes, masks=None) -> Episode:
    boxes = [np.asarray(b, np.float64) for b in boxes]
    group = FrameGroup(list(frames), boxes, masks)
    return Episode(FrameGroup(list(frames[:1]), boxes[:1], masks[:1] if masks else None), group)


def measured_box(image: np.ndarray) -> np.ndarray | None:
    """Extent (x, y, w, h) of the bright target in a crop, by half-intensity threshold."""
    mid = (TARGET[0] + BACKGROUND[0]) / 2
    ys, xs = np.nonzero(image[:, :, 0] > mid)
    if xs.size == 0:
        return None
    return np.array([xs.min(), ys.min(), xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()], np.float64)


@pytest.mark.parametrize("search", [
    CropConfig(output_size=128, search_area_factor=3.0),
    CropConfig(output_size=128, search_area_factor=4.0, center_jitter=2.0, scale_jitter=0.25),
    CropConfig(output_size=96, search_area_factor=2.5, center_jitter=1.0, scale_jitter=0.3,
               scale=0.2, translate=0.1),
])
@pytest.mark.parametrize("flip_prob", [0.0, 1.0])
def test_crop_box_matches_rendered_target(search: CropConfig, flip_prob: float) -> None:
    data = RectangleDataset(num_sequences=5, size=(200, 150))
    proc = EpisodeProcessing(ProcessingConfig(search=search, flip_prob=flip_prob, reject_all_padding=False))
    rng = np.random.default_rng(0)
    checked = 0
    for seq in range(5):
        for frame_id in range(0, 40, 4):
            frame, _ = data.render(seq, frame_id)
            out = proc(episode([frame], [data.box(seq, frame_id)]), rng)
            box = out["search_boxes"][0].double().numpy()
            size = search.output_size
            if box[0] < 1 or box[1] < 1 or box[0] + box[2] > size - 1 or box[1] + box[3] > size - 1:
                continue  # target partly outside the crop: nothing to measure against
            found = measured_box(to_uint8(out["search_images"])[0])
            assert found is not None
            np.testing.assert_allclose(found, box, atol=1.0)
            np.testing.assert_allclose(out["search_boxes_norm"][0].numpy(), box / size, rtol=1e-6)
            checked += 1
    assert checked >= 30


def test_rotated_crop_box_is_hull_of_rendered_target() -> None:
    data = RectangleDataset(num_sequences=3, size=(200, 150))
    search = CropConfig(output_size=128, search_area_factor=3.0, rotation=20.0)
    proc = EpisodeProcessing(ProcessingConfig(search=search, reject_all_padding=False))
    rng = np.random.default_rng(1)
    for seq in range(3):
        frame, _ = data.render(seq, 3)
        out = proc(episode([frame], [data.box(seq, 3)]), rng)
        found = measured_box(to_uint8(out["search_images"])[0])
        # a rotated rectangle's sharp corner covers less than half of its extreme pixel
        np.testing.assert_allclose(found, out["search_boxes"][0].numpy(), atol=1.5)


def _notched_mask(height: int, width: int) -> np.ndarray:
    """An asymmetric blob (rectangle with a notch, plus a bar) so a missed flip shows."""
    mask = np.zeros((height, width), np.uint8)
    mask[40:100, 50:130] = 1
    mask[40:65, 50:80] = 0
    mask[110:120, 60:150] = 1
    return mask


def _boundary(mask: np.ndarray, width: int = 1) -> np.ndarray:
    """Pixels within ``width`` pixels (8-neighbourhood) of the mask's edge, on either side."""
    kernel = np.ones((2 * width + 1, 2 * width + 1), np.uint8)
    grown = cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)
    shrunk = cv2.erode(mask.astype(np.uint8), kernel, borderType=cv2.BORDER_REPLICATE).astype(bool)
    return grown & ~shrunk


@pytest.mark.parametrize("seed", range(4))
def test_masks_follow_images_under_every_joint_transform(seed: int) -> None:
    mask = _notched_mask(150, 200)
    frame = np.repeat(mask[:, :, None] * 255, 3, axis=2).astype(np.uint8)
    box = np.array([50.0, 40.0, 100.0, 80.0])
    crop = dict(output_size=128, center_jitter=1.0, scale_jitter=0.2, rotation=15.0, scale=0.2,
                translate=0.1, brightness=0.2, blur_prob=0.5)
    config = ProcessingConfig(template=CropConfig(search_area_factor=2.0, **crop),
                              search=CropConfig(search_area_factor=3.0, **crop),
                              flip_prob=0.5, grayscale_prob=0.5, masks=True, reject_all_padding=False)
    out = EpisodeProcessing(config)(episode([frame, frame], [box, box], [mask, mask]),
                                    np.random.default_rng(seed))
    for group in ("template", "search"):
        for image, crop_mask in zip(to_uint8(out[f"{group}_images"]), out[f"{group}_masks"].numpy()):
            content = image[:, :, 0] > 100
            assert crop_mask.sum() > 100
            wrong = content != crop_mask.astype(bool)
            assert not (wrong & ~_boundary(crop_mask.astype(bool))).any()


def test_padding_mask_marks_exactly_the_padded_pixels_aligned_crop() -> None:
    frame = np.empty((100, 120, 3), np.uint8)
    frame[:] = (200, 100, 50)
    # box 16x16 at the corner, factor 4 -> 64 px crop at scale 1 hanging 24 px off two edges
    config = ProcessingConfig(search=CropConfig(output_size=64, search_area_factor=4.0), reject_all_padding=False)
    out = EpisodeProcessing(config)(episode([frame], [[0, 0, 16, 16]]), np.random.default_rng(0))
    crop, pad = to_uint8(out["search_images"])[0], out["search_pad"][0].numpy()
    assert pad.sum() == 64 * 64 - 40 * 40
    np.testing.assert_array_equal(pad, (crop == 0).all(axis=2))
    np.testing.assert_array_equal(~pad, (crop == (200, 100, 50)).all(axis=2))


@pytest.mark.parametrize("seed", range(3))
def test_padding_mask_matches_padded_content_with_jitter(seed: int) -> None:
    frame = np.empty((100, 120, 3), np.uint8)
    frame[:] = (200, 100, 50)
    crop = CropConfig(output_size=96, search_area_factor=5.0, center_jitter=2.0, scale_jitter=0.3,
                      rotation=10.0, translate=0.1)
    config = ProcessingConfig(search=crop, flip_prob=0.5, reject_all_padding=False)
    out = EpisodeProcessing(config)(episode([frame], [[90, 5, 20, 14]]), np.random.default_rng(seed))
    image, pad = to_uint8(out["search_images"])[0], out["search_pad"][0].numpy()
    assert 0 < pad.sum() < pad.size
    # bilinear sampling blends the border over one source pixel, i.e. `scale` crop pixels
    scale = out["search_boxes"][0, 2].item() / 20
    width = int(np.ceil(scale))
    band = _boundary(pad, width)
    # the image edge may lie just outside the crop, where the band cannot see it
    band[:width], band[-width:], band[:, :width], band[:, -width:] = True, True, True, True
    np.testing.assert_array_equal(pad[~band], (image == 0).all(axis=2)[~band])
    np.testing.assert_array_equal(~pad[~band], (image == (200, 100, 50)).all(axis=2)[~band])


def test_downsampled_padding_and_rejection() -> None:
    frame = np.full((100, 120, 3), 128, np.uint8)
    config = ProcessingConfig(template=CropConfig(output_size=64),
                              search=CropConfig(output_size=64, search_area_factor=4.0), feature_stride=16)
    proc = EpisodeProcessing(config)
    out = proc(episode([frame], [[0, 0, 16, 16]]), np.random.default_rng(0))
    down = out["search_pad_down"][0]
    assert down.shape == (4, 4)
    np.testing.assert_array_equal(down.numpy(), out["search_pad"][0, ::16, ::16].numpy())
    with pytest.raises(RejectEpisode):
        proc(episode([frame], [[-400, -400, 16, 16]]), np.random.default_rng(0))
    with pytest.raises(RejectEpisode):
        proc(episode([frame], [[10, 10, 0, 16]]), np.random.default_rng(0))


def test_output_keys_normalisation_and_distance_map() -> None:
    frame = np.full((120, 160, 3), (124, 116, 104), np.uint8)  # ~ the ImageNet mean
    mask = np.zeros((120, 160), np.uint8)
    mask[50:70, 60:90] = 1
    config = ProcessingConfig(template=CropConfig(output_size=32),
                              search=CropConfig(output_size=64, search_area_factor=3.0),
                              masks=True, distance_map=True, reject_all_padding=False)
    ep = episode([frame, frame], [[60, 50, 30, 20]] * 2, [mask, mask])
    out = EpisodeProcessing(config)(ep, np.random.default_rng(0))
    assert set(out) == {
        "template_images", "template_norm", "template_boxes", "template_boxes_norm", "template_pad",
        "template_pad_down", "template_masks", "search_images", "search_norm", "search_boxes",
        "search_boxes_norm", "search_pad", "search_pad_down", "search_masks", "search_dist", "label",
    }
    assert out["template_images"].shape == (1, 32, 32, 3) and out["search_images"].shape == (2, 64, 64, 3)
    normalised = normalise_images(out)
    assert "search_norm" not in normalised and normalised["search_images"].dtype == torch.float32
    assert normalised["template_images"].shape == (1, 3, 32, 32)
    assert normalised["search_images"].shape == (2, 3, 64, 64)
    inside = normalised["search_images"][0][:, ~out["search_pad"][0]]
    assert inside.abs().max() < 0.02
    dist = out["search_dist"][0]
    assert dist.shape == (64, 64) and dist[31:33, 31:33].max() < 1.0 and dist[0, 0] > 40
    assert out["label"].item() == 1.0


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_device_normalisation_matches_the_reference(seed) -> None:
    """uint8 crops + G_norm, normalised (one sample or a collated batch), equal pytracking's
    ``(clamp(x · f / 255, 0, 1) - mean) / std`` for one brightness factor f in [0.5, 1.5], where x
    is the same crop processed without brightness jitter (no geometric jitter: identical warps)."""
    rng = np.random.default_rng(seed)
    frame = rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)
    ep = episode([frame, frame], [[30, 20, 40, 30]] * 2)
    crops = {g: CropConfig(output_size=size) for g, size in (("template", 32), ("search", 48))}
    plain = EpisodeProcessing(ProcessingConfig(**crops, reject_all_padding=False))(ep, np.random.default_rng(0))
    for crop in crops.values():
        crop.brightness = 0.5
    proc = EpisodeProcessing(ProcessingConfig(**crops, reject_all_padding=False))
    samples = [proc(ep, np.random.default_rng(seed + 10 * k)) for k in range(2)]
    batch = normalise_images(torch.utils.data.default_collate(samples))
    for k, sample in enumerate(samples):
        for group in crops:
            x = plain[f"{group}_images"].numpy().astype(np.float64)
            got = batch[f"{group}_images"][k].permute(0, 2, 3, 1).numpy().astype(np.float64)
            rgb = (got * STD + MEAN) * 255.0  # back to brightened intensities
            safe = (x > 20) & (x < 150)  # never saturate for f <= 1.5
            factor = float(np.median(rgb[safe] / x[safe]))
            assert 0.5 - 1e-6 <= factor <= 1.5 + 1e-6
            expected = (np.clip(x * factor / 255.0, 0, 1) - MEAN) / STD
            np.testing.assert_allclose(got, expected, atol=1.5 / 255 / STD.min())  # uint8 rounding when f > 1
            single = normalise_images(sample)[f"{group}_images"]
            torch.testing.assert_close(single, batch[f"{group}_images"][k])
    floats = {"search_images": torch.ones(1, 3, 4, 4)}
    assert normalise_images(floats)["search_images"] is floats["search_images"]  # float batches pass through


@settings(max_examples=60, deadline=None)
@given(cx=st.floats(-80, 400), cy=st.floats(-80, 300), side=st.integers(8, 500),
       size=st.sampled_from([32, 64, 128, 320]), flip=st.booleans())
def test_cut_and_resize_matches_the_affine_warp(cx, cy, side, size, flip) -> None:
    """render_crop's whole-pixel fast path is STARK's crop: cut the window (zeros outside the
    image), resize it. Masks equal one warpAffine through the composed matrix exactly
    (centre-exact nearest). Images equal, within bilinear rounding (1 level), a warp of the cut
    window whose border repeats the window's edge, which is what a resize does; and they equal the
    warp of the whole image everywhere except the outer ceil(s/2 - 1/2) pixels of a crop upscaled
    s times, whose sampling points fall outside the window. Sizes where an output pixel centre
    falls exactly between two input pixels (e.g. 64 -> 32) are left out: nearest-neighbour has no
    single right answer there and the two OpenCV paths break the tie differently."""
    assume(((2 * np.arange(size) + 1) * side % (2 * size) != 0).all())
    rng = np.random.default_rng(side)
    image = cv2.GaussianBlur(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8), (7, 7), 2)
    mask = (rng.random((240, 320)) > 0.5).astype(np.uint8)
    crop = crop_transform((cx, cy), float(side), size, whole_pixels=True)
    assert crop.x0 == round(crop.x0) and crop.y0 == round(crop.y0)
    geo = GeometricParams(flip=flip)
    matrix = crop_matrix(crop, geo)
    np.testing.assert_array_equal(render_crop(mask, crop, geo, nearest=True), warp(mask, matrix, size, nearest=True))
    fast = render_crop(image, crop, geo).astype(int)
    margin = 600  # cut the window from a zero-padded copy: zeros outside the image
    padded = cv2.copyMakeBorder(image, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=0)
    x0, y0 = round(crop.x0) + margin, round(crop.y0) + margin
    window = padded[y0:y0 + side, x0:x0 + side]
    s = size / side  # output (i + 1/2) = s (x + 1/2): pixel centres map onto pixel centres
    resized = cv2.warpAffine(window, np.array([[s, 0, s / 2 - 0.5], [0, s, s / 2 - 0.5]]), (size, size),
                             flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    resized = cv2.flip(resized, 1) if flip else resized
    assert np.abs(fast - resized.astype(int)).max() <= 1
    ring = max(0, int(np.ceil(s / 2 - 0.5)))
    whole_image = np.abs(fast - warp(image, matrix, size).astype(int))
    assert whole_image[ring:size - ring, ring:size - ring].max() <= 1
    rotated = GeometricParams(flip=flip, angle=10.0)  # any other augmentation: the affine warp itself
    np.testing.assert_array_equal(render_crop(image, crop, rotated), warp(image, crop_matrix(crop, rotated), size))
