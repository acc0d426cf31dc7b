"""Device profiles are data, validated on load with errors that name the file and key."""

from pathlib import Path

import pytest

from addiction_index.devices import list_profiles, load_profile
from addiction_index.errors import ConfigError, ResourceNotFoundError


def test_shipped_profiles_load() -> None:
    assert {"muse-2", "hrm"} <= set(list_profiles())
    muse = load_profile("muse-2")
    eeg = muse.stream("eeg")
    assert eeg.channels == ["TP9", "AF7", "AF8", "TP10"]
    assert eeg.rate_hz == 256.0 and eeg.samples_per_packet == 12  # EVIDENCE 7.1
    assert eeg.packet_interval_s == pytest.approx(12 / 256)


def test_a_typo_names_the_file_line_and_key(tmp_path: Path) -> None:
    source = (Path(__file__).resolve().parents[2] / "devices" / "muse-2.toml").read_text()
    broken = source.replace("rate_hz = 256.0", "rate_hz = -1")
    (tmp_path / "muse-x.toml").write_text(broken)
    with pytest.raises(ConfigError) as err:
        load_profile("muse-x", tmp_path)
    assert err.value.file.endswith("muse-x.toml")
    assert err.value.key == "streams.0.rate_hz"
    assert err.value.line is not None
    assert "rate_hz = -1" in broken.splitlines()[err.value.line - 1]


def test_unknown_profile_lists_what_exists() -> None:
    with pytest.raises(ResourceNotFoundError, match="muse-2"):
        load_profile("muse-9")
