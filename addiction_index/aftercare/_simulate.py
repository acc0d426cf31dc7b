"""A seeded simulator of an outcomes frame, for tests and demonstrations (not real people).

Each simulated release gets intake factors, in-centre trends and a true time to relapse drawn
from an exponential model with hazard ``monthly_hazard × exp(Σ log_hr × x)`` per month. Releases
are spread over ``span_years`` before the cut-off; follow-up contacts happen at 1, 3, 6, 9, 12,
18, 24, 30 and 36 months; a person is lost to contact at an exponential time
(``loss_per_year``). A relapse is recorded on its true date when a contact happens after it (so
relapses of people lost before that contact are missed: they end censored as lost, which is the
very bias EVIDENCE 8.3 is about). Columns follow ``outcomes_frame``: ``last_status`` is
"relapsed" for a relapse and ``lost`` is True only without one.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from addiction_index.aftercare._survival import DAYS_PER_MONTH

__all__ = ["CONTACT_MONTHS", "simulate_outcomes"]

CONTACT_MONTHS = (1, 3, 6, 9, 12, 18, 24, 30, 36)


def simulate_outcomes(
    n: int = 300,
    seed: int = 0,
    *,
    monthly_hazard: float = 0.05,
    log_hr: Mapping[str, float] | None = None,
    loss_per_year: float = 0.15,
    span_years: float = 3.0,
    as_of: str = "2026-06-30",
    stations: tuple[str, ...] = ("north", "south", "east"),
) -> pd.DataFrame:
    """An outcomes frame of ``n`` simulated releases (pseudonymous codes ``SIM-0001`` ...).

    ``log_hr`` maps a numeric column (``prior_treatments``, ``years_of_use``, ``phq9``,
    ``index_trend``, ``exercise_adherence`` ...) or ``unmarried``/``away`` (0/1 indicators of
    marital status not married and not living where registered) to its true log hazard ratio per
    unit. Extra columns ``index_trend`` (points/month) and ``exercise_adherence`` (0-1) are added.
    """
    rng = np.random.default_rng(seed)
    log_hr = dict(log_hr or {})
    cutoff = pd.Timestamp(as_of)
    marital = rng.choice(["married", "single", "divorced"], n, p=[0.4, 0.45, 0.15])
    frame = pd.DataFrame({
        "subject": [f"SIM-{i + 1:04d}" for i in range(n)],
        "station": rng.choice(list(stations), n),
        "drug_type": rng.choice(["methamphetamine", "heroin", "ketamine"], n, p=[0.6, 0.3, 0.1]),
        "years_of_use": np.round(rng.gamma(3.0, 3.0, n), 1),
        "prior_treatments": rng.poisson(1.0, n).astype(float),
        "employment": rng.choice(["employed", "unemployed", "self_employed"], n, p=[0.4, 0.4, 0.2]),
        "income": rng.choice(["none", "below_minimum_wage", "up_to_3x_minimum_wage"], n,
                             p=[0.3, 0.4, 0.3]),
        "marital_status": marital,
        "lives_where_registered": (rng.random(n) < 0.6).astype(float),
        "sds": rng.integers(0, 16, n).astype(float),
        "phq9": rng.integers(0, 28, n).astype(float),
        "gad7": rng.integers(0, 22, n).astype(float),
        "mspss": np.round(rng.uniform(1.0, 7.0, n), 1),
        "apgar": rng.integers(0, 11, n).astype(float),
        "index_trend": np.round(rng.normal(-2.0, 4.0, n), 2),
        "exercise_adherence": np.round(rng.beta(4, 2, n), 2),
    })  # fmt: skip
    x = {
        "unmarried": (marital != "married").astype(float),
        "away": 1.0 - frame["lives_where_registered"].to_numpy(),
    }
    lp = np.zeros(n)
    for name, beta in log_hr.items():
        values = x[name] if name in x else frame[name].to_numpy(float)
        lp += beta * values
    relapse_m = rng.exponential(1.0 / (monthly_hazard * np.exp(lp)))
    loss_m = rng.exponential(12.0 / loss_per_year, n) if loss_per_year > 0 else np.full(n, np.inf)
    release_offset_days = rng.uniform(30, span_years * 365.25, n)
    release = (cutoff - pd.to_timedelta(np.round(release_offset_days), unit="D")).normalize()
    available_m = release_offset_days / DAYS_PER_MONTH
    contacts = np.asarray(CONTACT_MONTHS, float)
    rows = []
    for i in range(n):
        seen = contacts[(contacts <= available_m[i]) & (contacts <= loss_m[i])]
        lost_now = loss_m[i] < available_m[i] and len(seen) < len(contacts)
        if len(seen) and relapse_m[i] <= seen[-1]:
            end_m, relapsed, status = relapse_m[i], True, "relapsed"
            lost_now = False  # as outcomes_frame: `lost` only without a relapse
        else:
            end_m, relapsed = (seen[-1] if len(seen) else 0.0), False
            if lost_now:
                status = str(rng.choice(["lost", "refused"], p=[0.7, 0.3]))
            else:
                status = "abstinent" if len(seen) else "none"
        rows.append((round(end_m * DAYS_PER_MONTH), relapsed, status, lost_now))
    days, relapsed, status, lost = map(np.asarray, zip(*rows, strict=True))
    frame.insert(1, "release_date", release)
    frame.insert(2, "end_date", release + pd.to_timedelta(days, unit="D"))
    frame.insert(3, "relapsed", relapsed.astype(bool))
    frame.insert(4, "last_status", status.astype(object))
    frame.insert(5, "lost", lost.astype(bool))
    frame.insert(6, "followed_days", days.astype(int))
    return frame
