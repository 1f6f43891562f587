"""Trackers through the API: a frame-size change and an invalid initial box are errors (issue 14)."""
import numpy as np
import pytest

from pytracking.api import load_tracker
from pytracking.evaluation.annotations import AnnotationError


@pytest.fixture(scope="module")
def bit():
    return load_tracker("bit", "tiny")


@pytest.mark.parametrize("name", ["bit", "jcat"])
def test_trackers_refuse_a_frame_size_change(name, bit):
    tracker = bit if name == "bit" else load_tracker("jcat", "tiny")
    frame = np.full((48, 64, 3), 90, np.uint8)
    tracker.initialize(frame, (10, 10, 20, 16))
    tracker.track(frame)
    with pytest.raises(ValueError, match=r"frame 2 \(0-based\) is 128x96, the first frame 64x48"):
        tracker.track(np.full((96, 128, 3), 90, np.uint8))


@pytest.mark.parametrize("box", [(500, 500, 10, 10), (-40, -40, 10, 10)])
def test_api_refuses_an_initial_box_outside_the_image(bit, box):
    with pytest.raises(AnnotationError, match="outside the 64x48 first frame"):
        bit.initialize(np.full((48, 64, 3), 90, np.uint8), box)
