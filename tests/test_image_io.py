"""Image loading: both decoders agree, grayscale expands, corrupt files are named."""
import cv2
import numpy as np
import pytest
from PIL import Image

from ltr.data import image_io
from ltr.data.image_io import ImageReadError, imread, read_mask


def smooth_image(h=48, w=64):
    yy, xx = np.mgrid[0:h, 0:w]
    return np.stack([xx * 4 % 256, yy * 5 % 256, (xx + yy) * 2 % 256], axis=2).astype(np.uint8)


@pytest.fixture
def jpeg(tmp_path):
    path = tmp_path / "frame.jpg"
    cv2.imwrite(str(path), cv2.cvtColor(smooth_image(), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
    return path


def test_png_round_trip_is_exact_rgb(tmp_path):
    img = smooth_image()
    cv2.imwrite(str(tmp_path / "a.png"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    out = imread(tmp_path / "a.png")
    assert out.dtype == np.uint8 and out.shape == img.shape
    np.testing.assert_array_equal(out, img)


def test_opencv_fallback_matches_reference_decode(jpeg):
    reference = cv2.cvtColor(cv2.imread(str(jpeg)), cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(imread(jpeg, use_jpeg4py=False), reference)


@pytest.mark.skipif(not image_io.jpeg4py_available(), reason="libturbojpeg not installed")
def test_jpeg4py_and_opencv_agree(jpeg):
    fast, fallback = imread(jpeg, use_jpeg4py=True), imread(jpeg, use_jpeg4py=False)
    assert fast.shape == fallback.shape
    # both are libjpeg-turbo decodes; allow for IDCT differences between builds
    assert np.abs(fast.astype(int) - fallback.astype(int)).max() <= 2


def test_fallback_is_used_without_libturbojpeg(jpeg, monkeypatch):
    image_io.jpeg4py_available.cache_clear()
    monkeypatch.setattr("ctypes.util.find_library", lambda name: None)
    try:
        assert image_io.jpeg4py_available() is False
        assert imread(jpeg).shape == (48, 64, 3)
    finally:
        image_io.jpeg4py_available.cache_clear()


def test_grayscale_is_expanded_to_three_channels(tmp_path):
    gray = smooth_image()[:, :, 0]
    cv2.imwrite(str(tmp_path / "g.png"), gray)
    out = imread(tmp_path / "g.png")
    assert out.shape == (48, 64, 3)
    for c in range(3):
        np.testing.assert_array_equal(out[:, :, c], gray)


@pytest.mark.parametrize("use_jpeg4py", [False, True])
def test_truncated_jpeg_names_the_file(jpeg, tmp_path, use_jpeg4py):
    if use_jpeg4py and not image_io.jpeg4py_available():
        pytest.skip("libturbojpeg not installed")
    data = jpeg.read_bytes()
    bad = tmp_path / "truncated.jpg"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match="truncated.jpg"):
        imread(bad, use_jpeg4py=use_jpeg4py)


def test_garbage_missing_and_empty_files_name_the_file(tmp_path):
    (tmp_path / "garbage.jpg").write_bytes(b"\xff\xd8" + b"x" * 100 + b"\xff\xd9")
    with pytest.raises(ImageReadError, match="garbage.jpg"):
        imread(tmp_path / "garbage.jpg", use_jpeg4py=False)
    with pytest.raises(ImageReadError, match="missing.jpg: file not found"):
        imread(tmp_path / "missing.jpg")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageReadError, match="empty.png: empty file"):
        imread(tmp_path / "empty.png")


def test_palette_mask_keeps_object_ids(tmp_path):
    ids = np.zeros((20, 30), np.uint8)
    ids[2:8, 3:9] = 1
    ids[10:15, 12:20] = 3
    img = Image.fromarray(ids, mode="P")
    img.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0, 128, 128, 0] + [0] * (256 * 3 - 12))
    img.save(tmp_path / "m.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "m.png"), ids)
    # cv2 would have turned this into colours and lost the ids
    assert cv2.imread(str(tmp_path / "m.png")).ndim == 3


def test_truncated_png_mask_is_refused(tmp_path):
    Image.fromarray(np.ones((10, 10), np.uint8) * 255).save(tmp_path / "m.png")
    data = (tmp_path / "m.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[:-20])
    with pytest.raises(ImageReadError, match="cut.png"):
        read_mask(tmp_path / "cut.png")
