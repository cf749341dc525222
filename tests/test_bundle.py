"""The packaged app (docs/packaging.md): the self-test from source, the spec's collection rules,
main.py's windowed-mode guard, and, when ``LTS_BUNDLE`` names a built bundle folder (``.ci/bundle``
builds one and sets it), the self-test inside the frozen bundle.
"""
from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import build_app  # noqa: E402
from gui import self_test  # noqa: E402

SOURCE_CHECKS = ["bundle_paths", "torch", "main_window", "train", "predict", "foreign_checkpoint"]
FROZEN_CHECKS = SOURCE_CHECKS + ["bundle_untouched"]
OTHER_BINDINGS = ("PyQt5", "PyQt6", "PySide2", "tkinter", "triton")
SITE_PACKAGES = Path(torch.__file__).parent.parent


def run_self_test(command: list[str], report: Path) -> tuple[subprocess.CompletedProcess, dict]:
    process = subprocess.run(command + ["--self-test", "--report", str(report)], cwd=ROOT, capture_output=True,
                             text=True, timeout=900, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert process.returncode == 0, process.stdout + process.stderr
    return process, json.loads(report.read_text(encoding="utf-8"))


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG file"
    return struct.unpack(">II", header[16:24])


def assert_checks_passed(report: dict, names: list[str]) -> dict[str, dict]:
    checks = {check["name"]: check for check in report["checks"]}
    assert [check["name"] for check in report["checks"]] == names
    failed = {name: check["error"] for name, check in checks.items() if not check["ok"]}
    assert not failed and report["ok"] is True, failed
    details = {name: check["details"] for name, check in checks.items()}
    assert details["torch"]["nms_kept"] == [0, 2]
    assert details["main_window"]["language"] == "zh_CN"  # the self-test starts the app in Chinese once
    assert details["main_window"]["tabs"] == ["训练", "推理", "比较", "运行记录"]
    assert "long_tail_studio_zh_CN.qm" in details["bundle_paths"]["translations"]
    assert "unavailable" not in details["main_window"]["device_label"]
    screenshot = Path(details["main_window"]["screenshot"])
    assert png_size(screenshot) == tuple(details["main_window"]["size"])
    assert not Path(details["train"]["run"]).exists(), "the temporary workspace was not removed"
    digits = [str(d) for d in range(10)]
    assert details["predict"]["true_label"] in digits
    assert [label in digits for label, _ in details["predict"]["top3"]] == [True] * 3
    assert "resnet20" in details["foreign_checkpoint"]["described"]
    return details


def test_self_test_from_source_passes_and_leaves_the_users_workspace_alone(tmp_path, workspace):
    report_path = tmp_path / "out" / "report.json"
    process, report = run_self_test([sys.executable, str(ROOT / "main.py")], report_path)

    assert report["frozen"] is False and Path(report["code_root"]) == ROOT
    details = assert_checks_passed(report, SOURCE_CHECKS)
    assert details["bundle_paths"]["code_root"] == str(ROOT)
    assert details["train"]["history_rows"] == 1
    assert "self-test passed" in process.stdout
    assert report_path.with_name("report-window.png").is_file()
    assert list(workspace.iterdir()) == [], "the self-test wrote into the user's workspace"


def test_a_failing_check_is_reported_and_the_other_checks_still_run():
    def boom() -> dict:
        raise RuntimeError("boom")

    results = self_test.run_checks([("first", lambda: {"x": 1}), ("broken", boom), ("last", lambda: {})])

    assert [(r.name, r.ok) for r in results] == [("first", True), ("broken", False), ("last", True)]
    assert results[0].details == {"x": 1}
    assert results[1].error == "RuntimeError: boom" and "raise RuntimeError" in results[1].traceback
    report = self_test.build_report(results, 1.5)
    assert report["ok"] is False and json.loads(json.dumps(report))["checks"][1]["error"] == "RuntimeError: boom"
    assert self_test.build_report([], 0.0)["ok"] is False


def test_self_test_exits_1_and_writes_the_failure_when_a_check_fails(tmp_path, monkeypatch):
    passing = {"bundle_paths", "main_window", "train_tiny_epoch", "predict_bundled_image", "foreign_checkpoint"}
    for name in passing:
        monkeypatch.setattr(self_test._SelfTest, name, lambda _self: {})

    def no_nms(_self) -> dict:
        raise AssertionError("operator torchvision::nms does not exist")

    monkeypatch.setattr(self_test._SelfTest, "torch_and_torchvision", no_nms)
    report_path = tmp_path / "report.json"

    assert self_test.run_self_test(["--report", str(report_path)]) == 1
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["ok"] is False
    assert [(c["name"], c["ok"]) for c in report["checks"]] == [(n, n != "torch") for n in SOURCE_CHECKS]
    assert "torchvision::nms" in report["checks"][1]["error"]


def test_windowed_mode_guard_gives_print_and_tqdm_a_stream():
    code = ("import sys; sys.stdout = sys.stderr = None; sys.path.insert(0, sys.argv[1]); import main; "
            "sys.stdout.write('x'); sys.stderr.write('y'); sys.stdout.flush()")
    process = subprocess.run([sys.executable, "-c", code, str(ROOT)], capture_output=True, text=True, timeout=60)
    assert process.returncode == 0, process.stderr
    assert process.stdout == "" and process.stderr == ""  # both went to os.devnull


class _Recorder:
    """Stands in for one of PyInstaller's spec classes and records what the spec passed."""

    calls: dict[str, tuple[tuple, dict]] = {}

    def __init__(self, kind: str):
        self.kind = kind

    def __call__(self, *args, **kwargs):
        self.calls[self.kind] = (args, kwargs)
        return self

    def __getattr__(self, name: str) -> list:  # Analysis.pure, .scripts, .binaries, .datas
        return []


def test_spec_builds_a_windowed_onedir_bundle_with_torchvisions_ops(monkeypatch):
    spec_classes = ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE")
    namespace = {"SPECPATH": str(ROOT), **{kind: _Recorder(kind) for kind in spec_classes}}
    _Recorder.calls = {}
    monkeypatch.setattr(sys, "path", list(sys.path))
    exec(compile((ROOT / "build.spec").read_text(encoding="utf-8"), "build.spec", "exec"), namespace)

    (scripts,), analysis = _Recorder.calls["Analysis"]
    assert scripts == [str(ROOT / "main.py")] and analysis["optimize"] == 0
    from torchvision._internally_replaced_utils import _get_extension_path  # how torchvision finds its ops

    binaries = dict(analysis["binaries"])
    for library in ("_C_stable", "image_stable"):
        assert binaries[_get_extension_path(library)] == "torchvision"
    for builtins in SITE_PACKAGES.glob("nvidia/*/lib/libnvrtc-builtins*.so*"):  # CUDA wheels only
        assert binaries[str(builtins)] == builtins.parent.relative_to(SITE_PACKAGES).as_posix()
    assert set(OTHER_BINDINGS) <= set(analysis["excludes"]) and "PySide6" not in analysis["excludes"]
    assert ("resources", "resources") in {(Path(src).name, dest) for src, dest in analysis["datas"]}
    # modules that are imported only inside functions must still be bundled
    for module in ("gui.self_test", "gui.main_window", "cli.train", "engine.methods.gml", "data.cifar"):
        assert module in analysis["hiddenimports"]
    assert not any(module.startswith("tests") for module in analysis["hiddenimports"])
    _, exe = _Recorder.calls["EXE"]
    assert exe["exclude_binaries"] is True and exe["console"] is False and exe["name"] == build_app.APP_NAME
    assert exe["upx"] is False and _Recorder.calls["COLLECT"][1]["upx"] is False


def test_folder_size_counts_files_once_and_skips_links(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.bin").write_bytes(b"x" * 10)
    (tmp_path / "sub" / "b.bin").write_bytes(b"y" * 5)
    (tmp_path / "link.bin").symlink_to(tmp_path / "a.bin")

    assert build_app.folder_size(tmp_path) == (15, 2)


@pytest.mark.skipif(not os.environ.get("LTS_BUNDLE"),
                    reason="set LTS_BUNDLE to a built bundle folder (.ci/bundle does)")
def test_self_test_inside_the_frozen_bundle(tmp_path, workspace):
    bundle = Path(os.environ["LTS_BUNDLE"]).resolve()
    executable = build_app.bundle_executable(bundle.parent)
    internal = bundle / "_internal"

    _, report = run_self_test([str(executable)], tmp_path / "report.json")

    assert report["frozen"] is True and Path(report["code_root"]) == internal
    details = assert_checks_passed(report, FROZEN_CHECKS)
    assert details["main_window"]["qt_platform"] == "offscreen"
    assert (internal / "resources" / "digits.npz").is_file()
    assert [p.name for p in (internal / "torchvision").glob("_C_stable*")], "torchvision's ops are not in the bundle"
    for builtins in SITE_PACKAGES.glob("nvidia/*/lib/libnvrtc-builtins*.so*"):  # beside libnvrtc, where it looks
        assert (internal / builtins.relative_to(SITE_PACKAGES)).is_file()
    assert [name for name in OTHER_BINDINGS if (internal / name).exists()] == []
    assert list(workspace.iterdir()) == []
