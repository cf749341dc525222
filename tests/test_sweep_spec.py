"""The sweep file: parsed into cells, and refused with file:line: field before anything runs."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from engine.sweep.spec import SweepSpecError, load_spec

ROOT = Path(__file__).resolve().parent.parent

GOOD = """\
name = "t"
preset = "demo"
methods = ["ce", "ldam-drw", {loss = "focal", params = {gamma = 1.5}, label = "focal-g1.5"}]
imbalance = [10, 0.05]
seeds = [0, 1]

[overrides]
"optim.epochs" = 3
optim.lr = 0.02

[plugin]
epochs = 2
ensemble = false
"""


def write(tmp_path: Path, text: str, name: str = "spec.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_the_grid_becomes_cells_with_full_run_configs(tmp_path):
    spec = load_spec(write(tmp_path, GOOD))
    assert len(spec.cells) == 3 * 2 * 2
    ids = [c.id for c in spec.cells]
    assert ids[:4] == ["demo-ir10-ce-s0", "demo-ir10-ce-s1", "demo-ir10-ldam-drw-s0", "demo-ir10-ldam-drw-s1"]
    assert "demo-ir20-focal-g1.5-s1" in ids  # 0.05 is the factor convention of ratio 20
    ldam = spec.cells[2]
    assert (ldam.run["method"]["loss"], ldam.run["method"]["train_rule"]) == ("ldam", "drw")
    assert ldam.run["optim"]["epochs"] == 3 and ldam.run["optim"]["lr"] == 0.02 and ldam.run["seed"] == 0
    focal = next(c for c in spec.cells if c.method == "focal-g1.5")
    assert focal.run["method"]["params"] == {"gamma": 1.5}
    [plugin] = focal.plugins  # the GML plug-in when the file names no repairs
    assert focal.repairs == ["gml"] and plugin["method"]["loss"] == "gml"
    assert plugin["optim"]["epochs"] == 2 and plugin["plugin"]["ensemble"] is False
    assert plugin["seed"] == focal.seed and plugin["model"]["freeze"] == "features"
    assert plugin["data"] == focal.run["data"]
    assert spec.plugin and not spec.ensemble and spec.repairs == ["gml"]


def test_the_bundled_sweep_files_parse():
    demo = load_spec(ROOT / "sweeps" / "demo.toml")
    assert [c.id for c in demo.cells] == ["demo-ir10-ce-s0", "demo-ir10-ce-s1", "demo-ir10-bsce-s0", "demo-ir10-bsce-s1"]
    repairs = load_spec(ROOT / "sweeps" / "demo-repairs.toml")
    assert [c.id for c in repairs.cells] == ["demo-ir10-ce-s0", "demo-ir10-ce-s1", "demo-ir10-ce-s2"]
    assert repairs.repairs == ["gml", "crt", "lws", "tau_norm", "wb"] and repairs.ensemble
    paper = load_spec(ROOT / "sweeps" / "cifar100-lt.toml")
    assert len(paper.cells) == 8 * 3 * 3 and paper.resources == {"cpus": 4.0, "gpus": 0.5}
    assert {c.run["optim"]["epochs"] for c in paper.cells} == {200}


@pytest.mark.parametrize("bad, needle, field, why", [
    ('methods = ["ce", "nonsense"]', '"nonsense"', "methods", "unknown method 'nonsense'"),
    ('seeds = []', "seeds = []", "seeds", "the grid is empty"),
    ('"optim.epochs" = 0', '"optim.epochs" = 0', "overrides.optim.epochs", "a run needs at least 1 epoch"),
    ('"optim.epochs" = -1', '"optim.epochs" = -1', "overrides.optim.epochs", "outside the sensible range"),
    ('"optim.warp" = 2', '"optim.warp" = 2', "overrides.optim.warp", "no such run setting"),
    ('"optim.lr" = "fast"', '"optim.lr" = "fast"', "overrides.optim.lr", "does not fit"),
    ('"seed" = 3', '"seed" = 3', "overrides.seed", "set by the sweep"),
    ('"model.arch" = "resnet7"', '"model.arch"', "overrides.model.arch", "'resnet7' is not one of"),
    ('datasets = ["imagenet"]', '"imagenet"', "datasets", "'imagenet' is not one of"),
])
def test_a_bad_field_is_refused_with_file_line_and_field(tmp_path, bad, needle, field, why):
    lines = ['preset = "demo"', 'methods = ["ce"]', "seeds = [0]", "[overrides]"]
    if not bad.startswith('"'):  # a top-level key goes before the table
        key = bad.split(" = ")[0]
        lines = [line for line in lines if not line.startswith(key + " ")]
        lines.insert(1, bad)
    else:
        lines.append(bad)
    text = "\n".join(lines) + "\n"
    path = write(tmp_path, text)
    with pytest.raises(SweepSpecError) as raised:
        load_spec(path)
    message = str(raised.value)
    assert message.startswith(f"{path}:{line_of(text, needle)}: {field}: "), message
    assert why in message


def test_plugin_and_method_fields_are_checked_too(tmp_path):
    text = 'preset = "demo"\nmethods = [{loss = "focal", params = {gama = 2}}]\n[plugin]\nepochs = 2\nlr = -1\n'
    with pytest.raises(SweepSpecError, match=r"spec.toml:2: methods.params.gama: Focal.* has no hyperparameter 'gama'"):
        load_spec(write(tmp_path, text))
    text = 'preset = "demo"\nmethods = ["ce"]\n[plugin]\nepochs = 2\nlr = -1\n'
    with pytest.raises(SweepSpecError, match=r"spec.toml:5: plugin.lr: -1 is outside"):
        load_spec(write(tmp_path, text))


def test_a_cell_of_several_processes_runs_its_plugins_on_them_too(tmp_path):
    text = 'preset = "demo"\nmethods = ["ce"]\n[overrides]\nnproc = 2\n[plugin]\nrepairs = ["gml", "crt"]\n'
    [cell] = load_spec(write(tmp_path, text)).cells
    assert [plugin["nproc"] for plugin in cell.plugins] == [2, 2]
    with pytest.raises(SweepSpecError, match=r"spec.toml:7: plugin.nproc: set by the sweep from the base run"):
        load_spec(write(tmp_path, text + "nproc = 1\n"))


def test_the_plugin_table_lists_repairs_each_from_its_own_preset(tmp_path):
    text = ('preset = "demo"\nmethods = ["ce"]\n[plugin]\nrepairs = ["tau_norm", "gml", "wb"]\nfeature_passes = 1\n'
            '[plugin.wb]\nmax_norm_every = "epoch"\n')
    [cell] = load_spec(write(tmp_path, text)).cells
    assert cell.repairs == ["tau_norm", "gml", "wb"]
    tau, gml, wb = cell.plugins
    assert (tau["optim"]["epochs"], gml["optim"]["epochs"], wb["optim"]["lr"]) == (0, 10, 0.01)
    assert wb["plugin"]["max_norm_every"] == "epoch" and gml["plugin"]["max_norm_every"] == "step"
    assert all(p["plugin"]["feature_passes"] == 1 for p in cell.plugins)
    for bad, needle, why in (('repairs = ["gml", "ce-drw"]', "repairs", "'ce-drw' cannot repair a classifier"),
                             ('repairs = ["mislas"]', "repairs", "'mislas' cannot repair a classifier"),
                             ('repairs = ["gml", "gml"]', "repairs", "a repair is listed twice"),
                             ('repairs = ["gml"]\nloss = "crt"', "loss", "the repairs list or one loss"),
                             ('repairs = ["lws"]\n[plugin.lws]\ninit = "fresh"', "init", "keeps the old classifier")):
        text = f'preset = "demo"\nmethods = ["ce"]\n[plugin]\n{bad}\n'
        with pytest.raises(SweepSpecError, match=f"plugin.{needle}: .*{why}"):
            load_spec(write(tmp_path, text))


def test_json_files_and_syntax_errors(tmp_path):
    raw = {"preset": "demo", "methods": ["ce"], "seeds": [0, 1], "overrides": {"optim": {"epochs": 2}}}
    spec = load_spec(write(tmp_path, json.dumps(raw, indent=2), "s.json"))
    assert [c.run["optim"]["epochs"] for c in spec.cells] == [2, 2]
    text = json.dumps({**raw, "methods": ["ce", "gmll"]}, indent=2)
    with pytest.raises(SweepSpecError, match=rf"s.json:{line_of(text, 'gmll')}: methods: unknown method 'gmll'"):
        load_spec(write(tmp_path, text, "s.json"))
    with pytest.raises(SweepSpecError, match=r"spec.toml: not valid TOML: .*line 2"):
        load_spec(write(tmp_path, 'preset = "demo"\nmethods = [ce]\n'))


def test_cli_refuses_a_bad_file_with_one_line_and_dry_run_prints_cells(tmp_path, capsys):
    from cli import main as cli_main

    bad = write(tmp_path, 'preset = "demo"\nmethods = ["ce", "nope"]\n')
    assert cli_main(["sweep", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {bad}:2: methods: unknown method 'nope'; choose one of ") and err.count("\n") == 1
    assert cli_main(["sweep", str(ROOT / "sweeps" / "demo.toml"), "--dry-run", "--out", str(tmp_path / "s")]) == 0
    out = capsys.readouterr().out
    assert "demo-ir10-bsce-s1" in out and "forward-image equivalents" in out and "images/s" in out
    assert not (tmp_path / "s").exists()  # a dry run writes nothing


def test_the_packaged_app_does_not_carry_ray():
    sys.path.insert(0, str(ROOT / "tools"))
    import build_app

    assert {"ray", "pandas", "pyarrow"} <= set(build_app.EXCLUDES)  # Ray Train's extra (ray[train]) too
    assert "ray" not in (ROOT / "requirements.txt").read_text()
    assert "ray[train]==" in (ROOT / "requirements-ray.txt").read_text()
    assert "-r requirements-ray.txt" in (ROOT / "requirements-dev.txt").read_text().splitlines()


def test_the_cost_estimate_counts_the_image_passes():
    from engine.sweep.cost import cell_cost

    cell = load_spec(ROOT / "sweeps" / "cifar100-lt.toml").cells[0]  # CIFAR-100-LT, ratio 100, ResNet-32
    n_train = sum(int(500 * 0.01 ** (i / 99)) for i in range(100))
    assert n_train == 10847
    train = 200 * (3 * n_train + 10_000)  # a training image ≈ 3 forwards, plus the test split every epoch
    plugin = 4 * n_train + 10_000 + 10 * 10_000 * 0.01  # 4 augmented feature passes, the test features
    assert cell_cost(cell).forwards == pytest.approx(train + plugin)
