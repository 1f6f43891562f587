"""Raw results files: the tolerant reader (fast and line-by-line paths) and atomic run folders."""
import numpy as np
import pytest

from pytracking.evaluation.results import ResultsFormatError, RunDir, format_boxes, read_boxes


@pytest.mark.parametrize(
    "text",
    ["1,2.5,3,4\n5,6,7,8\n", "1\t2.5\t3\t4\n5 6 7 8", "1,2.5,3,4\n\n5,6,7,8\n", " 1,2.5,3,4\r\n5,6,7,8\r\n",
     "1;2.5;3;4\n5;6;7;8\n"],
)
def test_any_delimiter_int_or_float(tmp_path, text):
    path = tmp_path / "r.txt"
    path.write_text(text)
    np.testing.assert_array_equal(read_boxes(path), [[1, 2.5, 3, 4], [5, 6, 7, 8]])


@pytest.mark.parametrize(
    "text, where",
    [("1,2,3,4,5\n6,7,8\n", ":1: expected 4 values, got 5"), ("1,2,3,4\n5,6,x,8\n", ":2: not a number")],
)
def test_malformed_lines_are_named(tmp_path, text, where):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(ResultsFormatError, match=f"bad.txt{where}"):
        read_boxes(path)


def test_nan_rows_kept_and_round_trip(tmp_path):
    boxes = np.array([[1.25, 2, 3, 4], [np.nan] * 4, [10.5, 20.25, 0, 7]])
    path = tmp_path / "r.txt"
    path.write_text(format_boxes(boxes))
    np.testing.assert_array_equal(read_boxes(path), boxes)


def test_run_dir_finished_only_after_sidecar(tmp_path):
    run = RunDir(tmp_path, "otb", "static", "default", 0)
    assert not run.is_finished("Seq")
    run.write("Seq", np.ones((3, 4)), np.full(3, 0.01), {"tracker": "static"})
    assert run.is_finished("Seq")
    boxes, times = run.read("Seq")
    np.testing.assert_array_equal(boxes, np.ones((3, 4)))
    np.testing.assert_allclose(times, 0.01)
    run.sidecar_file("Seq").unlink()
    assert not run.is_finished("Seq")
