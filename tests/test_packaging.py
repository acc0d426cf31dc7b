"""The wheel carries the content folders: build it, install it in a fresh venv, run the demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_in_a_fresh_venv_and_runs_the_demo(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("addiction_index-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for needed in (
        "addiction_index/_content/devices/muse-2.toml",
        "addiction_index/_content/models/default-index.yaml",
        "addiction_index/_content/models/default-index.card.md",
        "addiction_index/_content/prescriptions/default.yaml",
        "addiction_index/sessions/protocols/cue-reactivity.yaml",
        "addiction_index/features/spec.yaml",
        "addiction_index/devices/simulation.yaml",
    ):
        assert needed in names, needed

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    # Dependencies come from this test environment's site-packages, appended as a plain path:
    # its .pth files (among them the editable install of this checkout) are not processed, so
    # only the wheel's copy of addiction_index can be imported.
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADDICTION_INDEX_")}
    where = subprocess.run(
        [
            python,
            "-c",
            "import addiction_index, addiction_index.resources as r; "
            "print(addiction_index.__file__); print(r.content_dir('models'))",
        ],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert where[0].startswith(str(env_dir)) and where[1].startswith(str(env_dir))
    assert where[1].endswith(os.path.join("_content", "models"))

    db = tmp_path / "wheel.sqlite"
    run = subprocess.run(
        [env_dir / "bin" / "addiction-index", "demo", "--json", "--db", str(db), "--seed", "9"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["index"]["status"] == "ok"
    assert result["prescription"]["rule_set"] == "default"
    assert db.is_file()
