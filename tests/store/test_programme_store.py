"""Intake facts, stored prescriptions and clinicians' overrides, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from addiction_index.errors import InputError
from addiction_index.signals.streams import Marker
from addiction_index.store import open_store
from addiction_index.store._programme_store import ProgrammeRecords

ORIGIN = 1000.0
PRESCRIPTION = {
    "rule_set": "default",
    "version": "0.1.0",
    "exercise": {"type": "aerobic cycling", "minutes": [30, 40], "zone_bpm": [120, 140]},
    "music": {"purpose": "calm"},
}


def _assessment(store, code: str, index: float, craving: float) -> int:
    session_id = store.start_session(
        code, protocol_name="demo", protocol_version="1.0", clock_origin=ORIGIN,
        model_name="default-index", model_version="0.1", feature_spec_hash="f" * 16,
    )  # fmt: skip
    store.add_markers(
        session_id, [Marker(ORIGIN + 360, "rating", "drug", craving, {"moment": "post_cue"})]
    )
    store.finish_session(
        session_id,
        index={"status": "ok", "value": index, "confidence": 0.8, "resting_hr_bpm": 74.0},
    )
    return session_id


def test_intake_facts_merge_newest_last_and_are_checked(store_url: str) -> None:
    with open_store(store_url) as store:
        records = ProgrammeRecords(store)
        records.record_intake("R-001", {"age": 31, "sex": "male", "mood": "low"})
        merged = records.record_intake(
            "R-001", {"mood": "normal", "contraindications": ["cardiac"]}
        )
        assert merged == {"age": 31, "sex": "male", "mood": "normal",
                          "contraindications": ["cardiac"]}  # fmt: skip
        with pytest.raises(InputError, match="age"):
            records.record_intake("R-001", {"age": 7})
        with pytest.raises(InputError, match="name"):
            records.record_intake("R-001", {"name": "Zhang San"})  # not an intake fact


def test_assessments_carry_index_craving_and_resting_hr(store_url: str) -> None:
    with open_store(store_url) as store:
        _assessment(store, "R-001", 62.0, 70.0)
        _assessment(store, "R-001", 48.0, 40.0)
        rows = ProgrammeRecords(store).assessments("R-001")
    assert [(r["index"], r["craving"], r["resting_hr"]) for r in rows] == [
        (62.0, 70.0, 74.0),
        (48.0, 40.0, 74.0),
    ]


def test_an_override_keeps_the_original_and_the_reason(store_url: str) -> None:
    with open_store(store_url) as store:
        records = ProgrammeRecords(store)
        session_id = _assessment(store, "R-001", 62.0, 70.0)
        pid = records.add_prescription(session_id, PRESCRIPTION)
        changed = records.override(
            pid, {"exercise": {"type": "Tai Chi"}}, "knee pain this week", by="dr-li"
        )
        assert changed["exercise"] == {**PRESCRIPTION["exercise"], "type": "Tai Chi"}
        assert changed["overridden"] == {"by": "dr-li", "reason": "knee pain this week"}
        [row] = records.prescriptions("R-001")
        assert row["overridden"] and row["prescription"]["exercise"]["type"] == "Tai Chi"
        with pytest.raises(InputError, match="reason"):
            records.override(pid, {"music": {"purpose": "activate"}}, "  ")
        from sqlalchemy import select

        from addiction_index.store._programme_schema import PrescriptionOverrideRecord

        with store._transaction("test") as session:
            [kept] = session.scalars(select(PrescriptionOverrideRecord)).all()
            assert kept.original_json["exercise"]["type"] == "aerobic cycling"


def test_a_refused_prescription_records_no_intake_facts(store_url: str) -> None:
    from addiction_index.prescriptions import load_rule_set
    from addiction_index.prescriptions._programme import load_programme_settings
    from addiction_index.prescriptions._programme_loop import prescribe_subject

    rules, settings = load_rule_set(), load_programme_settings()
    with open_store(store_url) as store:
        store.subject("R-002")  # known, but never assessed
        with pytest.raises(InputError, match="completed assessment"):
            prescribe_subject(store, "R-002", rules, settings, new_facts={"age": 30})
        assert ProgrammeRecords(store).intake("R-002") == {}
        _assessment(store, "R-002", 62.0, 70.0)
        done = prescribe_subject(store, "R-002", rules, settings, new_facts={"age": 30})
        assert done["inputs"]["age"] == 30 and ProgrammeRecords(store).intake("R-002") == {
            "age": 30
        }
