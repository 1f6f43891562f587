"""Names from data files and dataset metadata are validated in one place (issue 14)."""
import logging

import pytest

import fixtures_benchmarks as fb
from ltr.admin.names import SequenceName, UnsafeNameError, check_names
from pytracking.evaluation.annotations import AnnotationError
from pytracking.evaluation.datasets import load_dataset
from pytracking.evaluation.results import RunDir


@pytest.mark.parametrize("name", ["../x", "/abs", "a/b", "a\\b", "..", ".", "", " x", "a\x00b"])
def test_sequence_name_refuses_path_tricks(name):
    with pytest.raises(UnsafeNameError):
        SequenceName(name, "list.txt:3")


def test_check_names_refuses_duplicates_and_empty():
    with pytest.raises(UnsafeNameError, match="listed twice"):
        check_names(["a", "b", "a"], "x")
    with pytest.raises(UnsafeNameError, match="no sequences"):
        check_names([], "x")


@pytest.mark.parametrize("entry", ["../escape", "/tmp/abs", "sub/dir"])
def test_list_txt_with_a_path_is_an_error_naming_file_and_line(tmp_path, entry):
    fb.write_got10k(tmp_path, "val")
    lst = tmp_path / "val" / "list.txt"
    lst.write_text(lst.read_text() + entry + "\n")
    with pytest.raises(AnnotationError, match=r"list\.txt:4"):
        load_dataset("got10k", root=tmp_path, split="val").sequence_names()


def test_duplicate_and_empty_list(tmp_path):
    fb.write_got10k(tmp_path, "val")
    lst = tmp_path / "val" / "list.txt"
    names = lst.read_text().split()
    lst.write_text("\n".join(names + names[:1]) + "\n")
    with pytest.raises(AnnotationError, match=r"list\.txt:4: .*listed again \(first on line 1\)"):
        load_dataset("got10k", root=tmp_path, split="val").sequence_names()
    lst.write_text("\n\n")
    with pytest.raises(AnnotationError, match="lists no sequences"):
        load_dataset("got10k", root=tmp_path, split="val").sequence_names()


def test_rundir_refuses_unsafe_names(tmp_path):
    rundir = RunDir(tmp_path, "bench", "t", "c")
    with pytest.raises(UnsafeNameError):
        rundir.boxes_file("../../outside")
    with pytest.raises(UnsafeNameError):
        RunDir(tmp_path, "bench", "../t", "c").path


def test_frame_numbering_gap_is_an_error(tmp_path):
    fb.write_got10k(tmp_path, "val")
    (tmp_path / "val" / "GOT-10k_Val_000001" / "00000003.jpg").unlink()
    with pytest.raises(AnnotationError, match=r"GOT-10k_Val_000001: frame numbering broken after 00000002\.jpg"):
        load_dataset("got10k", root=tmp_path, split="val").sequence("GOT-10k_Val_000001")


def test_wrong_resolution_is_an_error_naming_meta_info(tmp_path):
    fb.write_got10k(tmp_path, "val")
    meta = tmp_path / "val" / "GOT-10k_Val_000001" / "meta_info.ini"
    meta.write_text(meta.read_text().replace("(64, 48)", "(640, 480)"))
    with pytest.raises(AnnotationError, match=r"meta_info\.ini: states image size \(640, 480\).*64x48"):
        load_dataset("got10k", root=tmp_path, split="val").sequence("GOT-10k_Val_000001")


def test_invalid_gt_rows_are_reported(tmp_path, caplog):
    fb.write_got10k(tmp_path, "val")
    gt_file = tmp_path / "val" / "GOT-10k_Val_000002" / "groundtruth.txt"
    rows = gt_file.read_text().splitlines()
    rows[1] = "5.0,5.0,0.0,7.0"  # a visible frame (cover > 0) with a zero width
    gt_file.write_text("\n".join(rows) + "\n")
    with caplog.at_level(logging.WARNING):
        seq = load_dataset("got10k", root=tmp_path, split="val").sequence("GOT-10k_Val_000002")
    assert 1 in seq.extra["gt_invalid_rows"]
    assert "groundtruth.txt" in caplog.text and "row 2" in caplog.text


@pytest.mark.parametrize("first", ["5,5,-3,4", "500,500,10,10", "nan,1,2,3", "-50,-50,10,10"])
def test_invalid_initial_box_is_refused(tmp_path, first):
    fb.write_got10k(tmp_path, "test")
    gt_file = tmp_path / "test" / "GOT-10k_Test_000001" / "groundtruth.txt"
    gt_file.write_text(first + "\n")
    with pytest.raises(AnnotationError, match=r"groundtruth\.txt: row 1: initial box"):
        load_dataset("got10k", root=tmp_path, split="test").sequence("GOT-10k_Test_000001")


@pytest.mark.parametrize("name", ["../evil", "/etc/evil", "a/b"])
def test_packager_writes_no_zip_slip_members(tmp_path, name):
    from pytracking.analysis.packaging import SubmissionError, package_trackingnet

    rundir = RunDir(tmp_path, "trackingnet", "t", "c")
    rundir.path.mkdir(parents=True)
    with pytest.raises(SubmissionError, match="sequence name"):
        package_trackingnet(rundir, {name: 1}, tmp_path / "out.zip")
    assert not (tmp_path / "out.zip").exists()
