"""The outcomes table: one row per release, ready for time-to-event analysis."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from addiction_index.aftercare._followup_store import FollowupRecords
from addiction_index.aftercare._intake_store import IntakeRecords
from addiction_index.aftercare._risk_factors import FACTOR_IDS
from addiction_index.store import SessionStore

__all__ = ["INSTRUMENT_COLUMNS", "OUTCOME_COLUMNS", "outcomes_frame"]

INSTRUMENT_COLUMNS = {"sds": "sds", "phq9": "phq9", "gad7": "gad7", "mspss": "mspss",
                      "apgar": "apgar"}  # fmt: skip
OUTCOME_COLUMNS = (
    "subject", "release_date", "end_date", "relapsed", "last_status", "lost",
    "followed_days", "station", *FACTOR_IDS, *INSTRUMENT_COLUMNS,
)  # fmt: skip
_NUMERIC_FACTORS = ("years_of_use", "prior_treatments")


def outcomes_frame(store: SessionStore) -> pd.DataFrame:
    """One row per release, with its outcome, its intake risk factors and instrument totals.

    Contacts of a release are those on or after its date and before the resident's next
    release. Columns, in this order:

    - ``subject`` (code), ``release_date`` (datetime64, day);
    - ``end_date``: the first relapse, i.e. the first contact whose status is ``relapsed`` or
      whose test is ``positive``; without one, the last contact with status ``abstinent``
      (the last time the person was known abstinent); without one, the release date;
    - ``relapsed`` (bool): the event. False means *censored* at ``end_date``: people lost to
      contact or refusing follow-up are censored at their last known abstinent contact, not
      counted as relapsed (the "lost counts as relapsed" rate is ``relapsed | lost``);
    - ``last_status``: ``relapsed`` for a relapse, else the status of the latest contact
      (``abstinent``, ``lost``, ``refused``), or ``none`` without contacts;
    - ``lost`` (bool): no relapse, and the latest contact was ``lost`` or ``refused``;
    - ``followed_days`` (int): ``end_date - release_date`` in days;
    - ``station``;
    - the latest intake risk factors: ``drug_type``, ``years_of_use`` (float), ``prior_treatments``
      (float), ``employment``, ``income``, ``marital_status`` (text or None),
      ``lives_where_registered`` (True, False or None);
    - the latest instrument scores ``sds``, ``phq9``, ``gad7``, ``mspss`` (mean), ``apgar``
      (float, NaN when not entered).
    """
    intake = IntakeRecords(store)
    by_subject: dict[str, list[dict]] = {}
    for release in FollowupRecords(store).releases():
        by_subject.setdefault(release["subject"], []).append(release)
    rows = []
    for subject, releases in by_subject.items():
        factors = intake.risk_factors(subject)
        scores = intake.latest_scores(subject)
        for index, release in enumerate(releases):
            start = date.fromisoformat(release["release_date"])
            stop = (
                date.fromisoformat(releases[index + 1]["release_date"])
                if index + 1 < len(releases)
                else None
            )
            contacts = [
                c
                for c in release["contacts"]
                if start <= date.fromisoformat(c["date"])
                and (stop is None or c["date"] < str(stop))
            ]
            contacts.sort(key=lambda c: (c["date"], c["id"]))
            row = {"subject": subject, "release_date": start} | _outcome(start, contacts)
            row["station"] = release["station"]
            for name in FACTOR_IDS:
                value = factors.get(name)
                row[name] = (
                    float(value) if name in _NUMERIC_FACTORS and value is not None else value
                )
                if name in _NUMERIC_FACTORS and value is None:
                    row[name] = np.nan
            for instrument, column in INSTRUMENT_COLUMNS.items():
                found = scores.get(instrument)
                row[column] = float(found["score"]) if found else np.nan
            rows.append(row)
    frame = pd.DataFrame(rows, columns=list(OUTCOME_COLUMNS))
    for column in ("release_date", "end_date"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]").dt.normalize()
    frame["relapsed"] = frame["relapsed"].astype(bool)
    frame["lost"] = frame["lost"].astype(bool)
    frame["followed_days"] = frame["followed_days"].astype(int)
    for column in (*_NUMERIC_FACTORS, *INSTRUMENT_COLUMNS):
        frame[column] = frame[column].astype(float)
    return frame


def _outcome(start: date, contacts: list[dict]) -> dict:
    relapse = next(
        (c for c in contacts if c["status"] == "relapsed" or c["test"] == "positive"), None
    )
    if relapse is not None:
        end = date.fromisoformat(relapse["date"])
        return {"end_date": end, "relapsed": True, "last_status": "relapsed", "lost": False,
                "followed_days": (end - start).days}  # fmt: skip
    abstinent = [c for c in contacts if c["status"] == "abstinent"]
    end = date.fromisoformat(abstinent[-1]["date"]) if abstinent else start
    last = contacts[-1]["status"] if contacts else "none"
    return {"end_date": end, "relapsed": False, "last_status": last,
            "lost": last in ("lost", "refused"), "followed_days": (end - start).days}  # fmt: skip
