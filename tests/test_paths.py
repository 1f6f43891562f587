"""Dataset paths from the user file and environment, and the doctor report."""
import pytest

from ltr.admin import doctor
from ltr.admin.paths import MissingPathError, load_paths


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr("ltr.admin.paths.USER_PATHS_FILE", tmp_path / "home" / "paths.yaml")
    for key in list(__import__("os").environ):
        if key.startswith("PYTRACKING_"):
            monkeypatch.delenv(key)


def test_doctor_with_empty_config_lists_every_key(capsys):
    assert doctor.main([]) == 0
    out = capsys.readouterr().out
    for key in ("got10k", "lasot", "trackingnet", "coco", "youtubevos", "otb", "uav", "nfs", "vot2018", "vot2020"):
        assert f"{key} " in out
        assert f"PYTRACKING_{key.upper()}_ROOT" in out
    assert "not set" in out and "synthetic" in out


def test_doctor_flags_wrong_layout_and_missing_folder(tmp_path, monkeypatch, capsys):
    wrong = tmp_path / "not_got10k"
    (wrong / "something").mkdir(parents=True)
    good = tmp_path / "lasot"
    (good / "cat" / "cat-1").mkdir(parents=True)
    (good / "cat" / "cat-1" / "groundtruth.txt").write_text("1,2,3,4\n")
    (tmp_path / "paths.yaml").write_text(
        f"datasets:\n  got10k: {wrong}\n  lasot: {good}\n  otb: {tmp_path / 'nowhere'}\n"
    )
    assert doctor.main([]) == 1
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line[:1].isalpha()}
    assert "BAD LAYOUT" in lines["got10k"] and "train/list.txt" in lines["got10k"]
    assert " ok " in lines["lasot"]
    assert "MISSING" in lines["otb"]


def test_environment_overrides_the_file(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "paths.yaml").write_text(f"datasets:\n  got10k: {tmp_path / 'a'}\nworkspace: {tmp_path / 'ws'}\n")
    monkeypatch.setenv("PYTRACKING_GOT10K_ROOT", str(tmp_path / "b"))
    paths = load_paths()
    assert paths.dataset_root("got10k") == tmp_path / "b"
    assert paths.workspace == tmp_path / "ws"
    assert paths.checkpoints == tmp_path / "ws" / "checkpoints"


def test_missing_path_error_names_key_and_how_to_set_it():
    with pytest.raises(MissingPathError) as info:
        load_paths().dataset_root("lasot")
    assert "'lasot'" in str(info.value) and "PYTRACKING_LASOT_ROOT" in str(info.value)


def test_unknown_key_in_paths_file_is_an_error(tmp_path):
    (tmp_path / "paths.yaml").write_text("datasets:\n  gotk10: /x\n")
    with pytest.raises(MissingPathError, match="unknown dataset key 'gotk10'"):
        load_paths()


def test_default_workspace_is_local_and_synthetic_lives_in_it(tmp_path):
    paths = load_paths()
    assert paths.workspace == tmp_path / "workspace"
    assert paths.dataset_root("synthetic") == tmp_path / "workspace" / "data" / "synthetic"
