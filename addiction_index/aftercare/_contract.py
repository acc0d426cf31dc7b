"""The outcomes frame that the survival analysis, the risk score and the cohort report read.

One row per release, built from the database by ``addiction_index.aftercare.outcomes_frame``.
:func:`check_outcomes` validates it on entry and names the first missing or mistyped column, so
that a change on the database side fails loudly here instead of giving a silently wrong curve.

Columns (``OUTCOME_COLUMNS`` is the one definition; docs and tests read it):

========================  ============  ======================================================
column                    type          meaning
========================  ============  ======================================================
subject                   str           pseudonymous code (never shown in a cohort report)
release_date              datetime64    day of release from the centre
end_date                  datetime64    first relapse if relapsed, else the last contact with
                                        a known status, else the release date
relapsed                  bool          the event: relapse confirmed at a follow-up
last_status               str           abstinent / relapsed / lost / refused / none
lost                      bool          the last contact was lost or refused
followed_days             int           days from release to ``end_date`` (the duration)
station                   str           follow-up station
drug_type ... apgar       see below     intake risk factors and instrument totals (NaN/None =
                                        missing)
========================  ============  ======================================================
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from addiction_index.errors import InputError

__all__ = [
    "CATEGORICAL_FACTORS",
    "INSTRUMENT_COLUMNS",
    "LAST_STATUSES",
    "OUTCOME_COLUMNS",
    "RISK_FACTORS",
    "check_outcomes",
]

ColumnKind = Literal["str", "datetime", "bool", "int", "float", "status", "factor_str"]

#: Every column of the outcomes frame and its kind. ``factor_str`` is a string that may be
#: missing (None/NaN); ``float`` may be NaN; the others must be present in every row.
OUTCOME_COLUMNS: dict[str, ColumnKind] = {
    "subject": "str",
    "release_date": "datetime",
    "end_date": "datetime",
    "relapsed": "bool",
    "last_status": "status",
    "lost": "bool",
    "followed_days": "int",
    "station": "factor_str",
    "drug_type": "factor_str",
    "years_of_use": "float",
    "prior_treatments": "float",  # an int count; float so that a missing one can be NaN
    "employment": "factor_str",
    "income": "factor_str",
    "marital_status": "factor_str",
    "lives_where_registered": "float",  # a bool; 1.0/0.0, NaN when missing
    "sds": "float",
    "phq9": "float",
    "gad7": "float",
    "mspss": "float",
    "apgar": "float",
}

LAST_STATUSES = ("abstinent", "relapsed", "lost", "refused", "none")
INSTRUMENT_COLUMNS = ("sds", "phq9", "gad7", "mspss", "apgar")
CATEGORICAL_FACTORS = ("drug_type", "employment", "income", "marital_status")
#: The risk factors a Cox model of the cohort uses by default (in this order).
RISK_FACTORS = (
    "drug_type",
    "years_of_use",
    "prior_treatments",
    "employment",
    "income",
    "marital_status",
    "lives_where_registered",
    *INSTRUMENT_COLUMNS,
)


def _bad(column: str, value: object, expected: str) -> InputError:
    return InputError(f"frame[{column!r}]", value, expected)


def _first_bad(series: pd.Series, ok: pd.Series) -> object:
    return series[~ok].iloc[0]


def _as_bool(series: pd.Series, column: str, allow_missing: bool) -> pd.Series:
    if pd.api.types.is_bool_dtype(series):
        return series.astype(float) if allow_missing else series.astype(bool)
    values = series.map(
        lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else v
    )
    # NaN too: a float column holding 1.0/0.0/NaN (this function's own output) checks again
    ok = values.isna() | values.map(lambda v: isinstance(v, bool | np.bool_) or v in (0, 1))
    if not ok.all():
        raise _bad(column, _first_bad(series, ok), "a bool (True/False)")
    if values.isna().any() and not allow_missing:
        raise _bad(column, None, "a bool in every row (no missing values)")
    return values.astype(float) if allow_missing else values.astype(bool)


def check_outcomes(frame: pd.DataFrame) -> pd.DataFrame:
    """Validate the outcomes frame and return a copy with normalised dtypes.

    Raises :class:`~addiction_index.errors.InputError` naming the first missing or mistyped
    column and an offending value. Booleans that may be missing (``lives_where_registered``)
    come back as 1.0/0.0/NaN; ``prior_treatments`` as float (NaN when missing).
    """
    if not isinstance(frame, pd.DataFrame):
        raise InputError("frame", type(frame).__name__, "a pandas DataFrame (outcomes_frame)")
    missing = [c for c in OUTCOME_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError("frame", f"missing columns {missing}", "every outcomes-frame column")
    out = frame.copy()
    for column, kind in OUTCOME_COLUMNS.items():
        s = out[column]
        if kind == "datetime":
            if not pd.api.types.is_datetime64_any_dtype(s):
                raise _bad(column, s.dtype, "datetime64 values")
            if s.isna().any():
                raise _bad(column, None, "a date in every row")
        elif kind == "bool":
            out[column] = _as_bool(s, column, allow_missing=False)
        elif column == "lives_where_registered":
            out[column] = _as_bool(s, column, allow_missing=True)
        elif kind == "int":
            if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
                raise _bad(column, s.dtype, "integer days")
            ok = s.notna() & (s >= 0) & (np.mod(s.fillna(0), 1) == 0)
            if not ok.all():
                raise _bad(column, _first_bad(s, ok), "whole days >= 0 in every row")
            out[column] = s.astype(int)
        elif kind == "float":
            if pd.api.types.is_bool_dtype(s) or not (
                pd.api.types.is_numeric_dtype(s) or s.isna().all()
            ):
                raise _bad(column, s.dtype, "numbers (NaN when missing)")
            out[column] = s.astype(float)
        elif kind in ("str", "status", "factor_str"):
            ok = s.map(lambda v: isinstance(v, str)) | (s.isna() if kind == "factor_str" else False)
            if not ok.all():
                raise _bad(column, _first_bad(s, ok), "text" + (" or None" * (kind != "str")))
            if kind == "status":
                ok = s.isin(LAST_STATUSES)
                if not ok.all():
                    raise _bad(column, _first_bad(s, ok), "one of " + ", ".join(LAST_STATUSES))
            out[column] = s.astype(object).where(s.notna(), None)
    late = out["end_date"] < out["release_date"]
    if late.any():
        raise _bad("end_date", out.loc[late, "end_date"].iloc[0], "a date on or after release")
    return out
