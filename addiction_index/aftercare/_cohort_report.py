"""The aftercare cohort report for centre management: aggregates only, HTML and PDF.

:func:`cohort_report` computes a JSON-ready dict (for ``--json``) from an outcomes frame:
cohort size and follow-up, the Kaplan-Meier curve of abstinence with the number at risk,
abstinence at 3/6/12/24/36 months by both definitions (censored estimate beside the "lost counted
as relapsed" survey rate, each labelled), the median abstinence, curves and the log-rank test by a
factor (``by=``), and the Cox table of risk factors. :func:`render_cohort_html` renders
``aftercare/templates/cohort_report.html`` (inline CSS, plots as PNG data URIs);
:func:`write_cohort_pdf` prints it with the assessment report's headless Chromium helper.

Disclosure control: no per-person row, no subject code; groups of fewer than ``min_group``
(default 5) people are suppressed and only their number is stated; a cohort of fewer than
``min_group`` people is not reported at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup

from addiction_index import NOT_A_DIAGNOSIS, __version__
from addiction_index.aftercare._contract import RISK_FACTORS, check_outcomes
from addiction_index.aftercare._survival import (
    CENSORED_LABEL,
    DAYS_PER_MONTH,
    HORIZONS_MONTHS,
    LOST_AS_RELAPSED_LABEL,
    AbstinenceCurve,
    abstinence_curve,
    abstinence_rates,
    compare_groups,
    cox_risk_factors,
    group_labels,
    horizon_days,
)
from addiction_index.errors import InputError
from addiction_index.models._artifact import _json_ready

__all__ = ["COHORT_NOTE", "cohort_report", "render_cohort_html", "write_cohort_pdf"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
COHORT_NOTE = (
    "These figures describe this cohort of released residents only; they are not a prediction "
    "for any one person and not a comparison with other centres."
)
AT_RISK_MONTHS = (0, *HORIZONS_MONTHS)


def _curve(curve: AbstinenceCurve, frame: pd.DataFrame) -> dict[str, Any]:
    return {
        "summary": curve.to_dict(),
        "curve": {"time_days": curve.time_days.tolist(), "survival": curve.survival.tolist(),
                  "lower": curve.lower.tolist(), "upper": curve.upper.tolist()},
        "at_risk": [{"months": m, "at_risk": int((frame["followed_days"] >= horizon_days(m)).sum())}
                    for m in AT_RISK_MONTHS],
    }  # fmt: skip


def _cohort(frame: pd.DataFrame, as_of: pd.Timestamp) -> dict[str, Any]:
    days = frame["followed_days"]
    status = frame["last_status"].value_counts()
    return {
        "releases": len(frame),
        "people": int(frame["subject"].nunique()),
        "released_from": frame["release_date"].min().strftime("%Y-%m"),
        "released_to": frame["release_date"].max().strftime("%Y-%m"),
        "as_of": as_of.strftime("%Y-%m-%d"),
        "relapses": int(frame["relapsed"].sum()),
        "lost_or_refused": int(frame["lost"].sum()),
        "never_contacted": int(status.get("none", 0)),
        "last_status": {
            s: int(status.get(s, 0)) for s in ("abstinent", "relapsed", "lost", "refused", "none")
        },
        "follow_up_months": {
            "median": float(days.median()) / DAYS_PER_MONTH,
            "q1": float(days.quantile(0.25)) / DAYS_PER_MONTH,
            "q3": float(days.quantile(0.75)) / DAYS_PER_MONTH,
            "max": float(days.max()) / DAYS_PER_MONTH,
        },
        "person_years": float(days.sum()) / 365.25,
        # EVIDENCE 8.3's survey figure at the cut-off: abstinent at the last contact / everyone
        "survey_abstinent_at_cutoff": float((frame["last_status"] == "abstinent").mean()),
    }


def _groups(frame: pd.DataFrame, by: str, min_group: int, horizons) -> dict[str, Any]:
    test = compare_groups(frame, by, min_group=min_group)
    labels = group_labels(frame, by)
    curves = []
    for g in test["groups"]:
        sub = frame[labels == g["group"]]
        entry = _curve(abstinence_curve(sub, horizons), sub)
        curves.append({"group": g["group"], "n": g["n"], "people": g["people"],
                       "relapses": g["relapses"], **entry})  # fmt: skip
    n_suppressed = len(test["suppressed"])
    return {
        "by": by,
        "curves": curves,
        "logrank_p": test["p"],
        "logrank_statistic": test["statistic"],
        "logrank_df": test["df"],
        "pairwise": test["pairwise"],
        "suppressed_groups": n_suppressed,  # their number only, not their names
        "suppression_note": (
            f"{n_suppressed} group(s) of fewer than {min_group} people not shown and left out "
            "of the log-rank test." if n_suppressed else
            f"Every group has at least {min_group} people."
        ),
    }  # fmt: skip


def cohort_report(
    frame: pd.DataFrame,
    by: str | None = None,
    *,
    as_of: pd.Timestamp | str | None = None,
    horizons_months: Sequence[float] = HORIZONS_MONTHS,
    min_group: int = 5,
    factors: Sequence[str] = RISK_FACTORS,
    penalizer: float = 0.01,
) -> dict[str, Any]:
    """The cohort report as a JSON-ready dict (module docstring).

    ``as_of`` is the data cut-off for the survey-style rate (default: the latest date in the
    frame); ``by`` a column to compare groups on (``prior_treatments`` in bands 0 / 1 / 2+).
    Rates are fractions 0-1; durations in days or months as named. Raises
    :class:`~addiction_index.errors.InputError` for a cohort of fewer than ``min_group`` people.
    """
    frame = check_outcomes(frame)
    people = int(frame["subject"].nunique())
    if people < min_group:
        expected = f"at least {min_group} people (smaller cohorts are not reported)"
        raise InputError("frame", f"{people} people", expected)
    if min_group < 1:
        raise InputError("min_group", min_group, "an integer >= 1")
    cutoff = pd.Timestamp(as_of) if as_of is not None else max(
        frame["end_date"].max(), frame["release_date"].max()
    )  # fmt: skip
    curve = abstinence_curve(frame, horizons_months)
    km = _curve(curve, frame)
    summary = km["summary"]
    report: dict[str, Any] = {
        "title": "Aftercare cohort report: abstinence after release",
        "statement": NOT_A_DIAGNOSIS,
        "cohort_note": COHORT_NOTE,
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
        "version": __version__,
        "cohort": _cohort(frame, cutoff),
        "km": km,
        "median": {
            "reached": summary["median_reached"],
            "days": summary["median_days"],
            "months": summary["median_months"],
            "ci_days": summary["median_ci_days"],
            "ci_months": [
                None if d is None else d / DAYS_PER_MONTH for d in summary["median_ci_days"]
            ],
        },
        "labels": {"censored": CENSORED_LABEL, "lost_as_relapsed": LOST_AS_RELAPSED_LABEL},
        "rates": abstinence_rates(frame, horizons_months, cutoff),
        "groups": _groups(frame, by, min_group, horizons_months) if by else None,
        "cox": cox_risk_factors(frame, factors, penalizer=penalizer).to_dict(),
        "min_group": min_group,
    }
    return _json_ready(report)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )

    def pct(value: Any, digits: int = 1) -> str:
        return "—" if value is None else f"{100 * float(value):.{digits}f} %"

    def num(value: Any, fmt: str = "{:.1f}") -> str:
        return "—" if value is None or (isinstance(value, float) and np.isnan(value)) else (
            fmt.format(value)
        )  # fmt: skip

    env.filters.update(pct=pct, num=num)
    return env


def render_cohort_html(report: dict[str, Any]) -> str:
    """The self-contained HTML page of a :func:`cohort_report` dict (no external URL)."""
    from addiction_index.aftercare._cohort_plots import cox_plot, km_plot, rates_plot

    figures = {}
    for key, draw in (("km", km_plot), ("rates", rates_plot), ("cox", cox_plot)):
        html = draw(report)
        # our own HTML: base64 images and captions escaped by _figure
        figures[key] = Markup(html) if html else None
    return _environment().get_template("cohort_report.html").render(r=report, figures=figures)


def write_cohort_pdf(html: str, out: str | Path) -> Path:
    """Print the report to an A4 PDF with headless Chromium (the assessment report's helper;
    raises its ``ChromiumNotFoundError`` when Chromium is missing)."""
    from addiction_index.sessions._report import write_pdf

    return write_pdf(html, Path(out))
