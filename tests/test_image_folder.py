"""Real-imagery training data: cut-outs, backgrounds (photos and videos), camera, pool and benchmark."""
import json
import logging

import cv2
import numpy as np
import pytest
from fixtures_train_datasets import check_visible_boxes

from ltr.dataset import real_pool
from ltr.dataset.base import TRAIN_DATASETS
from ltr.dataset.image_folder import ImageFolderDataset, real_params
from ltr.dataset.synthetic import SyntheticParams, SyntheticSequence
from ltr.dataset.synthetic.cutouts import MediaError, load_cutout, scan_folder

RED = (0, 0, 255)  # BGR


def write_rgba_object(path, size=(60, 40), colour=RED, seed=0):
    """An ellipse of one colour on a transparent canvas, a little noisy inside."""
    h, w = size
    image = np.zeros((h + 10, w + 10, 4), np.uint8)
    cv2.ellipse(image, ((w + 10) // 2, (h + 10) // 2), (w // 2, h // 2), 0, 0, 360, (*colour, 255), -1)
    noise = np.random.default_rng(seed).integers(0, 20, image.shape[:2])
    image[..., :3] = np.where(image[..., 3:] > 0, np.clip(image[..., :3] - noise[..., None], 0, 255), 0)
    cv2.imwrite(str(path), image)


def write_background(path, size=(200, 300), seed=0):
    rng = np.random.default_rng(seed)
    image = cv2.resize(rng.integers(0, 256, (8, 12, 3), dtype=np.uint8), size[::-1], interpolation=cv2.INTER_CUBIC)
    image[..., 2] //= 3  # backgrounds are never strongly red, so target pixels can be told apart
    cv2.imwrite(str(path), image)


def write_video(path, frames=40, size=(120, 160)):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, size[::-1])
    assert writer.isOpened()
    for t in range(frames):
        image = np.full((*size, 3), 40, np.uint8)
        cv2.rectangle(image, (5 + 3 * t, 20), (30 + 3 * t, 60), (200, 200, 0), -1)
        writer.write(image)
    writer.release()


@pytest.fixture
def media(tmp_path):
    objects, backgrounds = tmp_path / "objects", tmp_path / "backgrounds"
    (objects / "sub").mkdir(parents=True)
    backgrounds.mkdir()
    write_rgba_object(objects / "a.png")
    write_rgba_object(objects / "sub" / "b.png", size=(30, 70), seed=1)
    write_background(backgrounds / "one.jpg")
    write_background(backgrounds / "two.png", seed=1)
    return objects, backgrounds


def real(objects, backgrounds, **changes):
    base = dict(width=160, height=120, num_frames=24, p_camera_zoom=1.0, p_camera_shake=1.0)
    return real_params(str(objects), str(backgrounds), {**base, **changes})


def test_boxes_equal_the_pasted_mask_extents(media):
    params = real(*media).with_events(1.0)
    checked = 0
    for seed in range(4):
        sequence = SyntheticSequence(seed, params)
        assert sequence.plan.target.shape == "cutout"
        assert set(sequence.plan.camera_events) == {"camera_zoom", "camera_shake"}
        checked += check_visible_boxes(sequence, f"seed {seed}")
    assert checked >= 20


def test_target_pixels_are_the_object_and_the_background_the_photo(media):
    params = real(*media, p_camera_zoom=0.0, p_camera_shake=0.0, clutter=0).with_events(0.0)
    sequence = SyntheticSequence(3, params)
    for i in (0, 10, 23):
        image, mask = sequence.render_frame(i)
        inside = image[mask.astype(bool)].astype(int)
        red = (inside[:, 0] > 150) & (inside[:, 1] < 60) & (inside[:, 2] < 60)
        assert red.mean() > 0.95  # the cut-out's colour (alpha kept out of the pasted outline)
        outside = image[~mask.astype(bool)].astype(int)
        assert ((outside[:, 0] > 150) & (outside[:, 1] < 60)).mean() < 0.02


def test_same_seed_same_frames_and_random_access(media):
    params = real(*media).with_events(0.5)
    a, b = SyntheticSequence(11, params), SyntheticSequence(11, params)
    later = b.render_frame(17)
    for i in (17, 0, 5):
        np.testing.assert_array_equal(a.render_frame(i)[0], (later if i == 17 else b.render_frame(i))[0])
    np.testing.assert_array_equal(a.geometry.boxes, b.geometry.boxes)
    assert not np.array_equal(a.geometry.boxes, SyntheticSequence(12, params).geometry.boxes)


def test_camera_zoom_scales_the_target_about_the_frame_centre(media):
    still = real(*media, p_camera_zoom=0.0, p_camera_shake=0.0).with_events(0.0)
    zoomed = real(*media, p_camera_zoom=1.0, p_camera_shake=0.0).with_events(0.0)
    a, b = SyntheticSequence(5, still), SyntheticSequence(5, zoomed)
    zoom = b.plan.zoom
    assert zoom is not None and zoom[0] == 1.0 and zoom.max() > 1.1
    middle = np.array([80.0, 60.0])
    np.testing.assert_allclose(b.plan.target.center, middle + zoom[:, None] * (a.plan.target.center - middle))
    np.testing.assert_allclose(b.plan.target.size, zoom[:, None] * a.plan.target.size)


def test_camera_events_leave_sequences_without_them_unchanged():
    plain = SyntheticSequence(4, SyntheticParams(width=96, height=64, num_frames=10))
    again = SyntheticSequence(4, SyntheticParams(width=96, height=64, num_frames=10, p_camera_zoom=0.0))
    np.testing.assert_array_equal(plain.render_frame(9)[0], again.render_frame(9)[0])


def test_companion_is_another_object_beside_the_target_and_changes_nothing_else(media):
    alone = real(*media).with_events(1.0)
    paired = real(*media, p_companion=1.0).with_events(1.0)
    for seed in range(3):
        a, b = SyntheticSequence(seed, alone), SyntheticSequence(seed, paired)
        np.testing.assert_array_equal(a.geometry.boxes, b.geometry.boxes)
        np.testing.assert_array_equal(a.plan.target.center, b.plan.target.center)
        assert len(b.plan.distractors) == len(a.plan.distractors) + 1
        for old, new in zip(a.plan.distractors, b.plan.distractors, strict=False):
            np.testing.assert_array_equal(old.center, new.center)
        companion, target = b.plan.distractors[-1], b.plan.target
        assert companion.texture.image_path != target.texture.image_path  # the folder has two objects
        sides = np.linalg.norm(companion.center - target.center, axis=1) / np.sqrt(target.size.prod(axis=1))
        assert sides.min() >= 0.7 * np.exp(-0.2) - 1e-9 and sides.max() <= 1.8 * np.exp(0.2) + 1e-9
        assert check_visible_boxes(b, f"seed {seed}") > 0  # drawn under the target: boxes stay exact
        image_a, mask_a = a.render_frame(0)
        image_b, mask_b = b.render_frame(0)
        np.testing.assert_array_equal(mask_a, mask_b)
        assert not np.array_equal(image_a, image_b)  # but it is painted


def test_companion_probability_is_validated():
    with pytest.raises(ValueError, match="p_companion"):
        SyntheticParams(p_companion=1.5)


def test_video_background_changes_over_time_and_is_deterministic(tmp_path, media):
    objects, _ = media
    videos = tmp_path / "videos"
    videos.mkdir()
    write_video(videos / "clip.avi")
    params = real(objects, videos, num_frames=12, p_camera_zoom=0.0, p_camera_shake=0.0).with_events(0.0)
    sequence = SyntheticSequence(2, params)
    assert sequence.plan.background.kind == "video"
    first, last = sequence.render_frame(0)[0], sequence.render_frame(11)[0]
    assert np.abs(first.astype(int) - last.astype(int)).mean() > 1.0
    np.testing.assert_array_equal(last, SyntheticSequence(2, params).render_frame(11)[0])


def test_mask_file_and_plain_images_become_cutouts(tmp_path):
    image = np.full((40, 50, 3), 90, np.uint8)
    cv2.imwrite(str(tmp_path / "car.jpg"), image)
    mask = np.zeros((40, 50), np.uint8)
    mask[10:30, 5:25] = 255
    cv2.imwrite(str(tmp_path / "car_mask.png"), mask)
    cv2.imwrite(str(tmp_path / "box.png"), np.full((30, 20, 3), 50, np.uint8))
    masked, boxed = load_cutout(str(tmp_path / "car.jpg")), load_cutout(str(tmp_path / "box.png"))
    assert masked.mask.shape == (20, 20) and masked.mask.all()
    assert boxed.pixels.shape[:2] == (30, 20) and boxed.aspect == pytest.approx(20 / 30)
    np.testing.assert_allclose(boxed.outline.min(axis=0), [-0.5, -0.5])
    np.testing.assert_allclose(boxed.outline.max(axis=0), [0.5, 0.5])
    assert scan_folder(str(tmp_path), "objects").files == (str(tmp_path / "box.png"), str(tmp_path / "car.jpg"))


def test_mixed_and_corrupt_folder_skips_with_a_count(tmp_path, caplog):
    write_rgba_object(tmp_path / "good.png")
    (tmp_path / "random.png").write_bytes(np.random.default_rng(0).bytes(300))
    (tmp_path / "text.jpg").write_text("not an image")
    (tmp_path / "empty.jpg").write_bytes(b"")
    tiny = np.zeros((10, 10, 4), np.uint8)
    tiny[4:6, 4:6] = 255
    cv2.imwrite(str(tmp_path / "tiny.png"), tiny)
    (tmp_path / "notes.txt").write_text("ignored: not an image suffix")
    with caplog.at_level(logging.WARNING):
        scan = scan_folder(str(tmp_path), "objects")
    assert scan.files == (str(tmp_path / "good.png"),)
    assert sorted(p.rsplit("/", 1)[1] for p, _ in scan.skipped) == ["empty.jpg", "random.png", "text.jpg", "tiny.png"]
    assert "skipped 4 of 5 objects" in caplog.text
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.jpg").write_text("nope")
    with pytest.raises(MediaError, match=rf"{bad}.*no usable.*1 skipped.*x.jpg"):
        scan_folder(str(bad), "objects")
    with pytest.raises(MediaError, match="is not a folder"):
        scan_folder(str(tmp_path / "missing"), "backgrounds")


def test_registered_dataset_gives_frames_boxes_masks(media):
    objects, backgrounds = media
    dataset = TRAIN_DATASETS.get("image_folder")(objects=str(objects), backgrounds=str(backgrounds),
                                                  num_sequences=5, params={"width": 96, "height": 72,
                                                                           "num_frames": 10})
    assert isinstance(dataset, ImageFolderDataset) and dataset.has_masks()
    assert dataset.get_sequence_name(0) == "Real_Train_000001"
    frames, anno, meta = dataset.get_frames(1, [0, 9])
    assert frames[0].shape == (72, 96, 3) and anno["mask"][0].shape == (72, 96)
    assert meta["object_class"] == "cutout"


def fake_sources(tmp_path):
    stamps, photos, held_out = tmp_path / "stamps", tmp_path / "photos", tmp_path / "heldout"
    for k in range(30):
        folder = stamps / ("animals" if k % 2 else "food")
        folder.mkdir(parents=True, exist_ok=True)
        write_rgba_object(folder / f"thing{k}.png", seed=k)
    (stamps / "symbols").mkdir()
    write_rgba_object(stamps / "symbols" / "letter_a.png")
    cv2.imwrite(str(stamps / "food" / "opaque.png"), np.full((30, 30, 4), 255, np.uint8))  # no transparency
    for root, count in ((photos, 3), (held_out, 2)):
        root.mkdir()
        for k in range(count):
            write_background(root / f"p{k}.jpg", seed=k)
    return (real_pool.Source("stamps-pkg", str(stamps), ("**/*.png",), "GPL-2", "objects", None),
            real_pool.Source("photos-pkg", str(photos), ("*.jpg",), "GPL-2+", "backgrounds", "train"),
            real_pool.Source("heldout-pkg", str(held_out), ("*.jpg",), "CC0", "backgrounds", "test"))


def test_pool_splits_by_hash_and_package_and_records_licences(tmp_path, monkeypatch):
    monkeypatch.setattr(real_pool, "SOURCES", fake_sources(tmp_path))
    root = real_pool.build_pool(tmp_path / "pool")
    manifest = json.loads((root / "manifest.json").read_text())
    counts = manifest["counts"]
    assert counts["objects/train"] + counts["objects/test"] == 30  # symbols and the opaque stamp left out
    assert 0 < counts["objects/test"] < 15
    assert counts["backgrounds/train"] == 3 and counts["backgrounds/test"] == 2
    assert manifest["skipped"] == 1
    assert {e["licence"] for e in manifest["files"]} == {"GPL-2", "GPL-2+", "CC0"}
    train = {p.name for p in (root / "objects" / "train").iterdir()}
    test = {p.name for p in (root / "objects" / "test").iterdir()}
    assert not train & test
    # the split is a function of the file's path, so a rebuild elsewhere agrees
    again = real_pool.build_pool(tmp_path / "pool2")
    assert {p.name for p in (again / "objects" / "test").iterdir()} == test
    assert all(load_cutout(str(p)).mask.any() for p in (root / "objects" / "test").iterdir())


def test_pool_names_missing_debian_packages(tmp_path, monkeypatch):
    sources = fake_sources(tmp_path)
    gone = real_pool.Source("absent-pkg", str(tmp_path / "nowhere"), ("*.jpg",), "GPL-2", "backgrounds", "test")
    monkeypatch.setattr(real_pool, "SOURCES", (*sources, gone))
    monkeypatch.setattr(real_pool, "PACKAGES", ("stamps-pkg", "absent-pkg"))
    with pytest.raises(FileNotFoundError, match="absent-pkg.*apt-get install"):
        real_pool.build_pool(tmp_path / "pool")


def test_default_pool_builds_from_the_installed_debian_packages(tmp_path):
    """install.sh installs the pool's Debian packages (as root); this is the pool every fresh machine gets."""
    assert real_pool.missing_packages() == [], "run install.sh as root (it apt-get installs the pool's packages)"
    counts = json.loads((real_pool.build_pool(tmp_path / "pool") / "manifest.json").read_text())["counts"]
    assert counts["objects/train"] > 300 and counts["objects/test"] > 40
    assert counts["backgrounds/train"] >= 20 and counts["backgrounds/test"] >= 10


def test_real_benchmark_is_written_from_the_held_out_media(tmp_path, media):
    from pytracking.evaluation.datasets import EVAL_DATASETS

    objects, backgrounds = media
    generator = {"num_sequences": 2, "num_frames": 6, "width": 96, "height": 72, "workers": 0,
                 "object_folder": str(objects), "background_folder": str(backgrounds)}
    dataset = EVAL_DATASETS.get("real")(root=tmp_path / "real", generator=generator)
    sequences = list(dataset)
    assert [s.name for s in sequences] == ["Real_Test_000001", "Real_Test_000002"]
    folders = [p.name for p in (tmp_path / "real").iterdir() if p.is_dir()]
    assert len(folders) == 1 and folders[0].startswith("test-")  # not the default definition: own folder
    record = json.loads((tmp_path / "real" / folders[0] / ".complete").read_text())
    assert record["params"]["object_folder"] == str(objects) and record["params"]["p_camera_zoom"] == 0.3
    assert sequences[0].ground_truth.shape == (6, 4) and sequences[0].dataset == "real"


def test_one_synthetic_definition_per_folder(tmp_path):
    """The default definition (the main job's) lives in <split>/, any other in <split>-<hash>/, so
    run_tracker's default and the main job share one benchmark and other sizes never collide."""
    from pytracking.evaluation.datasets import EVAL_DATASETS
    from pytracking.evaluation.datasets.synthetic import DEFAULT_GENERATOR

    synthetic = EVAL_DATASETS.get("synthetic")
    default = synthetic(root=tmp_path, generator={**DEFAULT_GENERATOR, "workers": 0})
    assert default._split_dir() == synthetic(root=tmp_path)._split_dir() == tmp_path / "test"
    small = synthetic(root=tmp_path, generator={"num_sequences": 2, "num_frames": 4, "width": 64, "height": 48,
                                                "workers": 0})
    other = synthetic(root=tmp_path, generator={"num_sequences": 2, "num_frames": 5, "width": 64, "height": 48,
                                                "workers": 0})
    assert len({default._split_dir(), small._split_dir(), other._split_dir()}) == 3
    assert [len(s) for s in small] == [4, 4] and [len(s) for s in other] == [5, 5]
    assert [len(s) for s in synthetic(root=tmp_path, generator={"num_sequences": 2, "num_frames": 4, "width": 64,
                                                                "height": 48, "workers": 2})] == [4, 4]


def test_real_benchmark_val_split_draws_from_the_training_part_of_the_pool(tmp_path, monkeypatch):
    """Tuning on val never touches the held-out media: val takes the pool's train folders, test its test ones."""
    from pytracking.evaluation.datasets import EVAL_DATASETS
    from ltr.dataset.real_pool import pool_folder

    monkeypatch.setattr(real_pool, "SOURCES", fake_sources(tmp_path))
    pool = real_pool.build_pool(tmp_path / "pool")
    monkeypatch.setattr(real_pool, "build_pool", lambda *a, **k: pool)
    real = EVAL_DATASETS.get("real")
    for split, part in (("val", "train"), ("test", "test")):
        options = real(root=tmp_path / "real", split=split).generator_options()
        assert options["object_folder"] == str(pool_folder(pool, "objects", part))
        assert options["background_folder"] == str(pool_folder(pool, "backgrounds", part))
