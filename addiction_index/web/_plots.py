"""Plots drawn for the web pages (PNG data URIs: the pages load nothing from elsewhere)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from markupsafe import Markup

from addiction_index.models._evaluation_report import _figure, _png

__all__ = ["index_history_plot"]


def index_history_plot(assessments: list[dict[str, Any]]) -> Markup | None:
    """The resident's addiction index (0-100) per completed assessment over time, with the
    resident's post-cue craving ratings; None without an index to show."""
    points = [
        (dt.date.fromisoformat(a["day"]), a["index"], a.get("confidence"))
        for a in assessments
        if a.get("index") is not None
    ]
    if not points:
        return None
    fig, ax = plt.subplots(figsize=(8, 2.8))
    days = [p[0] for p in points]
    ax.plot(days, [p[1] for p in points], marker="o", color="#1f3b57", label="addiction index")
    for day, value, confidence in points:
        if confidence is not None:
            ax.annotate(f"{confidence:.2f}", (day, value), textcoords="offset points",
                        xytext=(0, 6), ha="center", fontsize=7, color="#5b6770")  # fmt: skip
    rated = [(dt.date.fromisoformat(a["day"]), a["craving"]) for a in assessments
             if a.get("craving") is not None]  # fmt: skip
    if rated:
        ax.scatter([r[0] for r in rated], [r[1] for r in rated], color="#a3211c", s=18, zorder=3,
                   label="craving rating (VAS)")  # fmt: skip
    ax.set(ylim=(0, 100), ylabel="0-100")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    fig.autofmt_xdate()
    ax.legend(loc="upper right", fontsize=8)
    caption = (
        "Addiction index per assessment (numbers: its confidence) and the resident's craving "
        "ratings. Research and decision support, not a diagnosis."
    )
    return Markup(_figure(_png(fig), caption))  # built from numbers and a fixed caption
