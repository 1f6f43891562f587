"""Results-only import in each toolkit-native layout (folders and zips), honest speed, and the
analysis CLI's sequence selection, left-out list and exit codes."""
from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import fixtures_benchmarks as fb
import numpy as np
import pytest
import yaml

from pytracking import analyze as cli
from pytracking.analysis import raw_import
from pytracking.analysis.benchmark import analyze_methods
from pytracking.analysis.loading import MethodResults, load_results_only
from pytracking.analysis.protocols.vot_region import FAILURE, INIT, UNKNOWN
from pytracking.analysis.raw_import import RawResultsError
from pytracking.evaluation.sequence import Sequence

GT = np.array([[10.0, 10.0, 20.0, 20.0]] * 6)


def seq(name: str, n: int = 6, anchors: dict | None = None) -> Sequence:
    extra = {}
    if anchors is not None:
        values = np.zeros(n)
        for frame, value in anchors.items():
            values[frame] = value
        extra["anchors"] = values
    return Sequence(name, "got10k", [""] * n, GT[:n].copy(), image_size=(100, 100), extra=extra)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def got10k_folder(root: Path) -> dict[str, list[np.ndarray]]:
    """GOT-10k toolkit layout: two repetitions and a two-column times file per sequence."""
    runs = {}
    for k, name in enumerate(["GOT-10k_Val_000001", "GOT-10k_Val_000002"]):
        runs[name] = [GT + k, GT + k + 1]
        (root / name).mkdir(parents=True, exist_ok=True)
        for r, boxes in enumerate(runs[name], start=1):
            np.savetxt(root / name / f"{name}_{r:03d}.txt", boxes, fmt="%.3f", delimiter=",")
        np.savetxt(root / name / f"{name}_time.txt", np.array([[0.01, 0.02]] * 6), fmt="%.8f", delimiter=",")
    return runs


def test_got10k_repetitions_and_times(tmp_path):
    runs = got10k_folder(tmp_path)
    method = load_results_only("Peer", tmp_path, [seq(n) for n in runs], "boxes")
    assert not method.missing and "got10k layout" in method.source
    for name, expected in runs.items():
        assert len(method.results[name]) == 2
        for got, want in zip(method.results[name], expected):
            np.testing.assert_array_equal(got, want)
        assert sorted(method.times[name][0].tolist()) == [0.01] * 6 + [0.02] * 6
    report = analyze_methods("got10k", [seq(n) for n in runs], [method])
    # GOT-10k speed: mean(1/t) pooled over every entry of both columns
    assert report.results[0].scores["FPS"] == pytest.approx((100 + 50) / 2)


def test_pytracking_tab_separated_ints_and_time_file(tmp_path):
    write(tmp_path / "Basketball.txt", "".join("10\t10\t20\t20\n" for _ in range(6)))
    write(tmp_path / "Basketball_time.txt", "0.5\n" * 6)
    method = load_results_only("PyT", tmp_path, [seq("Basketball")], "boxes")
    np.testing.assert_array_equal(method.results["Basketball"][0], GT)
    assert method.times["Basketball"][0].tolist() == [0.5] * 6 and method.timed


def test_vot_supervised_runs_with_codes(tmp_path):
    lines = ["1", "10,10,20,20", "2", "0", "0", "1"]
    for r in (1, 2):
        write(tmp_path / "baseline" / "ants1" / f"ants1_{r:03d}.txt", "\n".join(lines) + "\n")
    write(tmp_path / "baseline" / "ants1" / "ants1_time.txt", "0.1,0.1\n" * 6)
    method = load_results_only("Legacy", tmp_path, [seq("ants1")], "supervised")
    runs = method.results["ants1"]
    assert len(runs) == 2
    assert runs[0][0] == INIT and runs[0][2] == FAILURE and runs[0][3] == UNKNOWN and runs[0][5] == INIT
    assert runs[0][1].tolist() == [10, 10, 20, 20]
    report = analyze_methods("vot2018", [seq("ants1")], [method])
    assert report.results[0].scores["Failures"] == 1.0


def test_vot_multistart_runs_by_anchor(tmp_path):
    folder = tmp_path / "baseline" / "hand"
    write(folder / "hand_00000000.txt", "1\n" + "10,10,20,20\n" * 5)
    write(folder / "hand_00000003.txt", "1\n10,10,20,20\n10,10,20,20\n")
    write(folder / "hand_time.txt", "0.1\n")  # not an anchor run
    method = load_results_only("MS", tmp_path, [seq("hand", anchors={0: 1, 3: 1})], "multistart")
    assert sorted(method.results["hand"]) == [0, 3]
    assert len(method.results["hand"][3]) == 3 and method.results["hand"][3][0] == INIT
    report = analyze_methods("vot2020", [seq("hand", anchors={0: 1, 3: 1})], [method], low=1, high=5)
    assert report.results[0].scores["Robustness"] == 1.0


def test_zip_with_a_top_folder_reads_like_the_folder(tmp_path):
    runs = got10k_folder(tmp_path / "Peer")
    archive = tmp_path / "Peer.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted((tmp_path / "Peer").rglob("*.txt")):
            z.write(path, path.relative_to(tmp_path).as_posix())
    shutil.rmtree(tmp_path / "Peer")
    method = load_results_only("Peer", archive, [seq(n) for n in runs], "boxes", layout="got10k")
    for name, expected in runs.items():
        np.testing.assert_array_equal(method.results[name][1], expected[1])


@pytest.mark.parametrize("member", ["../evil.txt", "/etc/evil.txt", "C:/evil.txt", "a\\..\\evil.txt"])
def test_zip_members_that_could_escape_are_refused(tmp_path, member):
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("seq.txt", "1,2,3,4\n")
        z.writestr(zipfile.ZipInfo(member), "x")
    with pytest.raises(RawResultsError, match="unsafe member name"):
        load_results_only("Bad", archive, [seq("seq", 1)], "boxes")


def test_zip_members_are_bounded_in_size(tmp_path, monkeypatch):
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("seq.txt", "10,10,20,20\n" * 1000)
    monkeypatch.setattr(raw_import, "MAX_MEMBER_BYTES", 100)
    with pytest.raises(RawResultsError, match="more than the 100 allowed"):
        load_results_only("Big", archive, [seq("seq", 1)], "boxes")


def test_missing_sequences_and_gappy_repetitions_are_named(tmp_path):
    got10k_folder(tmp_path)
    method = load_results_only("Peer", tmp_path, [seq("GOT-10k_Val_000001"), seq("absent")], "boxes")
    assert method.missing == [f"{tmp_path}: absent"]
    (tmp_path / "GOT-10k_Val_000002" / "GOT-10k_Val_000002_001.txt").unlink()
    with pytest.raises(RawResultsError, match="numbered \\[2\\]"):
        load_results_only("Peer", tmp_path, [seq("GOT-10k_Val_000002")], "boxes", layout="got10k")


def test_speed_is_kept_only_for_timed_real_trackers():
    sequences = [seq("s")]
    timed = MethodResults("Real", {"s": [GT]}, {"s": [np.full(6, 0.1)]})
    reference = MethodResults("Static", {"s": [GT]}, {"s": [np.full(6, 1e-5)]}, reference=True)
    untimed = MethodResults("Raw", {"s": [GT]}, {"s": [np.full(6, np.nan)]})
    report = analyze_methods("got10k", sequences, [timed, reference, untimed])
    fps = {r.tracker: r.scores["FPS"] for r in report.results}
    assert fps["Real"] == pytest.approx(10.0)
    assert np.isnan(fps["Static"]) and np.isnan(fps["Raw"])
    assert any("Static" in n and "reference tracker" in n for n in report.notes)


def test_cli_sequences_left_out_strict_and_eao_options(tmp_path, monkeypatch, capsys):
    data_root = tmp_path / "got10k"
    gt = fb.write_got10k(data_root, "val")
    names = sorted(gt)
    raw = tmp_path / "raw"
    for name, boxes in gt.items():
        (raw / name).mkdir(parents=True)
        np.savetxt(raw / name / f"{name}_001.txt", boxes, delimiter=",")
    shutil.rmtree(data_root / "val" / names[0])          # a partial download: one sequence missing
    for image in data_root.rglob("*.jpg"):                 # and annotations only
        image.unlink()
    monkeypatch.setenv("PYTRACKING_WORKSPACE", str(tmp_path / "ws"))
    exp = tmp_path / "exp.yaml"
    exp.write_text(yaml.safe_dump({"dataset": {"name": "got10k", "split": "val", "root": str(data_root)},
                                   "results_only": [{"name": "Peer", "folder": str(raw)}]}))
    assert cli.main([str(exp), "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert f"Left out (1 sequences not scored):\n  {names[0]}:" in out and "Peer" in out
    assert cli.main([str(exp), "--no-plots", "--strict"]) == 1
    capsys.readouterr()
    assert cli.main([str(exp), "--no-plots", "--sequences", names[1]]) == 0
    assert "Sequences: 1" in capsys.readouterr().out
    assert cli.main([str(exp), "--no-plots", "--eao-high", "50"]) == 2
    assert "VOT protocols" in capsys.readouterr().err
