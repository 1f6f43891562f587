"""Image and mask reading: jpeg4py (libturbojpeg) for JPEGs when present, OpenCV otherwise.

Every failure (missing, corrupt or truncated file) raises :class:`ImageReadError` naming the
file, so no caller ever works on a silently half-decoded frame. Both JPEG decoders are strict:

* jpeg4py reports libjpeg-turbo warnings ("Corrupt JPEG data") as errors; after any failure
  its decompressor handle is destroyed instead of going back to jpeg4py's shared cache, where a
  handle left mid-decode would make every later decode in the process fail.
* OpenCV's ``imdecode`` only prints libjpeg's warnings and returns the half-decoded image, so
  the fallback captures what libjpeg writes to stderr during the decode and rejects the file
  when libjpeg complained.
"""
from __future__ import annotations

import contextlib
import functools
import io
import logging
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np
from PIL import Image

logger = logging.getLogger(__name__)
JPEG_SUFFIXES = {".jpg", ".jpeg"}


MAX_IMAGE_PIXELS = 1 << 27
"""Largest image decoded (134 Mpx, 400 MB as RGB; benchmark frames are at most 4K, 8.3 Mpx): a few
hundred bytes of header may claim 60000 x 60000 pixels and take every gigabyte of the machine."""


class ImageReadError(OSError):
    """An image or mask file that could not be read completely."""


@functools.lru_cache(maxsize=1)
def jpeg4py_available() -> bool:
    """True when jpeg4py can decode (libturbojpeg is installed); checked once."""
    import ctypes.util

    if ctypes.util.find_library("turbojpeg") is None:
        logger.info("jpeg4py disabled (libturbojpeg not found); OpenCV decodes JPEGs")
        return False
    try:
        import jpeg4py

        ok, buf = cv2.imencode(".jpg", np.zeros((8, 8, 3), np.uint8))
        jpeg4py.JPEG(np.frombuffer(buf.tobytes(), np.uint8)).decode()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not usable"
        logger.info("jpeg4py disabled (libturbojpeg not found); OpenCV decodes JPEGs")
        return False


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageReadError(f"{path}: file not found") from None
    except OSError as err:
        raise ImageReadError(f"{path}: cannot read ({err.strerror})") from None
    return data


def _check_complete(path: Path, data: bytes) -> None:
    """Reject empty and truncated JPEG/PNG data, which decoders may otherwise half-decode silently."""
    if not data:
        raise ImageReadError(f"{path}: empty file")
    suffix = path.suffix.lower()
    if suffix in JPEG_SUFFIXES and (data[:2] != b"\xff\xd8" or data.rfind(b"\xff\xd9") < 2):
        # data after the end marker (cameras append some) is allowed; a scan cut before it is caught by
        # both decoders' own checks
        raise ImageReadError(f"{path}: corrupt or truncated JPEG (missing start or end marker)")
    if suffix == ".png" and (data[:8] != b"\x89PNG\r\n\x1a\n" or b"IEND" not in data[-16:]):
        raise ImageReadError(f"{path}: corrupt or truncated PNG (missing signature or IEND chunk)")


_STDERR_LOCK = threading.Lock()
_LIBJPEG_COMPLAINTS = (b"Corrupt JPEG data", b"Premature end of JPEG", b"Invalid JPEG", b"Bogus", b"JPEG datastream")


@contextlib.contextmanager
def _captured_stderr() -> Iterator[list[bytes]]:
    """Collect what C libraries write to file descriptor 2 inside the block (one thread at a time);
    lines that are not libjpeg's are written back to stderr afterwards."""
    out: list[bytes] = []
    with _STDERR_LOCK, tempfile.TemporaryFile() as sink:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(sink.fileno(), 2)
            yield out
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            out.append(sink.read())
    other = b"".join(line for line in out[0].splitlines(keepends=True)
                     if not any(c in line for c in _LIBJPEG_COMPLAINTS))
    if other:
        os.write(2, other)


def check_image_pixels(path: Path, data: bytes) -> None:
    """Refuse an image whose header claims more than ``MAX_IMAGE_PIXELS``, before any decoder allocates it.
    A header PIL cannot read is left to the decoders, which report it."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
    except Image.DecompressionBombError as err:  # PIL's own, higher limit
        raise ImageReadError(f"{path}: {err}") from None
    except (OSError, SyntaxError, ValueError):
        return
    _check_pixel_count(path, width, height)


def _check_pixel_count(path: Path, width: int, height: int) -> None:
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageReadError(f"{path}: the header claims {width}x{height} pixels, more than the {MAX_IMAGE_PIXELS} "
                             "an image may have")


def _decode_jpeg4py(buf: np.ndarray, path: Path) -> np.ndarray:
    """jpeg4py decode; a failed decoder handle is destroyed, never returned to jpeg4py's cache.
    A JPEG libturbojpeg's simple API cannot convert (CMYK) goes to OpenCV, which can."""
    import jpeg4py

    jpeg = jpeg4py.JPEG(buf)
    try:
        return jpeg.decode()
    except Exception as err:  # noqa: BLE001 - jpeg4py raises several types
        handle, jpeg.decompressor = jpeg.decompressor, None
        if handle is not None:
            handle.release()
        if "Unsupported color conversion" in str(err):
            return _decode_opencv(buf, path)
        raise ImageReadError(f"{path}: corrupt JPEG ({err})") from None


def _decode_opencv(buf: np.ndarray, path: Path) -> np.ndarray:
    """OpenCV decode to RGB; for JPEGs any libjpeg warning (a corrupt or cut scan) is an error."""
    flag = cv2.IMREAD_COLOR_RGB if hasattr(cv2, "IMREAD_COLOR_RGB") else cv2.IMREAD_COLOR
    try:
        if path.suffix.lower() in JPEG_SUFFIXES:
            with _captured_stderr() as captured:
                image = cv2.imdecode(buf, flag)
            complaints = [line.decode(errors="replace").strip() for line in captured[0].splitlines()
                          if any(c in line for c in _LIBJPEG_COMPLAINTS)]
            if complaints:
                raise ImageReadError(f"{path}: corrupt JPEG ({complaints[0]})")
        else:
            image = cv2.imdecode(buf, flag)
    except cv2.error as err:  # e.g. over OpenCV's own pixel limit
        raise ImageReadError(f"{path}: cannot decode ({str(err).strip().splitlines()[-1]})") from None
    if image is None:
        raise ImageReadError(f"{path}: corrupt image or unsupported format")
    if not hasattr(cv2, "IMREAD_COLOR_RGB"):
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    return image


def image_size(path: str | Path) -> tuple[int, int]:
    """``(W, H)`` of an image file from its header alone (no decode)."""
    path = Path(path)
    try:
        with Image.open(path) as img:
            return int(img.size[0]), int(img.size[1])
    except FileNotFoundError:
        raise ImageReadError(f"{path}: file not found") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise ImageReadError(f"{path}: cannot read the image header ({err})") from None


def imread(path: str | Path, use_jpeg4py: bool | None = None) -> np.ndarray:
    """Read an image as RGB ``uint8`` ``H x W x 3`` (grayscale is expanded to 3 channels)."""
    path = Path(path)
    return imdecode(_read_bytes(path), path, use_jpeg4py)


def imdecode(data: bytes, name: str | Path, use_jpeg4py: bool | None = None) -> np.ndarray:
    """Decode encoded image bytes (``name`` gives the format and the error message) to RGB uint8."""
    path = Path(name)
    _check_complete(path, data)
    check_image_pixels(path, data)
    buf = np.frombuffer(data, np.uint8)
    use_jpeg4py = jpeg4py_available() if use_jpeg4py is None else use_jpeg4py
    if use_jpeg4py and path.suffix.lower() in JPEG_SUFFIXES:
        image = _decode_jpeg4py(buf, path)
    else:
        image = _decode_opencv(buf, path)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    elif image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    return np.ascontiguousarray(image)


def read_mask(path: str | Path) -> np.ndarray:
    """Read a mask as a ``uint8`` ``H x W`` index plane (palette PNGs keep their object ids)."""
    path = Path(path)
    return mask_decode(_read_bytes(path), path)


def mask_decode(data: bytes, name: str | Path) -> np.ndarray:
    """Decode encoded mask bytes to a ``uint8`` index plane; colour masks become 0/1."""
    path = Path(name)
    _check_complete(path, data)
    try:
        with Image.open(io.BytesIO(data)) as img:
            _check_pixel_count(path, *img.size)  # from the header, before anything is decoded
            img.load()
            if img.mode in ("P", "L", "1"):
                return np.array(img, dtype=np.uint8)
            if img.mode in ("RGB", "RGBA"):
                return (np.array(img.convert("L")) > 0).astype(np.uint8)
    except ImageReadError:
        raise
    except Image.DecompressionBombError as err:  # PIL's own, higher limit
        raise ImageReadError(f"{path}: {err}") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise ImageReadError(f"{path}: corrupt mask image ({err})") from None
    raise ImageReadError(f"{path}: unsupported mask mode {img.mode}")
