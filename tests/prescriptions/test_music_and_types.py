"""Exercise types (FITT-VP and zones per type) and music playlists from a centre's library."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pytest

from addiction_index.errors import ConfigError, InputError
from addiction_index.prescriptions import (
    MusicPrescription,
    PrescriptionInputs,
    load_exercise_types,
    load_music_library,
    load_rule_set,
    playlist,
    prescribe,
)
from addiction_index.prescriptions._music import CADENCE_TOLERANCE
from addiction_index.resources import content_file

TYPES_FILE = content_file("prescriptions", "exercise-types.yaml")
TYPES = load_exercise_types(TYPES_FILE).types
LIBRARY_FILE = content_file("prescriptions", "music-library.example.csv")


# ---------------------------------------------------------------- exercise types
def test_shipped_types_cover_aerobic_resistance_mind_body_and_group():
    assert {
        "aerobic cycling", "brisk walking", "jogging", "resistance circuit", "Tai Chi",
        "Baduanjin", "drumming", "lion dance",
    } <= set(TYPES)  # fmt: skip
    assert {t.category for t in TYPES.values()} == {"aerobic", "resistance", "mind-body", "group"}


def test_every_number_of_a_type_is_cited_or_marked_convention():
    for name, kind in TYPES.items():
        for field in ("type", "intensity_hrr", "rpe", "minutes"):
            assert kind.cite[field], (name, field)
        for field in ("mets", "cadence"):
            if getattr(kind, field) is not None:
                assert kind.cite[field], (name, field)
    assert TYPES["Baduanjin"].cite["intensity_hrr"] == "convention"  # no MUD trial (EVIDENCE 4.8)
    assert "4.8" in TYPES["Tai Chi"].cite["minutes"]


def _rule_set_with_type(tmp_path: Path, kind: str) -> Path:
    text = (content_file("prescriptions", "default.yaml")).read_text(encoding="utf-8")
    text = text.replace("    type: aerobic cycling\n", f"    type: {kind}\n", 1)
    text = text.replace("golden: default.golden.yaml\n", "")
    path = tmp_path / "one_type.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("kind", sorted(TYPES))
def test_fitt_vp_fields_and_zone_for_each_type(tmp_path, kind):
    # A rule (index_moderate) sets type "aerobic cycling" with its own dose; with no index the
    # defaults hold, and no_baseline sets brisk walking. Use a rule set whose index_moderate
    # rule names `kind` without a dose, so that the type's typical dose is used.
    text = content_file("prescriptions", "default.yaml").read_text(encoding="utf-8")
    start = text.index("  - id: index_moderate")
    end = text.index("  - id: index_high\n")
    rule = textwrap.dedent(f"""\
          - id: index_moderate
            description: the type under test, with its typical dose
            priority: 21
            when: index_available and 30 <= index < 60
            cite: ["4.4"]
            set:
              exercise:
                type: {kind}

        """)
    text = text[:start] + textwrap.indent(textwrap.dedent(rule), "  ") + text[end:]
    path = tmp_path / "types.yaml"
    path.write_text(text.replace("golden: default.golden.yaml\n", ""), encoding="utf-8")
    p = prescribe(load_rule_set(path), PrescriptionInputs(age=30, resting_hr=70, index=45))
    ex, typical = p.exercise, TYPES[kind]
    assert ex.type == kind and ex.category == typical.category
    assert ex.intensity_hrr == tuple(typical.intensity_hrr)
    assert ex.rpe == tuple(typical.rpe) and ex.minutes == tuple(typical.minutes)
    # Karvonen with HRmax 187 and rest 70: 70 + f × 117, halves up
    low, high = typical.intensity_hrr
    assert ex.zone_bpm == (int(70 + low * 117 + 0.5), int(70 + high * 117 + 0.5))
    assert ex.sessions_per_week == 3 and ex.weeks == 12
    assert ex.volume_min_per_week == (3 * ex.minutes[0], 3 * ex.minutes[1])
    if typical.mets is None:
        assert ex.met_min_per_week is None
    else:
        assert ex.met_min_per_week == (
            round(typical.mets * ex.volume_min_per_week[0]),
            round(typical.mets * ex.volume_min_per_week[1]),
        )
    assert (ex.cadence is not None) is typical.rhythmic
    fitt = ex.fitt_vp()
    assert set(fitt) == {"frequency", "intensity", "time", "type", "volume", "progression"}
    assert f"{ex.zone_bpm[0]}-{ex.zone_bpm[1]} bpm" in fitt["intensity"]
    if typical.rhythmic:  # synchronous music during the session is matched to the cadence
        assert p.music.cadence == ex.cadence


def test_unknown_type_in_a_rule_is_refused_with_line_and_suggestion(tmp_path):
    path = _rule_set_with_type(tmp_path, "Tai chi")
    with pytest.raises(ConfigError, match="did you mean 'Tai Chi'") as info:
        load_rule_set(path)
    assert info.value.key == "defaults.exercise.type"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert "type: Tai chi" in lines[info.value.line - 1]


def test_exercise_type_file_errors_name_line_and_key(tmp_path):
    text = TYPES_FILE.read_text(encoding="utf-8")
    bad = tmp_path / "exercise-types.yaml"
    bad.write_text(text.replace("      mets: convention\n", "", 1), encoding="utf-8")
    with pytest.raises(ConfigError, match="cite needs an entry") as info:
        load_exercise_types(bad)
    assert info.value.key == "types.aerobic cycling"
    bad.write_text(text.replace('minutes: ["4.4"]', 'minutes: ["four"]', 1), encoding="utf-8")
    with pytest.raises(ConfigError, match="convention") as info:
        load_exercise_types(bad)
    assert info.value.key.startswith("types.aerobic cycling.cite.minutes")


# ---------------------------------------------------------------- music
def music(**changes) -> MusicPrescription:
    base = MusicPrescription(
        purpose="calm", timing="before_after", tempo_bpm=(60, 80), minutes=(10, 15),
        valence="positive", arousal="low", notes=(),
    )  # fmt: skip
    return dataclasses.replace(base, **changes)


def test_example_library_loads():
    library = load_music_library(LIBRARY_FILE)
    assert 25 <= len(library.tracks) <= 40
    assert library.tracks[0].row == 2


def test_calm_playlist_tempo_tags_minutes_and_no_repeats():
    library = load_music_library(LIBRARY_FILE)
    songs = playlist(music(), library)
    assert songs.complete and 10 * 60 <= songs.seconds <= 15 * 60
    assert all(60 <= t.tempo_bpm <= 80 for t in songs.tracks)
    assert all({"calm", "relaxing", "soothing", "slow"} & set(t.tags) for t in songs.tracks)
    assert all(t.arousal <= 0.4 for t in songs.tracks)
    assert len({t.row for t in songs.tracks}) == len(songs.tracks)
    assert playlist(music(), library) == songs  # deterministic


def test_playlist_fills_the_minutes_asked():
    library = load_music_library(LIBRARY_FILE)
    songs = playlist(
        music(purpose="synchronise", arousal="high", tempo_bpm=(120, 140)), library, 20
    )
    assert songs.complete and songs.seconds >= 20 * 60 and songs.minutes_asked == (20, 20)
    assert all(120 <= t.tempo_bpm <= 140 for t in songs.tracks)


@pytest.mark.parametrize(
    ("cadence", "targets"),
    [
        (65, (65, 32.5, 130)),  # cycling 65 rev/min: music at double, one beat per push
        (160, (160, 80, 320)),  # jogging 160 steps/min
        (110, (110, 55, 220)),  # walking or drumming
    ],
)
def test_cadence_matching_within_3_percent_of_cadence_half_or_double(cadence, targets):
    library = load_music_library(LIBRARY_FILE)
    prescription = music(purpose="synchronise", timing="during", arousal="high",
                         tempo_bpm=(120, 140), minutes=(5, 10))  # fmt: skip
    songs = playlist(prescription, library, cadence=cadence)
    assert songs.tracks
    for track in songs.tracks:
        assert any(abs(track.tempo_bpm - t) <= CADENCE_TOLERANCE * t + 1e-9 for t in targets), track
    # off-cadence tracks in the tempo range are not chosen
    assert all(abs(t.tempo_bpm - 124) > 1 or cadence != 65 for t in songs.tracks)


def test_prescription_cadence_is_used_during_exercise():
    p = prescribe(load_rule_set(), PrescriptionInputs(age=30, resting_hr=70, index=45))
    assert p.music.purpose == "synchronise" and p.music.cadence == (60, 80)
    songs = playlist(p.music, load_music_library(LIBRARY_FILE), minutes=(5, 10))
    assert songs.tracks and "cadence" in songs.tempo_rule
    assert all(120 * 0.97 <= t.tempo_bpm <= 160 * 1.03 for t in songs.tracks)


def test_too_small_library_says_so():
    library = load_music_library(LIBRARY_FILE)
    songs = playlist(music(), library, minutes=(120, 120))
    assert not songs.complete and "add tracks" in songs.notes[0]


def test_bad_minutes_or_cadence():
    library = load_music_library(LIBRARY_FILE)
    with pytest.raises(InputError, match="minutes"):
        playlist(music(), library, minutes=(20, 10))
    with pytest.raises(InputError, match="cadence"):
        playlist(music(), library, cadence=-5)


def test_bad_library_rows_are_all_reported_with_row_and_column(tmp_path):
    path = tmp_path / "library.csv"
    path.write_text(
        "title,artist,tempo_bpm,tags,valence,arousal,duration_s\n"
        "Good,,70,calm,0.5,0.2,200\n"
        "Fast,,fast,calm,0.5,0.2,200\n"
        ",,70,calm,0.5,0.2,200\n"
        "Loud,,70,calm,0.5,1.7,200\n"
        "Untagged,,70,,0.5,0.2,200\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_music_library(path)
    err = info.value
    assert (err.line, err.key) == (3, "tempo_bpm")
    text = str(err)
    for fragment in ("row 3 column 'tempo_bpm'", "row 4 column 'title'",
                     "row 5 column 'arousal'", "row 6 column 'tags'"):  # fmt: skip
        assert fragment in text
    assert "row 2" not in text


def test_library_missing_column(tmp_path):
    path = tmp_path / "library.csv"
    path.write_text("title,tempo_bpm\nA,70\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="missing column") as info:
        load_music_library(path)
    assert info.value.line == 1
