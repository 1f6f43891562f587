"""Box utilities, property-tested against straightforward reference computations."""
import math

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ltr.data import boxes as B

coord = st.floats(-200, 200, allow_nan=False, width=32)
# sizes are 0 or at least 2**-12 px: thinner boxes only measure float cancellation, not the box code
size = st.one_of(st.just(0.0), st.floats(0.000244140625, 150, allow_nan=False, width=32))  # 2**-12
box = st.tuples(coord, coord, size, size).map(lambda t: np.array(t, dtype=np.float64))
int_box = st.tuples(st.integers(0, 30), st.integers(0, 30), st.integers(0, 20), st.integers(0, 20))


def reference_iou(a, b):
    """IoU by explicit interval arithmetic, one box at a time."""
    ax1, ay1, ax2, ay2 = a[0], a[1], a[0] + max(a[2], 0), a[1] + max(a[3], 0)
    bx1, by1, bx2, by2 = b[0], b[1], b[0] + max(b[2], 0), b[1] + max(b[3], 0)
    iw = max(0.0, min(ax2, bx2) - max(ax1, bx1))
    ih = max(0.0, min(ay2, by2) - max(ay1, by1))
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - iw * ih
    return iw * ih / union if union > 0 else 0.0


def raster(b, n=64):
    grid = np.zeros((n, n), bool)
    grid[b[1]: b[1] + b[3], b[0]: b[0] + b[2]] = True
    return grid


@given(box)
def test_conversions_round_trip(b):
    np.testing.assert_allclose(B.xyxy_to_xywh(B.xywh_to_xyxy(b)), b, atol=1e-9)
    np.testing.assert_allclose(B.cxcywh_to_xywh(B.xywh_to_cxcywh(b)), b, atol=1e-9)
    cx, cy, w, h = B.xywh_to_cxcywh(b)
    assert cx == pytest.approx(b[0] + b[2] / 2) and cy == pytest.approx(b[1] + b[3] / 2)


@given(box, box)
def test_iou_matches_reference_and_is_symmetric(a, b):
    value = B.box_iou(a, b)
    assert value == pytest.approx(reference_iou(a, b), abs=1e-9)
    assert value == pytest.approx(B.box_iou(b, a), abs=1e-12)
    assert 0.0 <= value <= 1.0


@given(int_box, int_box)
def test_iou_equals_pixel_count_on_integer_boxes(a, b):
    ra, rb = raster(a), raster(b)
    union = (ra | rb).sum()
    expected = (ra & rb).sum() / union if union else 0.0
    assert B.box_iou(np.array(a, float), np.array(b, float)) == pytest.approx(expected)


@given(box)
def test_iou_with_itself_is_one_for_positive_size(b):
    if b[2] > 1e-3 and b[3] > 1e-3:
        assert B.box_iou(b, b) == pytest.approx(1.0)


@settings(max_examples=50)
@given(st.lists(box, min_size=1, max_size=6), st.lists(box, min_size=1, max_size=6))
def test_torch_and_numpy_agree_batched(list_a, list_b):
    """Same IoU from both backends; sizes below 1e-30 px are left out (subnormal products such as
    1.4e-45 x 1 underflow differently in the two backends, and no box is that thin)."""
    sizes = np.concatenate([np.stack(list_a)[:, 2:], np.stack(list_b)[:, 2:]]).ravel()
    assume(not ((sizes > 0) & (sizes < 1e-30)).any())
    n = min(len(list_a), len(list_b))
    a, b = np.stack(list_a[:n]), np.stack(list_b[:n])
    expected = B.box_iou(a, b)
    got = B.box_iou(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-9)


@given(box, st.integers(1, 400), st.integers(1, 400))
def test_clip_is_intersection_with_image(b, width, height):
    clipped = B.clip_box(b, width, height)
    x1, y1, x2, y2 = B.xywh_to_xyxy(b)
    assert clipped[0] == pytest.approx(min(max(x1, 0), width))
    assert clipped[1] == pytest.approx(min(max(y1, 0), height))
    assert clipped[2] == pytest.approx(max(0.0, min(max(x2, 0), width) - min(max(x1, 0), width)))
    assert 0 <= clipped[0] and clipped[0] + clipped[2] <= width + 1e-9
    assert 0 <= clipped[1] and clipped[1] + clipped[3] <= height + 1e-9


@given(box, st.integers(40, 400), st.integers(40, 400))
def test_clip_with_margin_keeps_margin_inside(b, width, height):
    margin = 10
    clipped = B.clip_box(b, width, height, margin=margin)
    assert clipped[2] >= margin - 1e-9 and clipped[3] >= margin - 1e-9
    inside_w = min(clipped[0] + clipped[2], width) - max(clipped[0], 0)
    assert inside_w >= margin - 1e-9


@given(box, st.floats(0.1, 4), st.floats(-50, 50), st.floats(-50, 50))
def test_scale_keeps_centre_and_translate_moves_it(b, factor, dx, dy):
    scaled = B.scale_box(b, factor)
    np.testing.assert_allclose(B.xywh_to_cxcywh(scaled)[:2], B.xywh_to_cxcywh(b)[:2], atol=1e-6)
    np.testing.assert_allclose(scaled[2:], b[2:] * factor, atol=1e-6)
    moved = B.translate_box(b, dx, dy)
    np.testing.assert_allclose(moved, b + np.array([dx, dy, 0, 0]), atol=1e-9)


def test_valid_box_rejects_nan_and_non_positive():
    boxes = np.array([[0, 0, 1, 1], [0, 0, 0, 1], [np.nan, 0, 1, 1], [0, 0, -1, 2]], float)
    assert B.is_valid_box(boxes).tolist() == [True, False, False, False]


@settings(max_examples=40, deadline=None)
@given(
    st.integers(5, 60), st.integers(5, 60), st.integers(4, 40), st.integers(4, 40),
    st.floats(1.0, 4.0), st.sampled_from([32, 64, 96]),
)
def test_crop_puts_box_where_the_transform_says(x, y, w, h, factor, out):
    image = np.zeros((120, 140), np.uint8)
    image[y: y + h, x: x + w] = 255
    box = np.array([x, y, w, h], float)
    crop, pad, transform, _ = B.crop_around_box(image, box, factor, out)
    mapped = transform.box_to_crop(box)
    visible = B.clip_box(mapped, out, out)  # a box larger than the crop is cut at its border
    ys, xs = np.nonzero(crop > 127)
    # measured extent of the rendered box in the crop, within one crop pixel of the mapping
    assert abs(xs.min() - visible[0]) <= 1 and abs(xs.max() + 1 - (visible[0] + visible[2])) <= 1
    assert abs(ys.min() - visible[1]) <= 1 and abs(ys.max() + 1 - (visible[1] + visible[3])) <= 1
    np.testing.assert_allclose(transform.box_from_crop(mapped), box, atol=1e-9)
    assert math.isclose(transform.scale, out / B.crop_side_for_box(box, factor))


@settings(max_examples=40, deadline=None)
@given(st.floats(-30, 150), st.floats(-30, 110), st.floats(20, 120), st.sampled_from([32, 64]))
def test_padding_mask_marks_exactly_the_padded_pixels(cx, cy, side, out):
    image = np.full((80, 120, 3), 200, np.uint8)
    transform = B.crop_transform((cx, cy), side, out)
    crop = B.warp_crop(image, transform, interpolation=0)  # nearest: no blending at the border
    pad = transform.padding_mask(120, 80)
    assert (crop[pad] == 0).all()
    assert (crop[~pad] == 200).all()


def test_crop_side_is_ceil_of_factor_sqrt_area():
    assert B.crop_side_for_box(np.array([0, 0, 10, 40.0]), 2.0) == 40.0
    assert B.crop_side_for_box(np.array([0, 0, 3, 3.0]), 2.5) == 8.0
    with pytest.raises(ValueError):
        B.crop_transform((0, 0), 0.0, 32)
