"""One decode path that survives a bad file and is strict in both decoders (issue 14)."""
import cv2
import numpy as np
import pytest

from ltr.data import image_io
from ltr.data.image_io import ImageReadError, imread


def _jpeg_bytes(seed=0, size=96):
    image = (np.random.RandomState(seed).rand(size, size, 3) * 255).astype(np.uint8)
    image = cv2.GaussianBlur(image, (5, 5), 0)
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def _corrupt_scan(data: bytes) -> bytes:
    """Overwrite bytes in the middle of the entropy-coded scan; start and end markers stay intact."""
    bad = bytearray(data)
    middle = len(bad) // 2
    bad[middle:middle + 40] = b"\xab" * 40
    return bytes(bad)


def _corrupt_header(data: bytes) -> bytes:
    bad = bytearray(data)
    bad[3] = 0x6C  # an APPn marker turned into an unsupported marker type
    return bytes(bad)


def test_jpeg4py_survives_a_corrupt_header(tmp_path):
    """Before: the failed decompressor went back to jpeg4py's cache and every later decode failed."""
    if not image_io.jpeg4py_available():
        pytest.fail("libturbojpeg is part of the install (install.sh); jpeg4py must be usable here")
    good, bad = tmp_path / "good.jpg", tmp_path / "bad.jpg"
    good.write_bytes(_jpeg_bytes())
    bad.write_bytes(_corrupt_header(_jpeg_bytes()))
    expected = imread(good, use_jpeg4py=True)
    for _ in range(3):
        with pytest.raises(ImageReadError, match="bad.jpg"):
            imread(bad, use_jpeg4py=True)
        np.testing.assert_array_equal(imread(good, use_jpeg4py=True), expected)


@pytest.mark.parametrize("use_jpeg4py", [True, False])
def test_both_decoders_reject_a_corrupt_scan(tmp_path, use_jpeg4py):
    """Before: OpenCV returned the half-decoded image and only printed libjpeg's warning."""
    bad = tmp_path / "scan.jpg"
    bad.write_bytes(_corrupt_scan(_jpeg_bytes(1)))
    with pytest.raises(ImageReadError, match=r"scan\.jpg: corrupt JPEG"):
        imread(bad, use_jpeg4py=use_jpeg4py)


def test_cut_scan_with_an_end_marker_is_rejected_by_opencv(tmp_path):
    data = _jpeg_bytes(2)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) // 2] + b"\xff\xd9")
    with pytest.raises(ImageReadError, match="cut.jpg"):
        imread(cut, use_jpeg4py=False)
    good = tmp_path / "good.jpg"
    good.write_bytes(data)
    assert imread(good, use_jpeg4py=False).shape == (96, 96, 3)


def test_unrelated_stderr_output_is_passed_through(capfd):
    with image_io._captured_stderr():
        import os
        os.write(2, b"hello from C\n")
    assert "hello from C" in capfd.readouterr().err
