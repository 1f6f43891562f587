"""Hostile training input an outside probe found: writes outside the workspace, gigabytes from a
few bytes, tampered checkpoints, wrong labels; each now a clear error naming what is wrong."""
import io
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

import training_fakes
from ltr.admin import paths as paths_module
from ltr.admin.checkpoint import CheckpointError, load_checkpoint, load_state_dict_file
from ltr.admin.devices import resolve_device
from ltr.config.experiment import experiment_path
from ltr.config.loader import ConfigError, load_config, load_yaml
from ltr.config.train import DataConfig, SamplerConfig, TrainConfig
from ltr.data import image_io
from ltr.data.image_io import ImageReadError, imdecode, imread
from ltr.data.sampler import EpisodeSampler
from ltr.export import onnx as onnx_export
from ltr.run_training import run
from ltr.trainers.checkpoints import CheckpointFolder
from ltr.trainers.trainer import ResumeError

FAKE_DATA = "data.train=[{name: rectangles, kwargs: {num_sequences: 4}}]"
BASE = [FAKE_DATA, "data.samples_per_epoch=16", "data.num_workers=0"]
training_fakes.register()


# --- configs and output folders ----------------------------------------------------------------
@pytest.mark.parametrize("name", ["/tmp/elsewhere/myexp", "../../main/experiments/tiny_net/smoke", "a/b"])
def test_experiment_names_that_are_paths_must_end_in_yaml(name):
    """A bare name also names the checkpoint folder; /x or ../x put it outside the workspace."""
    with pytest.raises(ConfigError, match="give a name from experiments/ or a path ending in .yaml"):
        experiment_path("tiny_net", name)


@pytest.mark.parametrize("override, key", [
    ("data.batch_size=1000000000", "batch_size"), ("data.samples_per_epoch=99999999999999999999999", "samples_per_epoch"),
    ("data.num_workers=100000", "num_workers"),
])
def test_absurd_data_sizes_are_refused(override, key):
    with pytest.raises(ConfigError, match=rf"{key}.*out of range"):
        load_config(None, DataConfig, [override.split(".", 1)[1]])


def test_epoch_lists_are_range_checked():
    with pytest.raises(ConfigError, match=r"milestones.*-5 out of range"):
        load_config(None, TrainConfig, ["milestones=[-5, 3]"])
    with pytest.raises(ConfigError, match=r"keep_epochs.*0 out of range"):
        load_config(None, TrainConfig, ["keep_epochs=[0]"])


def test_an_epoch_smaller_than_a_batch_is_refused(tmp_path):
    """drop_last would make such an epoch train on nothing and still write a checkpoint."""
    with pytest.raises(ConfigError, match=r"data\.samples_per_epoch 2 is less than one batch"):
        run("tiny_net", "smoke", [FAKE_DATA, "data.samples_per_epoch=2", "data.num_workers=0"],
            workspace=str(tmp_path))
    assert not (tmp_path / "checkpoints").exists()


def test_deep_nesting_and_mixed_key_types_are_config_errors(tmp_path):
    deep = tmp_path / "deep.yaml"
    deep.write_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError, match=r"deep\.yaml: nested too deeply"):
        load_yaml(deep)
    mixed = tmp_path / "mixed.yaml"
    mixed.write_text("1: a\nzzz: b\n")
    with pytest.raises(ConfigError, match=r"mixed\.yaml: unknown key '1'"):
        load_config(mixed, TrainConfig)


def test_a_bad_key_inside_an_overridden_mapping_or_list_blames_set(tmp_path):
    with pytest.raises(ConfigError, match=r"^--set: key 'train\.lr_multipliers\.<key>': expected str"):
        run("tiny_net", "smoke", [*BASE, "train.lr_multipliers={1: 2}"], workspace=str(tmp_path))
    with pytest.raises(ConfigError, match=r"^--set: key 'data\.train\[0\]\.weight': value -1\.0 out of range"):
        run("tiny_net", "smoke", [*BASE, "data.train=[{name: rectangles, weight: -1}]"], workspace=str(tmp_path))


@pytest.mark.parametrize("text, problem", [
    ("datasets: [a, b]\n", "'datasets' must map dataset keys to paths"),
    ("datasets: {got10k: null}\n", "datasets.got10k must be a path"),
    ("datasets: {got10k: 5}\n", "datasets.got10k must be a path"),
    ("workspace: [x]\n", "'workspace' must be a path"),
])
def test_paths_file_values_are_checked(tmp_path, monkeypatch, text, problem):
    file = tmp_path / "paths.yaml"
    file.write_text(text)
    monkeypatch.setenv("PYTRACKING_PATHS", str(file))
    with pytest.raises(paths_module.MissingPathError, match=problem):
        paths_module.load_paths()


def test_paths_file_not_text_and_env_roots_with_a_tilde(tmp_path, monkeypatch):
    file = tmp_path / "paths.yaml"
    file.write_bytes(b"\xff\xfe\x00workspace")
    monkeypatch.setenv("PYTRACKING_PATHS", str(file))
    with pytest.raises(paths_module.MissingPathError, match="not UTF-8"):
        paths_module.load_paths()
    file.write_text("workspace: ./ws\n")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PYTRACKING_GOT10K_ROOT", "~/data/got")
    assert paths_module.load_paths().datasets["got10k"] == tmp_path / "data" / "got"


@pytest.mark.parametrize("name, problem", [("foo", "is not a device name"), ("cuda", "sees no CUDA GPU"),
                                           ("cuda:3", "sees no CUDA GPU")])
def test_devices_are_checked(monkeypatch, name, problem):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match=problem):
        resolve_device(name)
    assert resolve_device("auto") == torch.device("cpu")


# --- weights and checkpoints -------------------------------------------------------------------
def test_weights_file_with_a_tensor_larger_than_its_storage_is_refused(tmp_path):
    """Two bytes of storage claiming 40000 x 40000 half floats: 3.2 GB once converted."""
    path = tmp_path / "stride0.pth"
    torch.save({"conv1.weight": torch.zeros(1, dtype=torch.float16).expand(40000, 40000)}, path)
    assert path.stat().st_size < 10_000
    with pytest.raises(CheckpointError, match=r"stride0\.pth: tensor 'conv1\.weight' claims \(40000, 40000\)"):
        load_state_dict_file(path)


def _trained(tmp_path: Path) -> Path:
    run("tiny_net", "smoke", [*BASE, "train.epochs=1"], workspace=str(tmp_path))
    return CheckpointFolder(tmp_path / "checkpoints" / "tiny_net" / "smoke").path(1)


@pytest.mark.parametrize("tamper, problem", [
    (lambda p: p.update(epoch=1_000_000), "records epoch 1000000, its name says 1"),
    (lambda p: p.update(epoch="1"), "records epoch '1', its name says 1"),
    (lambda p: p.pop("optimizer"), "no optimizer state"),
    (lambda p: p.pop("rng"), "no rng state"),
    (lambda p: p["rng"].update(numpy=p["rng"]["numpy"][:2]), "RNG or step state cannot be restored"),
    (lambda p: p["optimizer"]["param_groups"].append(dict(p["optimizer"]["param_groups"][0])),
     "RNG or step state cannot be restored"),
])
def test_resume_from_a_tampered_checkpoint_is_refused(tmp_path, tamper, problem):
    path = _trained(tmp_path)
    payload = torch.load(path, weights_only=True)
    tamper(payload)
    torch.save(payload, path)
    with pytest.raises(ResumeError, match=problem):
        run("tiny_net", "smoke", [*BASE, "train.epochs=2"], resume=True, workspace=str(tmp_path))


def test_checkpoint_whose_state_dict_is_not_tensors_is_refused(tmp_path):
    path = _trained(tmp_path)
    payload = torch.load(path, weights_only=True)
    payload["state_dict"] = [1, 2]
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match=r"ep0001\.pth: its 'state_dict' is not a mapping of tensors"):
        load_checkpoint(path)


def test_init_from_another_networks_checkpoint_is_refused(tmp_path):
    """It used to log every key as missing and train from random init."""
    other = Path(__file__).resolve().parents[1] / "pytracking" / "networks" / "bit_tiny.pth"
    with pytest.raises(ResumeError, match=r"bit_tiny\.pth: holds none of this network's tensors \(a 'bit'"):
        run("tiny_net", "smoke", [*BASE, "train.epochs=1", f"train.init_from={other}"], workspace=str(tmp_path))


# --- the sampler -------------------------------------------------------------------------------
def test_negatives_need_a_second_sequence():
    """With one sequence the 'other sequence' negative showed the target itself under label 0."""
    one = training_fakes.RectangleDataset(num_sequences=1)
    with pytest.raises(ValueError, match="need at least two sequences"):
        EpisodeSampler([one], SamplerConfig(negative_prob=0.5))
    EpisodeSampler([one], SamplerConfig(negative_prob=0.0))


# --- images ------------------------------------------------------------------------------------
def _encoded(suffix: str, image: np.ndarray | None = None) -> bytes:
    image = np.full((48, 64, 3), 120, np.uint8) if image is None else image
    ok, buf = cv2.imencode(suffix, image)
    assert ok
    return buf.tobytes()


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_images_over_the_pixel_limit_are_refused_before_decoding(monkeypatch, suffix):
    monkeypatch.setattr(image_io, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(ImageReadError, match=rf"big{suffix}: the header claims 64x48 pixels, more than the 1000"):
        imdecode(_encoded(suffix), f"big{suffix}", use_jpeg4py=False)
    with pytest.raises(ImageReadError, match="the header claims 64x48"):
        image_io.mask_decode(_encoded(".png"), "m.png")


def test_a_decoder_error_names_the_file(monkeypatch):
    def refuse(buf, flag):
        raise cv2.error("OpenCV(4.x) error: (-215:Assertion failed) pixels <= CV_IO_MAX_IMAGE_PIXELS")
    monkeypatch.setattr(image_io.cv2, "imdecode", refuse)
    with pytest.raises(ImageReadError, match=r"x\.png: cannot decode .*CV_IO_MAX_IMAGE_PIXELS"):
        imdecode(_encoded(".png"), "x.png", use_jpeg4py=False)


@pytest.mark.parametrize("use_jpeg4py", [False, True])
def test_cmyk_jpeg_and_data_after_the_end_marker_decode(tmp_path, use_jpeg4py):
    if use_jpeg4py and not image_io.jpeg4py_available():
        pytest.skip("libturbojpeg not installed")
    rgb = np.zeros((32, 32, 3), np.uint8)
    rgb[:, :16] = (200, 30, 30)
    rgb[:, 16:] = (30, 30, 200)
    buffer = io.BytesIO()
    Image.fromarray(rgb).convert("CMYK").save(buffer, "JPEG", quality=95)
    (tmp_path / "cmyk.jpg").write_bytes(buffer.getvalue())
    decoded = imread(tmp_path / "cmyk.jpg", use_jpeg4py=use_jpeg4py)
    assert decoded.shape == (32, 32, 3) and np.abs(decoded.astype(int) - rgb).max() < 40
    plain = _encoded(".jpg")
    (tmp_path / "tail.jpg").write_bytes(plain + b"\x00" * 200)  # cameras append data after the end marker
    np.testing.assert_array_equal(imread(tmp_path / "tail.jpg", use_jpeg4py=use_jpeg4py),
                                  imdecode(plain, "plain.jpg", use_jpeg4py=use_jpeg4py))


# --- ONNX export -------------------------------------------------------------------------------
@pytest.mark.parametrize("args, problem", [(["--tolerance", "nan"], "--tolerance must be a finite number"),
                                           (["--opset", "99"], "--opset must be between 17 and 20"),
                                           (["--crop", "0"], "--crop must be a positive side")])
def test_export_options_are_checked(tmp_path, capsys, args, problem):
    with pytest.raises(SystemExit):
        onnx_export.main(["jcat", "--out", str(tmp_path), *args])
    assert problem in capsys.readouterr().err


# --- LMDB packing and the doctor ---------------------------------------------------------------
def test_build_lmdb_refuses_an_empty_folder_and_a_file_as_out(tmp_path, capsys):
    from ltr.dataset import build_lmdb

    (tmp_path / "empty").mkdir()
    assert build_lmdb.main([str(tmp_path / "empty"), "--out", str(tmp_path / "lmdb"), "--quiet"]) == 2
    assert "no image files to pack" in capsys.readouterr().err
    (tmp_path / "frames").mkdir()
    (tmp_path / "frames" / "a.jpg").write_bytes(_encoded(".jpg"))
    (tmp_path / "afile.txt").write_text("x")
    assert build_lmdb.main([str(tmp_path / "frames"), "--out", str(tmp_path / "afile.txt"), "--quiet"]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_doctor_flags_a_workspace_that_is_a_file(tmp_path, monkeypatch):
    from ltr.admin import doctor

    monkeypatch.setenv("PYTRACKING_PATHS", str(tmp_path / "none.yaml"))
    (tmp_path / "afile.txt").write_text("x")
    text, healthy = doctor.report(str(tmp_path / "afile.txt"))
    assert not healthy and "NOT A FOLDER" in text
    text, healthy = doctor.report(str(tmp_path / "new"))
    assert "not created yet" in text


def test_optional_number_errors_say_what_the_number_must_be():
    from ltr.models.jcat.experiment import JcatExperiment

    with pytest.raises(ConfigError, match=r"response_budget_init': expected a finite number, got nan"):
        load_config(None, JcatExperiment, ["tracking.sample_filter.response_budget_init=.nan"])


@pytest.mark.parametrize("args, problem", [(["--frames", "0"], "expected an integer >= 1"),
                                           (["--size", "100000x100000"], "expected WxH with sides 1..8192"),
                                           (["--size", "abc"], "expected WxH")])
def test_benchmark_scripts_refuse_zero_counts_and_absurd_sizes(args, problem):
    """--frames 0 divided by zero; --size 100000x100000 asked for 30 GB."""
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "image_decode_speed.py"
    done = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and problem in done.stderr
