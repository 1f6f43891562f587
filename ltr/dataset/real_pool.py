"""The project's default real-image pool: objects and backgrounds from Debian packages, no download.

``python -m ltr.dataset.real_pool`` (run by ``install.sh``) copies, resized, the photos that these
packages install into ``<workspace>/data/real_pool/`` and records every file's source and licence
in ``manifest.json``:

=====================  ==========================================  ===========  ================
package                what                                        licence      role
=====================  ==========================================  ===========  ================
tuxpaint-stamps-default  object stamps with alpha (photos, clip-art)  GPL-2        objects
tuxpaint-data          19 scene photos (Tux Paint templates)         GPL-2+       train backgrounds
ukui-wallpapers        12 wallpapers                                 CC-BY-SA-3.0 train backgrounds
mate-backgrounds       nature photos (plus 2 photo wallpapers)       GPL-2+       test backgrounds
=====================  ==========================================  ===========  ================

Split (never changes, so trained models never see test imagery): objects are assigned to
``train`` or ``test`` by a hash of their path inside the package (``TEST_PERCENT`` % held out);
backgrounds by package (mate-backgrounds is used only for the test benchmark). Letters, digits,
chess pieces and other symbols are left out (``EXCLUDED_STAMPS``): they are not objects one tracks.
Debian's ``opencv-doc`` samples are never used: they are reserved for held-out evaluation.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ltr.admin.atomic import atomic_write_bytes, atomic_write_text

logger = logging.getLogger(__name__)

POOL_VERSION = 1
TEST_PERCENT = 15
OBJECT_MAX_SIDE = 256
BACKGROUND_MAX_SIDE = 960
EXCLUDED_STAMPS = ("symbols/",)  # alphabets, digits, chess, money, music, maths: not trackable objects


@dataclass(frozen=True)
class Source:
    """Files of one Debian package that go into the pool."""

    package: str
    root: str
    patterns: tuple[str, ...]
    licence: str
    role: str  # "objects" or "backgrounds"
    split: str | None  # fixed split, or None to split by hash


SOURCES = (
    Source("tuxpaint-stamps-default", "/usr/share/tuxpaint/stamps", ("**/*.png",), "GPL-2", "objects", None),
    Source("tuxpaint-data", "/usr/share/tuxpaint/templates", ("*.jpg",), "GPL-2+", "backgrounds", "train"),
    Source("ukui-wallpapers", "/usr/share/backgrounds", ("*.jpg", "*.png"), "CC-BY-SA-3.0", "backgrounds", "train"),
    Source("mate-backgrounds", "/usr/share/backgrounds/mate", ("nature/*.jpg", "abstract/Elephants.jpg",
                                                               "desktop/GreenTraditional.jpg"),
           "GPL-2+", "backgrounds", "test"),
)
PACKAGES = tuple(dict.fromkeys(s.package for s in SOURCES))


def default_root() -> Path:
    """``<workspace>/data/real_pool`` (the ``real_pool`` key of the paths file overrides it)."""
    from ltr.admin.paths import load_paths

    return load_paths().dataset_root("real_pool")


def pool_folder(root: str | Path | None, role: str, split: str) -> Path:
    """Folder of ``role`` (``objects``/``backgrounds``) files of ``split`` (``train``/``test``)."""
    return Path(root if root is not None else default_root()) / role / split


def _split_of(relative: str) -> str:
    digest = hashlib.sha256(relative.encode()).digest()
    return "test" if int.from_bytes(digest[:4], "big") % 100 < TEST_PERCENT else "train"


def _files(source: Source) -> list[tuple[Path, str]]:
    root = Path(source.root)
    found: dict[Path, str] = {}
    for pattern in source.patterns:
        for path in sorted(root.glob(pattern)):
            relative = path.relative_to(root).as_posix()
            if path.is_file() and not (source.role == "objects" and relative.startswith(EXCLUDED_STAMPS)):
                found[path] = relative
    return sorted(found.items())


def _shrink(image: np.ndarray, max_side: int) -> np.ndarray:
    scale = max_side / max(image.shape[:2])
    if scale >= 1:
        return image
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _convert(path: Path, role: str) -> bytes | None:
    """The pool file's bytes (objects: RGBA PNG with a real alpha; backgrounds: JPEG), or None
    when the file is unreadable or not usable (an object without transparency)."""
    data = np.fromfile(str(path), np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None or image.dtype != np.uint8:
        return None
    if role == "objects":
        if image.ndim != 3 or image.shape[2] != 4 or image[..., 3].min() >= 128 or (image[..., 3] >= 128).sum() < 400:
            return None
        ok, buffer = cv2.imencode(".png", _shrink(image, OBJECT_MAX_SIDE))
    else:
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        ok, buffer = cv2.imencode(".jpg", _shrink(image[..., :3], BACKGROUND_MAX_SIDE), [cv2.IMWRITE_JPEG_QUALITY, 92])
    return buffer.tobytes() if ok else None


def missing_packages() -> list[str]:
    """Packages of :data:`SOURCES` whose folders are not on this machine."""
    return [s.package for s in SOURCES if not _files(s)]


def build_pool(root: str | Path | None = None, force: bool = False) -> Path:
    """Write the pool under ``root`` (default :func:`default_root`); a complete pool with the same
    version is kept. Raises ``FileNotFoundError`` naming the Debian packages that are missing."""
    root = Path(root if root is not None else default_root())
    marker = root / "manifest.json"
    if not force and marker.is_file():
        try:
            if json.loads(marker.read_text(encoding="utf-8")).get("version") == POOL_VERSION:
                return root
        except ValueError:
            pass
    missing = missing_packages()
    if missing:
        raise FileNotFoundError(
            f"the real-image pool needs the Debian package(s) {', '.join(missing)}: "
            f"run `apt-get install {' '.join(PACKAGES)}` (install.sh does this as root)")
    entries, skipped = [], 0
    for source in SOURCES:
        for path, relative in _files(source):
            split = source.split or _split_of(relative)
            data = _convert(path, source.role)
            if data is None:
                skipped += 1
                continue
            name = relative.replace("/", "__").rsplit(".", 1)[0] + (".png" if source.role == "objects" else ".jpg")
            atomic_write_bytes(pool_folder(root, source.role, split) / name, data)
            entries.append({"file": f"{source.role}/{split}/{name}", "package": source.package,
                            "source": str(path), "licence": source.licence})
    counts = {f"{role}/{split}": sum(e["file"].startswith(f"{role}/{split}/") for e in entries)
              for role in ("objects", "backgrounds") for split in ("train", "test")}
    manifest = {"version": POOL_VERSION, "test_percent": TEST_PERCENT, "counts": counts, "skipped": skipped,
                "licences": {s.package: s.licence for s in SOURCES}, "files": entries}
    atomic_write_text(marker, json.dumps(manifest, indent=1))
    logger.info("real-image pool at %s: %s (%d source files skipped: no transparency or unreadable)",
                root, ", ".join(f"{k} {v}" for k, v in counts.items()), skipped)
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the real-image pool from installed Debian packages.")
    parser.add_argument("--root", help="pool folder (default: <workspace>/data/real_pool)")
    parser.add_argument("--force", action="store_true", help="rebuild even when complete")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        root = build_pool(args.root, args.force)
    except (FileNotFoundError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    counts = json.loads((root / "manifest.json").read_text(encoding="utf-8"))["counts"]
    print(f"{root}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
