"""Trackers through the API: a frame-size change and an invalid initial box are errors (issue 14)."""
import numpy as np
import pytest

from pytracking.api import load_tracker
from pytracking.evaluation.annotations import AnnotationError


@pytest.fixture(scope="module")
def bit():
    return load_tracker("bit", "tiny")


def test_bit_refuses_a_frame_size_change(bit):
    frame = np.full((48, 64, 3), 90, np.uint8)
    bit.initialize(frame, (10, 10, 20, 16))
    bit.track(frame)
    with pytest.raises(ValueError, match=r"frame size 128x96 differs from the initial 64x48"):
        bit.track(np.full((96, 128, 3), 90, np.uint8))


@pytest.mark.parametrize("box", [(500, 500, 10, 10), (-40, -40, 10, 10)])
def test_api_refuses_an_initial_box_outside_the_image(bit, box):
    with pytest.raises(AnnotationError, match="outside the 64x48 first frame"):
        bit.initialize(np.full((48, 64, 3), 90, np.uint8), box)
