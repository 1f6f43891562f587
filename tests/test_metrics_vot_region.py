"""VOT pixel-raster region overlaps against hand computations: vot-toolkit's (``region_overlap``,
vot/region/raster.py 0.7.x) and the legacy VOT2018 one (``legacy_overlap``, pysot's region.c)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytracking.analysis.protocols.vot_legacy_region import legacy_overlap
from pytracking.analysis.protocols.vot_region import FAILURE, INIT, Mask, as_region, is_empty, region_overlap
from pytracking.analysis.protocols.vot_scanline import fill_polygon
from pytracking.evaluation.regions import parse_region


def pixel_rect(x, y, w, h, width, height):
    """Independent raster: x, y, w, h each rounded half-to-even; pixels round(x)..round(x)+round(w)-1."""
    grid = np.zeros((height, width), dtype=bool)
    x1, y1 = int(np.round(x)), int(np.round(y))
    x2, y2 = x1 + int(np.round(w)) - 1, y1 + int(np.round(h)) - 1
    grid[max(y1, 0): max(y2 + 1, 0), max(x1, 0): max(x2 + 1, 0)] = True
    return grid


def rect_bounds(x, y, w, h):
    x1, y1 = int(np.round(x)), int(np.round(y))
    return x1, y1, x1 + int(np.round(w)) - 1, y1 + int(np.round(h)) - 1


def test_rounding_dominates_small_offsets():
    assert region_overlap([0.4, 0, 9.6, 10], [0, 0, 10, 10]) == 1.0


def test_degenerate_union_scores_one():
    assert region_overlap([5, 0, 1, 10], [5, 40, 1, 10]) == 1.0


def test_x_y_w_h_are_rounded_separately():
    # round(1.4) = 1 and round(1.4) = 1: one column (1), not round(1.4)..round(1.4 + 1.4 - 1) = 1..2
    assert region_overlap([1.4, 0, 1.4, 10], [1, 0, 1, 10]) == 1.0
    assert region_overlap([1.4, 0, 1.4, 10], [1, 0, 2, 10]) == 0.5
    # half to even, as np.round: 2.5 -> 2 and 3.5 -> 4, so columns 2..5
    assert region_overlap([2.5, 0, 3.5, 10], [2, 0, 4, 10]) == 1.0
    # 0.6 + 0.6: one pixel at column 1 (the old x + w - 1 bound gave no pixel at all)
    assert region_overlap([0.6, 0, 0.6, 4], [0, 0, 2, 4]) == 0.5


def test_union_degenerate_only_after_clipping_to_the_image_scores_zero():
    # union columns 100..114 lie right of a 100-pixel-wide image: clipped left 100 > right 99
    assert region_overlap([100, 10, 10, 10], [105, 10, 10, 10], (100, 100)) == 0.0
    assert region_overlap([-20, 0, 10, 10], [-15, 0, 10, 10], (100, 100)) == 0.0
    # without the image bound the same pair is counted: 5 shared columns of 15
    assert region_overlap([100, 10, 10, 10], [105, 10, 10, 10]) == pytest.approx(5 / 15)


def test_triangle_follows_the_trax_scanline_rule():
    # nodes per row, trunc(x_i + (Y - y_i) / r * k): rows 0..6 cover columns 0..0, 0..2, 0..4, 0..7,
    # 0..4, 0..2, 0..0 (rows 0 and 6: two equal nodes as the last pair are filled) = 26 pixels
    triangle = [0, 0, 7, 3, 0, 6]
    expected = np.zeros((7, 8), bool)
    for row, last in enumerate([0, 2, 4, 7, 4, 2, 0]):
        expected[row, : last + 1] = True
    assert np.array_equal(fill_polygon(np.reshape(triangle, (-1, 2)), 8, 7), expected)
    assert region_overlap(triangle, [0, 0, 8, 7]) == pytest.approx(26 / 56)
    # pysot's older copy drops both equal nodes, so rows 0 and 6 are empty: 24 pixels
    assert fill_polygon(np.reshape(triangle, (-1, 2)), 8, 7, rule="pysot").sum() == 24


def test_horizontal_edges_give_a_node_in_trax_but_not_in_pysot():
    # a 1-row polygon: every edge is horizontal; TraX takes x_i of each (2, 6, 4), sorts them to
    # 2, 4, 6 and fills the pair 2..4 (the odd node 6 is left); pysot has no node at all
    flat = np.array([[2, 0], [6, 0], [4, 0]], dtype=np.float64)
    assert np.flatnonzero(fill_polygon(flat, 10, 1)[0]).tolist() == [2, 3, 4]
    assert fill_polygon(flat, 10, 1, rule="pysot").sum() == 0


def test_polygon_vertices_are_rounded_half_to_even():
    # (0.5, 0.5)..(9.5, 9.5) rounds to 0..10 on the even side: 11 x 11 pixels vs the 10 x 10 box
    square = [0.5, 0.5, 9.5, 0.5, 9.5, 9.5, 0.5, 9.5]
    assert region_overlap(square, [0, 0, 10, 10]) == pytest.approx(100 / 121)


def test_empty_mask_bounds_are_its_offset_and_a_special_is_empty_at_the_origin():
    empty = Mask(30, 30, np.zeros((4, 4), bool))
    # bounds (30, 30, 30, 30) joined with the box: not degenerate, no shared pixel
    assert region_overlap(empty, [0, 0, 10, 10]) == 0.0
    # a special code's bounds are (0, 0, 0, 0): with a 1-pixel box at the origin the union is degenerate
    assert region_overlap(INIT, [0, 0, 1, 1]) == 1.0


def test_legacy_rectangles_are_polygons_to_x_plus_w():
    # corners 0..10 and 5..15, both ends filled: 6 shared columns of 16
    assert legacy_overlap([0, 0, 10, 10], [5, 0, 10, 10]) == pytest.approx(6 / 16)
    assert legacy_overlap([0, 0, 10, 10], [0, 0, 10, 10]) == 1.0
    # bounds (W, H) = (12, 12): columns past 12 are not counted -> 6 of 13
    assert legacy_overlap([0, 0, 10, 10], [5, 0, 10, 10], (12, 12)) == float(np.float32(6) / np.float32(13))


def test_legacy_touching_boxes_score_zero_and_specials_nan():
    # bounds_overlap of (0..10) and (10..20) is 0, so 0 although column 10 is in both rasters
    assert legacy_overlap([0, 0, 10, 10], [10, 0, 10, 10]) == 0.0
    assert np.isnan(legacy_overlap(INIT, [0, 0, 10, 10]))
    assert legacy_overlap([0, 0, 0, 10], [0, 0, 10, 10]) == 0.0  # zero-area bounds: below the 1e-10 ratio


def test_legacy_triangle_against_its_box():
    # pysot scan line: 24 pixels of the triangle inside the 8 x 7 box polygon (0,0)-(7,6)
    assert legacy_overlap([0, 0, 7, 3, 0, 6], [0, 0, 7, 6]) == float(np.float32(24) / np.float32(56))


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
    ba, bb = rect_bounds(*a), rect_bounds(*b)
    union = min(ba[0], bb[0]), min(ba[1], bb[1]), max(ba[2], bb[2]), max(ba[3], bb[3])
    clipped = max(union[0], 0), max(union[1], 0), min(union[2], 99), min(union[3], 99)
    if union[0] >= union[2] or union[1] >= union[3]:
        assert got == 1.0
    elif clipped[0] >= clipped[2] or clipped[1] >= clipped[3]:
        assert got == 0.0
    else:
        assert got == pytest.approx((ma & mb).sum() / either if either else 0.0)
    assert 0.0 <= got <= 1.0
    assert got == region_overlap(b, a, (100, 100))


def scanline_by_loops(points, width, height, rule):
    """The C loop of region.c written out row by row (bubble sort, pair walk), for comparison."""
    mask = np.zeros((height, width), bool)
    n = len(points)
    for y in range(height):
        nodes, j = [], n - 1
        for i in range(n):
            (xi, yi), (xj, yj) = points[i], points[j]
            if ((yi <= y < yj) or (yj <= y < yi) or (yi < y <= yj) or (yj < y <= yi)
                    or (yi == yj == y)):
                r, k = yj - yi, xj - xi
                if r != 0:
                    nodes.append(int(xi + (y - yi) / r * k))  # int() truncates toward zero, as C
                elif rule == "trax":
                    nodes.append(int(xi))
            j = i
        nodes.sort()
        i = 0
        while i < len(nodes) - 1:
            if rule == "trax":
                if nodes[i] >= width:
                    break
                if nodes[i] == nodes[i + 1] and i < len(nodes) - 2:
                    i += 1
                    continue
            else:
                if nodes[i] == nodes[i + 1]:
                    i += 1
                    continue
                if nodes[i] >= width:
                    break
            if nodes[i + 1] >= 0:
                mask[y, max(nodes[i], 0): min(nodes[i + 1], width - 1) + 1] = True
            i += 2
    return mask


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(-6, 30), st.integers(-6, 30)), min_size=3, max_size=7),
       st.sampled_from(["trax", "pysot"]))
def test_vectorised_scanline_matches_the_c_loop(points, rule):
    pts = np.array(points, dtype=np.float64)
    assert np.array_equal(fill_polygon(pts, 24, 24, rule), scanline_by_loops(points, 24, 24, rule))
