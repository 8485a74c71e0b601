"""include_hazards: fitted hazard files merged into a config, safely."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from sim.base.errors import ConfigError
from sim.cli.main import main
from sim.config import load_config, validate_config
from sim.config.loader import config_hash

ROOT = Path(__file__).resolve().parents[3]
HAZARD = {
    "assets": ["pipe"],
    "cause": "technical",
    "arrivals": {"process": "poisson", "rate_per_year": 2.0},
    "duration": {"dist": "fixed", "value_days": 3},
}


def _write(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data))
    return path


def test_included_hazards_are_merged(tmp_path, make_cfg_dict):
    own = {"own": dict(HAZARD, cause="weather")}
    _write(tmp_path / "fitted" / "h.yaml", {"hazards": {"fitted_one": HAZARD}})
    cfg_path = _write(
        tmp_path / "c.yaml", make_cfg_dict(hazards=own, include_hazards="fitted/h.yaml")
    )
    cfg = load_config(cfg_path)
    assert set(cfg.hazards) == {"own", "fitted_one"}
    inline = validate_config(make_cfg_dict(hazards={**own, "fitted_one": HAZARD}))
    assert config_hash(cfg) == config_hash(inline)
    # the same through an override, as in `--set include_hazards=...`
    plain = _write(tmp_path / "p.yaml", make_cfg_dict())
    cfg = load_config(plain, ["include_hazards=[fitted/h.yaml]"])
    assert set(cfg.hazards) == {"fitted_one"}


def test_shipped_fitted_hazards_swap_in_for_the_hand_set_ones():
    cfg = load_config(
        ROOT / "configs" / "kazakhstan.yaml",
        ["hazards={}", "include_hazards=hazards.fitted.yaml"],
    )
    assert "cpc_terminal_weather" in cfg.hazards and "cpc_storm" not in cfg.hazards
    assert cfg.hazards["cpc_spm_military"].regime_multipliers == {"conflict": 1.0, "calm": 0.0}


@pytest.mark.parametrize(
    "entry, message",
    [
        ("/etc/hosts", "relative to the config's directory"),
        ("../outside.yaml", "relative to the config's directory"),
        ("link/outside.yaml", "relative to the config's directory"),
        ("missing.yaml", "included file not found"),
        (7, "expected a relative file path"),
        ("loop.yaml", "cannot resolve 'loop.yaml' (Symlink loop"),  # was a RuntimeError
        ("nul\x00.yaml", "cannot resolve"),
    ],
)
def test_unsafe_or_missing_paths(tmp_path, make_cfg_dict, entry, message):
    _write(tmp_path / "outside.yaml", {"hazards": {"x": HAZARD}})
    (tmp_path / "cfg").mkdir()
    os.symlink(tmp_path, tmp_path / "cfg" / "link")
    os.symlink(tmp_path / "cfg" / "loop.yaml", tmp_path / "cfg" / "loop.yaml")
    cfg_path = _write(tmp_path / "cfg" / "c.yaml", make_cfg_dict(include_hazards=entry))
    with pytest.raises(ConfigError) as info:
        load_config(cfg_path)
    assert info.value.file == str(cfg_path)
    assert info.value.problems[0].path == "include_hazards"
    assert message in str(info.value)


def test_bad_included_content_names_the_included_file(tmp_path, make_cfg_dict):
    cfg = make_cfg_dict(hazards={"own": HAZARD}, include_hazards=["a.yaml", "b.yaml"])
    cfg_path = _write(tmp_path / "c.yaml", cfg)
    cases = [
        ({"hazards": {"own": HAZARD}}, "hazards.own", "already defined in"),
        ({"hazards": {"x": HAZARD}, "run": {}}, "run", "only a `hazards` mapping"),
        ({"hazards": {"x": HAZARD}, "include_hazards": "c.yaml"}, "include_hazards", "nested"),
        ({"hazards": {"x": dict(HAZARD, assets=["nowhere"])}}, "hazards.x.assets[0]", "unknown"),
        (
            {"hazards": {"x": dict(HAZARD, arrivals={"process": "poisson"})}},
            "hazards.x.arrivals.rate_per_year",
            "missing",
        ),
    ]
    for content, path, message in cases:
        _write(tmp_path / "a.yaml", content)
        _write(tmp_path / "b.yaml", {"hazards": {"y": HAZARD}})
        with pytest.raises(ConfigError) as info:
            load_config(cfg_path)
        err = info.value
        assert err.file.startswith(str(tmp_path / "a.yaml")), err.render()
        assert err.problems[0].path == path and message in err.render(), err.render()
    _write(tmp_path / "a.yaml", {"hazards": {"x": HAZARD}})
    _write(tmp_path / "b.yaml", {"hazards": {"x": HAZARD}})
    with pytest.raises(ConfigError, match="already defined in .*a.yaml"):
        load_config(cfg_path)


def test_cli_reports_include_errors_in_one_line(tmp_path, make_cfg_dict, capsys):
    cfg_path = _write(tmp_path / "c.yaml", make_cfg_dict(include_hazards="../x.yaml"))
    assert main(["validate", str(cfg_path)]) == 2
    err = capsys.readouterr().err
    assert "include_hazards" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_experiment_base_may_include(tmp_path, make_cfg_dict):
    from sim.studies.experiments import load_experiment

    _write(tmp_path / "h.yaml", {"hazards": {"fitted_one": HAZARD}})
    _write(tmp_path / "base.yaml", make_cfg_dict(include_hazards="h.yaml"))
    exp = {
        "base": "base.yaml",
        "scenarios": {"more": {"set": ["hazards.fitted_one.arrivals.rate_per_year=4"]}},
    }
    _, base, scenarios = load_experiment(_write(tmp_path / "e.yaml", exp))
    assert set(base.hazards) == {"fitted_one"}
    assert scenarios["more"].hazards["fitted_one"].arrivals.rate_per_year == 4
