"""The assessment report of one stored session, as a self-contained HTML page and as a PDF.

:func:`assessment_report_html` renders ``web/templates/report_standalone.html`` (which shares
its blocks, index and prescription sections with the web app's session page) with inline CSS
and plots embedded as PNG data URIs (matplotlib Agg): the live craving score over the session
with the protocol blocks shaded, and the index model's features per block against the baseline
block. :func:`write_pdf` prints that page to A4 PDF with headless Chromium through Playwright.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
from pathlib import Path
from typing import Any

import jinja2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from markupsafe import Markup

from addiction_index import NOT_A_DIAGNOSIS, __version__
from addiction_index.errors import AddictionIndexError
from addiction_index.i18n import format_datetime, normalise
from addiction_index.models._evaluation_report import _figure, _png
from addiction_index.store import SessionStore
from addiction_index.web._i18n import install
from addiction_index.web._views import clinical_report

__all__ = [
    "CHROMIUM_ENV_VAR",
    "ChromiumNotFoundError",
    "assessment_report_html",
    "write_pdf",
]

CHROMIUM_ENV_VAR = "ADDICTION_INDEX_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TEMPLATES = Path(__file__).resolve().parent.parent / "web" / "templates"
ROLE_COLOURS = {
    "baseline": "#9bb7c4",
    "neutral": "#b9d7a8",
    "drug": "#f0b27a",
    "recovery": "#c9b3d9",
}
_OTHER_COLOUR = "#dddddd"


class ChromiumNotFoundError(AddictionIndexError):
    """Chromium (for printing the report to PDF) is missing or would not start."""

    def __init__(self, path: str, detail: str = "") -> None:
        self.path = path
        text = (
            f"cannot print the PDF: Chromium not found or not startable at {path} "
            f"(set ${CHROMIUM_ENV_VAR} to its path); install Debian's chromium, "
            "or give --html only"
        )
        super().__init__(text + (f": {detail}" if detail else ""))


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.ChainableUndefined,
    )
    install(env)  # gettext of the context's ``lang``, locale filters
    env.globals.update(NOT_A_DIAGNOSIS=NOT_A_DIAGNOSIS, version=__version__)
    return env


def _number(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _block_spans(data: dict[str, Any]) -> list[tuple[str, str, float, float]]:
    """(block, role, start, end) from the block markers, else from the protocol's durations."""
    starts: dict[str, tuple[str, float]] = {}
    spans = []
    for m in data["markers"]:
        if m["block"] is None:
            continue
        if m["label"] == "block_start":
            starts[m["block"]] = ((m.get("meta") or {}).get("role") or m["block"], m["t"])
        elif m["label"] == "block_end" and m["block"] in starts:
            role, t0 = starts.pop(m["block"])
            spans.append((m["block"], role, t0, m["t"]))
    if spans:
        return spans
    t = 0.0
    for b in (data["session"].get("meta") or {}).get("blocks", []):
        spans.append((b["id"], b.get("role", b["id"]), t, t + float(b["duration_s"])))
        t += float(b["duration_s"])
    return spans


def _craving_plot(data: dict[str, Any], scores: list[dict[str, Any]]) -> str | None:
    points = [
        (s["t"], s["value"]) for s in scores if s["usable"] and _number(s["value"]) is not None
    ]
    if not points:
        return None
    fig, ax = plt.subplots(figsize=(9, 3.2))
    for block, role, t0, t1 in _block_spans(data):
        ax.axvspan(t0, t1, color=ROLE_COLOURS.get(role, _OTHER_COLOUR), alpha=0.45, lw=0)
        ax.text((t0 + t1) / 2, 97, block, ha="center", va="top", fontsize=8)
    ax.plot([p[0] for p in points], [p[1] for p in points], lw=1, color="#1f3b57",
            label="live craving score")  # fmt: skip
    ratings = [m for m in data["markers"] if m["label"] == "rating" and m["value"] is not None]
    if ratings:
        ax.scatter([m["t"] for m in ratings], [m["value"] for m in ratings], color="#a3211c",
                   zorder=3, s=25, label="craving rating (VAS)")  # fmt: skip
    ax.set(xlabel="time since session start (s)", ylabel="craving (0-100)", ylim=(0, 100))
    ax.legend(loc="lower right", fontsize=8)
    caption = (
        "Live craving score over the session (usable hops only), protocol blocks shaded; "
        "dots: the resident's own ratings."
    )
    return _figure(_png(fig), caption)


def _features(data: dict[str, Any]) -> dict[str, Any]:
    """The index model's weighted features per block, with their change from baseline."""
    summaries = data["block_summaries"]
    index = data.get("index") or {}
    labels: dict[str, str] = {}
    weights: dict[str, float | None] = {}
    for c in index.get("contributions") or []:
        labels[c["feature"]] = c.get("label") or c["feature"]
        weights[c["feature"]] = c.get("weight")
    for e in index.get("excluded") or []:
        labels.setdefault(e["feature"], e["feature"])
        weights.setdefault(e["feature"], None)
    present = {row["feature"] for row in summaries}
    chosen = [f for f in labels if f in present] or sorted(present)
    block_order = [b["id"] for b in (data["session"].get("meta") or {}).get("blocks", [])]
    blocks = block_order or list(dict.fromkeys(row["block"] for row in summaries))
    means = {(row["block"], row["feature"]): _number(row["mean"]) for row in summaries}
    baseline = next(
        (b["id"] for b in (data["session"].get("meta") or {}).get("blocks", [])
         if b.get("role") == "baseline"),
        "baseline",
    )  # fmt: skip
    rows = []
    for feature in chosen:
        base = means.get((baseline, feature))
        cells = []
        for block in blocks:
            mean = means.get((block, feature))
            pct = None
            if block != baseline and mean is not None and base not in (None, 0.0):
                pct = 100.0 * (mean - base) / abs(base)
            cells.append({"block": block, "mean": mean, "change_pct": pct})
        rows.append({"feature": feature, "label": labels.get(feature, feature),
                     "weight": weights.get(feature), "cells": cells})  # fmt: skip
    return {"blocks": blocks, "baseline": baseline, "rows": rows}


def _features_plot(features: dict[str, Any], roles: dict[str, str]) -> str | None:
    rows = [r for r in features["rows"] if any(c["change_pct"] is not None for c in r["cells"])]
    if not rows:
        return None
    columns = min(3, len(rows))
    lines = math.ceil(len(rows) / columns)
    fig, axes = plt.subplots(lines, columns, figsize=(3.2 * columns, 2.6 * lines), squeeze=False)
    for ax, row in zip(axes.flat, rows, strict=False):
        cells = [c for c in row["cells"] if c["block"] != features["baseline"]]
        values = [c["change_pct"] if c["change_pct"] is not None else 0.0 for c in cells]
        names = [c["block"] for c in cells]
        colours = [ROLE_COLOURS.get(roles.get(n, n), _OTHER_COLOUR) for n in names]
        ax.bar(names, values, color=colours, edgecolor="#555555", lw=0.5)
        ax.axhline(0, color="k", lw=0.8)
        ax.set_title(row["label"], fontsize=8)
        ax.set_ylabel(f"% vs {features['baseline']}", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(rows) :]:
        ax.axis("off")
    fig.tight_layout()
    caption = f"Each block's mean relative to the {features['baseline']} block (% change)."
    return _figure(_png(fig), caption)


def assessment_report_html(store: SessionStore, session_id: int, lang: str = "en") -> str:
    """The self-contained HTML assessment report of session ``session_id`` in ``lang`` (``en``
    or ``zh-CN``: texts, dates and numbers; the plots' axis labels stay English).

    Inline CSS, plots as ``data:image/png;base64`` URIs, no external URL. Raises
    :class:`~addiction_index.store.SessionNotFoundError` for an unknown id.
    """
    data = store.get_session(session_id)
    report = clinical_report(data)
    report["session"]["feature_spec_hash"] = data["session"].get("feature_spec_hash")
    index = data.get("index") or {}
    reason = index.get("reason") or ""
    roles = {b["id"]: b.get("role", b["id"]) for b in report["blocks"]}
    features = _features(data)
    craving = _craving_plot(data, store.get_scores(session_id, kind="craving"))
    features_plot = _features_plot(features, roles)
    # our own HTML: base64 images and captions escaped by _figure
    figures = {
        "craving": Markup(craving) if craving else None,
        "features": Markup(features_plot) if features_plot else None,
    }
    lang = normalise(lang)
    now = dt.datetime.now(dt.UTC)
    template = _environment().get_template("report_standalone.html")
    return template.render(
        lang=lang,
        r=report,
        features=features,
        figures=figures,
        model={"trained": "trained model" in reason.lower(), "reason": reason},
        generated=(
            now.strftime("%Y-%m-%d %H:%M") if lang == "en" else format_datetime(now, lang, "medium")
        ),
    )


def chromium_path() -> str:
    """Chromium's executable: ``$ADDICTION_INDEX_CHROMIUM``, else ``/usr/bin/chromium``."""
    return os.environ.get(CHROMIUM_ENV_VAR) or DEFAULT_CHROMIUM


def write_pdf(html: str, out: Path) -> Path:
    """Print ``html`` to an A4 PDF at ``out`` with headless Chromium (Playwright, sync API).

    Raises :class:`ChromiumNotFoundError` when Chromium is missing or does not start. Must not
    be called from inside a running asyncio event loop (Playwright's sync API).
    """
    executable = chromium_path()
    found = shutil.which(executable) if os.sep not in executable else executable
    if not found or not Path(found).is_file():
        raise ChromiumNotFoundError(executable)
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=found, args=CHROMIUM_ARGS)
        except PlaywrightError as exc:
            raise ChromiumNotFoundError(found, str(exc).splitlines()[0]) from exc
        try:
            page = browser.new_page()
            page.set_content(html, wait_until="load")
            page.pdf(path=str(out), format="A4", print_background=True)
        finally:
            browser.close()
    return out
