"""Aftercare: intake instruments and risk factors, release and follow-up records, the follow-up
schedule and due list, CSV import, and the outcomes table for time-to-event analysis.

Instruments, risk factors and the schedule are data files in the ``instruments/`` content folder
(see ``instruments/README.md``); records live in the session store
(``addiction_index/store/_aftercare_schema.py``).
"""

from addiction_index.aftercare._csv_import import (
    ImportMapping,
    ImportReport,
    RowError,
    import_followups,
    load_mapping,
)
from addiction_index.aftercare._dates import ACCEPTED_DATE_FORMATS, parse_date
from addiction_index.aftercare._due import IntakeRiskCount, RiskFunction, due_list
from addiction_index.aftercare._followup_store import (
    Contact,
    FollowupRecords,
    Release,
    check_contact,
)
from addiction_index.aftercare._instruments import (
    LANGUAGES,
    Instrument,
    load_instrument,
    load_instruments,
)
from addiction_index.aftercare._intake_store import IntakeRecords
from addiction_index.aftercare._outcomes import OUTCOME_COLUMNS, outcomes_frame
from addiction_index.aftercare._risk_factors import (
    FACTOR_IDS,
    FactorCheck,
    RiskFactors,
    check_factors,
    load_risk_factors,
)
from addiction_index.aftercare._schedule import (
    FollowupSchedule,
    NextVisit,
    Visit,
    load_schedule,
    next_visit,
    visits,
)
from addiction_index.aftercare._scoring import (
    AnswerErrors,
    AnswersInvalidError,
    InstrumentScore,
    check_form,
    score_answers,
)

__all__ = [
    "ACCEPTED_DATE_FORMATS",
    "FACTOR_IDS",
    "LANGUAGES",
    "OUTCOME_COLUMNS",
    "AnswerErrors",
    "AnswersInvalidError",
    "Contact",
    "FactorCheck",
    "FollowupRecords",
    "FollowupSchedule",
    "ImportMapping",
    "ImportReport",
    "Instrument",
    "InstrumentScore",
    "IntakeRecords",
    "IntakeRiskCount",
    "NextVisit",
    "Release",
    "RiskFactors",
    "RiskFunction",
    "RowError",
    "Visit",
    "check_contact",
    "check_factors",
    "check_form",
    "due_list",
    "import_followups",
    "load_instrument",
    "load_instruments",
    "load_mapping",
    "load_risk_factors",
    "load_schedule",
    "next_visit",
    "outcomes_frame",
    "parse_date",
    "score_answers",
    "visits",
]
