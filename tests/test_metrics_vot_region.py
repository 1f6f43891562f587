"""VOT pixel-raster region overlap: the vot-toolkit edge cases of metrics.md §6.1, and region I/O."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytracking.analysis.protocols.vot_region import FAILURE, INIT, Mask, as_region, is_empty, region_overlap
from pytracking.evaluation.regions import parse_region


def pixel_rect(x, y, w, h, width, height):
    """Independent raster: the pixels round(x)..round(x+w-1) of a rectangle, on a full image."""
    grid = np.zeros((height, width), dtype=bool)
    x1, y1, x2, y2 = round(x), round(y), round(x + w - 1), round(y + h - 1)
    grid[max(y1, 0): max(y2 + 1, 0), max(x1, 0): max(x2 + 1, 0)] = True
    return grid


def test_rounding_dominates_small_offsets():
    assert region_overlap([0.4, 0, 9.6, 10], [0, 0, 10, 10]) == 1.0


def test_degenerate_union_scores_one():
    assert region_overlap([5, 0, 1, 10], [5, 40, 1, 10]) == 1.0


def test_two_empty_boxes_at_different_places_score_zero():
    assert region_overlap([0, 0, 0, 0], [10, 10, 0, 0]) == 0.0


def test_region_outside_the_image_scores_zero():
    assert region_overlap([200, 200, 10, 10], [10, 10, 20, 20], (100, 100)) == 0.0


def test_special_regions_score_zero():
    assert region_overlap(INIT, [0, 0, 10, 10]) == 0.0
    assert region_overlap([0, 0, 10, 10], FAILURE) == 0.0


def test_overlap_is_bounded_to_the_image():
    # the part of the prediction right of x = 99 is not counted
    inside = region_overlap([80, 0, 40, 10], [80, 0, 20, 10], (100, 100))
    assert inside == 1.0
    assert region_overlap([80, 0, 40, 10], [80, 0, 20, 10]) == pytest.approx(0.5)


def test_polygon_covers_its_boundary_pixels():
    square = [0, 0, 9, 0, 9, 9, 0, 9]  # corners 0..9: 10 x 10 pixels
    assert region_overlap(square, [0, 0, 10, 10]) == 1.0
    assert region_overlap(square, [0, 0, 5, 10]) == pytest.approx(0.5)


def test_rotated_polygon_against_box_counts_pixels():
    diamond = [10, 0, 20, 10, 10, 20, 0, 10]
    mask = np.zeros((21, 21), bool)
    for y in range(21):
        for x in range(21):
            mask[y, x] = abs(x - 10) + abs(y - 10) <= 10
    box = [0, 0, 21, 21]
    assert region_overlap(diamond, box) == pytest.approx(mask.sum() / (21 * 21))


def test_rle_masks_from_the_dataset_reader_overlap_by_pixels():
    mask = as_region(parse_region("m2,3,4,2,1,3,4", None, 1))  # row 0: 0 1 1 1, row 1: 0 0 0 0
    assert isinstance(mask, Mask) and mask.pixels.sum() == 3 and (mask.x0, mask.y0) == (2, 3)
    assert region_overlap(mask, [3, 3, 3, 1]) == 1.0
    assert region_overlap(mask, [2, 3, 4, 2]) == pytest.approx(3 / 8)
    assert is_empty(as_region(parse_region("m0,0,0,0,0", None, 1)))
    assert not is_empty(mask)


def test_tracker_outputs_and_specials_are_accepted():
    assert as_region({"target_bbox": [1, 2, 3, 4]}).tolist() == [1, 2, 3, 4]
    assert as_region(2) == FAILURE and as_region([np.nan] * 4) == 0
    full = np.zeros((10, 10), bool)
    full[2:4, 2:6] = True
    assert region_overlap(full, [2, 2, 4, 2]) == 1.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-20, 70, allow_nan=False), min_size=8, max_size=8))
def test_rectangle_pairs_match_an_independent_raster(v):
    a, b = [v[0], v[1], abs(v[2]) + 1, abs(v[3]) + 1], [v[4], v[5], abs(v[6]) + 1, abs(v[7]) + 1]
    ma, mb = pixel_rect(*a, 100, 100), pixel_rect(*b, 100, 100)
    either = (ma | mb).sum()
    got = region_overlap(a, b, (100, 100))
    ys, xs = np.nonzero(ma | mb)
    if either and xs.min() < xs.max() and ys.min() < ys.max():
        assert got == pytest.approx((ma & mb).sum() / either)
    assert 0.0 <= got <= 1.0
    assert got == region_overlap(b, a, (100, 100))
