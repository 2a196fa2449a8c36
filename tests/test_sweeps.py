"""The `spinjax sweep` job: resumable, chunk- and device-invariant, with clear errors."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spinjax import cli
from spinjax.sweeps import SweepConfig

# A small sweep: one barrier, one short pulse, explicit currents, 0.3 ns relaxation.
SMALL = ["--barriers", "20", "--pulses", "0.2", "--currents", "60,120,180,240",
         "--trials", "48", "--relax", "0.3", "--seed", "5", "--no-progress"]


def _run_cli(args, **kw):
    env = dict(os.environ)
    env.pop("XLA_FLAGS", None)  # the CLI chooses its own device count
    return subprocess.Popen([sys.executable, "-m", "spinjax", "sweep", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _table(path):
    with open(Path(path) / "switching.csv") as f:
        return [(r["current_uA"], r["n_trials"], r["n_switched"]) for r in csv.DictReader(f)]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("reference")
    proc = _run_cli(SMALL + ["-o", str(out), "--chunk-size", "64", "--devices", "1"])
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr
    assert "I50 (µA)" in stdout
    return out


def test_outputs_exist_and_are_consistent(reference):
    rows = list(csv.DictReader(open(reference / "switching.csv")))
    assert [r["current_uA"] for r in rows] == ["60.0", "120.0", "180.0", "240.0"]
    for r in rows:
        assert int(r["n_trials"]) == 48
        assert float(r["ci_low"]) <= float(r["p_switch"]) <= float(r["ci_high"])
        assert float(r["write_energy_fJ"]) > 0
    models = json.loads((reference / "models.json").read_text())["models"]
    assert len(models) == 1 and 60 < models[0]["i50_uA"] < 240
    assert (reference / "switching.png").stat().st_size > 10_000


def test_chunk_size_and_device_count_do_not_change_results(reference, tmp_path):
    proc = _run_cli(SMALL + ["-o", str(tmp_path), "--chunk-size", "100", "--devices", "4"])
    _, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr
    assert _table(tmp_path) == _table(reference)


def test_killed_run_resumes_and_matches(reference, tmp_path):
    proc = _run_cli(SMALL + ["-o", str(tmp_path), "--chunk-size", "32", "--devices", "1"])
    chunks = tmp_path / "chunks"
    deadline = time.time() + 300
    while time.time() < deadline and not (chunks.exists() and any(chunks.glob("*.json"))):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = {p.name: p.stat().st_mtime_ns for p in chunks.glob("*.json")}
    assert 1 <= len(finished) < 6  # killed mid-run, with at least one chunk on disk
    assert not (tmp_path / "switching.csv").exists()
    proc = _run_cli(SMALL + ["-o", str(tmp_path), "--chunk-size", "32", "--devices", "1"])
    _, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr
    assert _table(tmp_path) == _table(reference)
    for name, mtime in finished.items():  # finished chunks were not recomputed
        assert (chunks / name).stat().st_mtime_ns == mtime


def test_disagreeing_config_in_existing_directory_is_refused(reference, capsys):
    before = (reference / "switching.csv").read_text()
    args = [a if a != "48" else "64" for a in SMALL]  # same sweep, more trials
    code = cli.main(["sweep", *args, "-o", str(reference)])
    assert code == 2
    err = capsys.readouterr().err
    assert "different configuration" in err and "n_trials: existing 48, requested 64" in err
    assert (reference / "switching.csv").read_text() == before


@pytest.mark.parametrize("args,message", [
    (["--pulses", "-0.5"], "pulses_ns = (-0.5,) must be a non-empty list of positive"),
    (["--currents", ""], "currents_uA = () must be a non-empty list"),
    (["--trials", "0"], "n_trials = 0 must be >= 1"),
    (["--dtype", "float16"], "dtype = 'float16'"),
    (["--temperature", "-3"], "temperature_K = -3.0 is outside the allowed range"),
])
def test_bad_sweep_options(args, message, tmp_path, capsys):
    assert cli.main(["sweep", *args, "-o", str(tmp_path), "--no-progress"]) == 2
    assert message in capsys.readouterr().err


def test_unknown_option_and_unwritable_output(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["sweep", "--trails", "5"])
    assert exc.value.code == 2
    assert "unrecognized arguments: --trails" in capsys.readouterr().err
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert cli.main(["sweep", "-o", str(blocker / "out"), "--no-progress"]) == 2
    assert "is not writable" in capsys.readouterr().err


def test_config_file_and_unknown_keys(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text('pulses_ns = [0.5]\nn_trials = 10\n')
    assert cli._load_toml(good) == {"pulses_ns": [0.5], "n_trials": 10}
    bad = tmp_path / "bad.toml"
    bad.write_text("n_trails = 10\n")
    with pytest.raises(SystemExit, match="unknown key.*n_trails"):
        cli._load_toml(bad)


def test_config_defaults_are_the_documented_job():
    config = SweepConfig()
    assert config.barriers_kT == (10.0, 20.0, 30.0)
    assert config.pulses_ns == (0.2, 0.5, 1.0)
    assert config.temperature_K == 300.0
    assert [round(t * 1e9, 2) for t in config.thicknesses()] == [0.8, 1.2, 1.5]
