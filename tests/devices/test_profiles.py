"""Device profiles are data, validated on load with errors that name the file and key."""

import json
from pathlib import Path

import numpy as np
import pytest

from addiction_index.devices import list_profiles, load_profile
from addiction_index.devices.decoders import (
    DECODERS,
    muse_command,
    pmd_start_ecg_command,
    pmd_stop_command,
)
from addiction_index.errors import ConfigError, InputError, ResourceNotFoundError


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


# --- Bluetooth details: services, streams → decoders, commands, battery -------------------------

SHIPPED = ("hrm", "muse-2", "muse-s", "polar-h10")
DEVICES = Path(__file__).resolve().parents[2] / "devices"
VECTORS = (
    Path(__file__).resolve().parents[1] / "data" / "ble_packet_vectors" / "ble_packet_vectors.json"
)


def _vector(vector_id: str) -> bytes:
    groups = json.loads(VECTORS.read_text(encoding="utf-8"))
    entry = next(
        e for v in groups.values() if isinstance(v, list) for e in v if e["id"] == vector_id
    )
    return bytes.fromhex(entry["hex"])


def test_all_four_profiles_load_and_their_decoders_exist() -> None:
    assert set(SHIPPED) <= set(list_profiles())
    for name in SHIPPED:
        profile = load_profile(name)
        assert profile.id == name
        for stream in profile.streams:
            assert stream.decoder in DECODERS and stream.characteristic, (name, stream.name)
            for uuid in stream.characteristic:
                assert "notify" in profile.characteristic(uuid.upper()).properties
        if profile.battery is not None:
            assert profile.battery.decoder in DECODERS
            assert profile.characteristic(profile.battery.characteristic)


def test_the_simulator_contract_is_kept() -> None:
    for name in ("muse-2", "muse-s"):
        eeg = load_profile(name).stream("eeg")
        assert (eeg.kind, eeg.channels, eeg.rate_hz) == (
            "eeg",
            ["TP9", "AF7", "AF8", "TP10"],
            256.0,
        )
        assert (eeg.samples_per_packet, eeg.full_scale_uv) == (12, 1000.0)
        assert load_profile(name).streams[0].name == "eeg"  # first: its rate_hz line comes first
    for name in ("hrm", "polar-h10"):
        profile = load_profile(name)
        for stream, kind in (("hr", "hr"), ("rr", "rr")):
            s = profile.stream(stream)
            assert (s.kind, s.rate_hz, s.notification_interval_s) == (kind, 0.0, 1.0)
            assert s.decoder == "heart_rate_measurement"
    assert load_profile("hrm").stream("hr").field == "hr_bpm"


def test_scales_in_the_profiles_are_what_the_decoders_apply() -> None:
    """Physical value = scale × (raw − raw_offset), for the decoder output of a real vector."""
    muse = load_profile("muse-2")
    cases = [
        (muse.stream("eeg"), "muse_eeg_notification_tp10"),
        (muse.stream("aux"), "muse_eeg_notification_tp10"),
        (muse.stream("ppg"), None),
        (muse.stream("acc"), "muse_accelerometer"),
        (muse.stream("gyro"), "muse_gyroscope"),
        (load_profile("polar-h10").stream("ecg"), "pmd_ecg_type0_sdk_vector"),
        (load_profile("hrm").stream("rr"), "hr_uint8_three_rr_high_rate"),
    ]
    for stream, vector_id in cases:
        payload = _vector(vector_id) if vector_id else bytes(20)
        out = DECODERS[stream.decoder](payload)
        raw = (
            out.rr_raw.reshape(-1, 1)
            if stream.kind == "rr"
            else out.raw.reshape(len(out.samples), -1)
        )
        expected = stream.scale * (raw.astype(float) - stream.raw_offset)
        np.testing.assert_allclose(getattr(out, stream.field), expected, rtol=0, atol=1e-12)
        assert out.samples.shape[1] in (1, len(stream.channels))


def test_stream_packets_match_the_declared_layout() -> None:
    muse = load_profile("muse-2")
    for stream in muse.streams:
        out = DECODERS[stream.decoder](bytes(20))
        assert len(out.samples) == stream.samples_per_packet, stream.name
        per_char = 1 if len(stream.characteristic) > 1 else len(stream.channels)
        assert out.samples.shape == (stream.samples_per_packet, per_char)
    ecg = load_profile("polar-h10").stream("ecg")
    frame = DECODERS[ecg.decoder](bytes(10 + 3 * ecg.samples_per_packet))
    assert frame.samples.shape == (73, 1)  # a 229-byte H10 notification


def test_commands_are_the_bytes_the_builders_make() -> None:
    for name in ("muse-2", "muse-s"):
        commands = load_profile(name).commands
        assert [c.payload for c in commands.start] == [
            muse_command(c) for c in ("h", "p50", "s", "d")
        ]
        assert [c.payload for c in commands.stop] == [muse_command("h")]
        assert {k: c.payload for k, c in commands.presets.items()} == {
            p: muse_command(p) for p in ("p20", "p21", "p50")
        }
        control = load_profile(name).characteristic(commands.start[0].characteristic)
        assert control.name == "control" and not any(c.with_response for c in commands.start)
    polar = load_profile("polar-h10").commands
    assert [c.payload for c in polar.start] == [pmd_start_ecg_command(130, 14)]
    assert [c.payload for c in polar.stop] == [pmd_stop_command()]
    assert all(c.with_response for c in [*polar.start, *polar.stop])
    hrm = load_profile("hrm").commands
    assert hrm.start == [] and hrm.stop == [] and hrm.presets == {}


def test_battery() -> None:
    assert load_profile("hrm").battery is None
    muse = load_profile("muse-2").battery
    telemetry = DECODERS[muse.decoder](_vector("muse_telemetry"))
    assert getattr(telemetry, muse.field) == pytest.approx(90.859375)
    polar = load_profile("polar-h10").battery
    assert (polar.access, getattr(DECODERS[polar.decoder](b"\x5a"), polar.field)) == ("read", 90)


def test_matches_advertised_names() -> None:
    profiles = {name: load_profile(name) for name in SHIPPED}
    seen = {
        "Muse-1324": {"muse-2"},
        "MuseS-7538": {"muse-s"},
        "Polar H10 A1B2C3D4": {"polar-h10"},
        "Polar OH1 A1B2C3D4": set(),
        "muse-1324": set(),
        "": set(),
    }
    for advertised, expected in seen.items():
        assert {n for n, p in profiles.items() if p.matches(advertised)} == expected, advertised


def test_device_only_kinds_have_no_pipeline_stream() -> None:
    muse = load_profile("muse-2")
    assert muse.stream("acc").stream_info("m").kind == "acc"
    with pytest.raises(InputError, match="gyro"):
        muse.stream("gyro").stream_info("m")


TELEMETRY = 'name = "telemetry"  # battery, fuel gauge, temperature\n'
TELEMETRY += 'uuid = "273e000b-4c4d-454d-96be-f03bac821358"\n'


def _broken(tmp_path: Path, old: str, new: str, source: str = "muse-2") -> tuple[ConfigError, list]:
    text = (DEVICES / f"{source}.toml").read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    broken = text.replace(old, new)
    (tmp_path / "broken.toml").write_text(broken, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_profile("broken", tmp_path)
    assert err.value.file.endswith("broken.toml")
    return err.value, broken.splitlines()


@pytest.mark.parametrize(
    ("old", "new", "key", "on_line", "says"),
    [
        # a typo'd key in the 5th stream: the line is that stream's, not the first stream's
        ('samples_per_packet = 3\ncharacteristic = "273e0009',
         'samples_per_pakcet = 3\ncharacteristic = "273e0009',
         "streams.4.samples_per_pakcet", "samples_per_pakcet = 3",
         "did you mean 'samples_per_packet'"),
        ('uuid = "273e000a-4c4d-454d-96be-f03bac821358"',
         'uuid = "273e000a-4c4d-454d-96be-f03bac82135"',
         "services.0.characteristics.7.uuid", "f03bac82135\"", "128-bit UUID"),
        ('decoder = "muse_gyroscope"', 'decoder = "muse_gyro"',
         "streams.4.decoder", 'decoder = "muse_gyro"', "did you mean 'muse_gyroscope'"),
        ('hex = "02 73 0a"', 'hex = "02 7g 0a"', "commands.start.2.hex", '"02 7g 0a"', "hex bytes"),
        ('characteristic = "273e000a-4c4d-454d-96be-f03bac821358"\ndecoder',
         'characteristic = "273e000c-4c4d-454d-96be-f03bac821358"\ndecoder',
         "streams.3.characteristic", "273e000c", "not declared under services"),
        ('field = "battery_percent"', 'field = "battery"', "battery.field", 'field = "battery"',
         "no field 'battery'"),
        ('requires_preset = "p20"', 'requires_preset = "p22"', "streams.1.requires_preset", "p22",
         "not in commands.presets"),
        (TELEMETRY + 'properties = ["notify"]', TELEMETRY + 'properties = ["read"]',
         "battery.characteristic", "273e000b", "allows none of ['notify']"),
    ],
)  # fmt: skip
def test_broken_profiles_name_the_file_key_and_line(tmp_path, old, new, key, on_line, says) -> None:
    error, lines = _broken(tmp_path, old, new)
    assert error.key == key
    assert error.line is not None and on_line in lines[error.line - 1], lines[error.line - 1]
    assert says in str(error) and f"line {error.line}" in str(error)


def test_a_typo_in_the_heart_rate_profile(tmp_path: Path) -> None:
    error, lines = _broken(tmp_path, 'field = "samples"', 'feild = "samples"', source="hrm")
    assert error.key == "streams.1.feild" and "feild" in lines[error.line - 1]
