"""Plots of the cohort report, drawn from the report's JSON-ready dict (matplotlib Agg).

Each function returns an HTML ``<figure>`` with the PNG as a data URI (the project's
``_png``/``_figure`` helpers), or None when there is nothing to draw. No computation here beyond
unit conversion: the numbers come from :func:`._cohort_report.cohort_report`.
"""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np

from addiction_index.aftercare._survival import DAYS_PER_MONTH
from addiction_index.models._evaluation_report import _figure, _png

__all__ = ["cox_plot", "km_plot", "rates_plot"]

COLOURS = ("#1f3b57", "#c0392b", "#2e8b57", "#8e44ad", "#d68910", "#5d6d7e")


def _step(ax: plt.Axes, curve: dict[str, Any], colour: str, label: str) -> None:
    t = np.asarray(curve["time_days"], float) / DAYS_PER_MONTH
    ax.step(t, 100 * np.asarray(curve["survival"], float), where="post", color=colour, lw=1.6,
            label=label)  # fmt: skip
    ax.fill_between(t, 100 * np.asarray(curve["lower"], float),
                    100 * np.asarray(curve["upper"], float), step="post", color=colour,
                    alpha=0.15, lw=0)  # fmt: skip


def km_plot(report: dict[str, Any]) -> str | None:
    """Kaplan-Meier curve(s) of abstinence with 95 % CI bands and the numbers at risk below."""
    km = report.get("km")
    if not km:
        return None
    groups = [g for g in (report.get("groups") or {}).get("curves", []) if g.get("curve")]
    fig, (ax, table) = plt.subplots(2, 1, figsize=(8.5, 4.8), height_ratios=[4, 1], sharex=True)
    series = groups or [{"group": "whole cohort", "curve": km["curve"],
                         "at_risk": km["at_risk"]}]  # fmt: skip
    for i, g in enumerate(series):
        _step(ax, g["curve"], COLOURS[i % len(COLOURS)], f"{g['group']}")
    ax.axhline(50, color="#888888", lw=0.7, ls=":")
    ax.set(ylabel="abstinent (%)", ylim=(0, 100))
    ax.legend(loc="upper right", fontsize=8, title=(report.get("groups") or {}).get("by"))
    ticks = [row["months"] for row in km["at_risk"]]
    table.set_xlim(0, max(ticks) * 1.04)
    table.set_ylim(-0.5, len(series) - 0.5)
    for i, g in enumerate(series):
        y = len(series) - 1 - i
        for row in g["at_risk"]:
            table.text(row["months"], y, str(row["at_risk"]), ha="center", va="center",
                       fontsize=8, color=COLOURS[i % len(COLOURS)])  # fmt: skip
    table.set_yticks([])
    table.set_title("number at risk", fontsize=8, loc="left")
    table.set_xticks(ticks)
    table.set_xlabel("months since release")
    for side in ("top", "right", "left"):
        table.spines[side].set_visible(False)
    fig.tight_layout()
    caption = (
        "Kaplan-Meier estimate of staying abstinent (time to first relapse), 95 % confidence "
        "band shaded; people lost to follow-up are censored at their last known contact."
    )
    return _figure(_png(fig), caption)


def rates_plot(report: dict[str, Any]) -> str | None:
    """Abstinence at each horizon under both definitions, side by side with their CIs."""
    rows = [r for r in report.get("rates", []) if r["censored"]["survival"] is not None]
    if not rows:
        return None
    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    for offset, key, value, colour, label in (
        (-0.15, "censored", "survival", COLOURS[0], "censored (Kaplan-Meier)"),
        (0.15, "lost_as_relapsed", "rate", COLOURS[1], "lost counted as relapsed"),
    ):
        points = [(i, r[key]) for i, r in enumerate(rows) if r[key][value] is not None]
        if not points:
            continue
        xs = np.array([i for i, _ in points]) + offset
        ys = np.array([100 * e[value] for _, e in points])
        lo = ys - np.array([100 * e["ci_low"] for _, e in points])
        hi = np.array([100 * e["ci_high"] for _, e in points]) - ys
        ax.errorbar(xs, ys, yerr=[lo, hi], fmt="o", color=colour, capsize=3, label=label)
    ax.set_xticks(x, [f"{r['months']} mo" for r in rows])
    ax.set(ylabel="abstinent (%)", ylim=(0, 100))
    ax.legend(fontsize=8)
    caption = (
        "Abstinence at each horizon by the two definitions, 95 % intervals: the gap is what "
        "counting people lost to follow-up as relapsed does to the figure (EVIDENCE 8.3)."
    )
    return _figure(_png(fig), caption)


def cox_plot(report: dict[str, Any]) -> str | None:
    """Hazard ratios of the Cox model with 95 % CIs on a log axis."""
    rows = (report.get("cox") or {}).get("rows") or []
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(7.5, 0.32 * len(rows) + 1.0))
    y = np.arange(len(rows))[::-1]
    hr = np.array([r["hr"] for r in rows])
    lo = hr - np.array([r["ci_low"] for r in rows])
    hi = np.array([r["ci_high"] for r in rows]) - hr
    ax.errorbar(hr, y, xerr=[lo, hi], fmt="s", color=COLOURS[0], capsize=2, ms=4)
    ax.axvline(1.0, color="#888888", lw=0.8)
    ax.set_xscale("log")
    low, high = float(np.min(hr - lo)), float(np.max(hr + hi))
    ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10) if low / 1.5 <= t <= high * 1.5] or [1]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_yticks(y, [r["label"] for r in rows], fontsize=7)
    ax.set_xlabel("hazard ratio of relapse (log scale; > 1 = earlier relapse)")
    fig.tight_layout()
    return _figure(_png(fig), "Cox model of the risk factors: hazard ratios with 95 % CIs.")
