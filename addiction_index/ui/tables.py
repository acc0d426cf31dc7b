"""Result tables for the terminal: the assessment result, one stored session, the session list."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from addiction_index.i18n import env_lang, not_a_diagnosis

__all__ = ["assessment_tables", "index_table", "session_table", "sessions_table"]


def index_table(index: dict[str, Any]) -> Table:
    """The addiction index, its confidence and the features that drove it."""
    model = f"{index.get('model')} {index.get('model_version')}"
    validated = "validated" if index.get("validated") else "NOT clinically validated"
    table = Table(title=f"Addiction index · model {model} ({validated})", title_justify="left")
    table.add_column("", style="bold")
    table.add_column("change (drug vs neutral cues)", justify="right")
    table.add_column("points", justify="right")
    if index.get("status") != "ok":
        table.add_row("index", Text(f"no score: {index.get('status')}", style="bold red"), "")
        table.add_row("why", index.get("reason", ""), "")
        return table
    interval = index.get("interval")
    table.add_row(
        "index (0-100)",
        Text(f"{index['value']:.1f}", style="bold"),
        f"90 % interval {interval[0]:.0f}-{interval[1]:.0f}" if interval else "",
    )
    table.add_row("confidence (0-1)", f"{index['confidence']:.2f}", "")
    table.add_row("at no reactivity", "", f"{index['base_value']:.1f}")
    for c in index["contributions"]:
        if c["change_pct"] is not None:
            change = f"{c['change_pct']:+.0f} %"
        elif c["feature"] == "self_report":
            change = f"VAS {c['change']:.0f}"
        elif c["change"] is None:  # not usable in the session (a trained model imputes it)
            change = "—"
        else:
            change = f"{c['change']:+.3f}"
        table.add_row(f"  {c['label']}", change, f"{c['points']:+.1f}")
    if index["contributions"] and "units" in index["contributions"][0]:
        table.add_row("", "", f"points: {index['contributions'][0]['units']}")
    if index.get("reason"):
        table.add_row("model", index["reason"], "")
    for e in index.get("excluded", []):
        table.add_row(f"  {e['feature']}", Text("left out", style="yellow"), e["reason"])
    return table


def _exercise_rows(table: Table, ex: dict[str, Any]) -> None:
    """The FITT-VP lines of an exercise prescription."""
    zone = f"{ex['zone_bpm'][0]}-{ex['zone_bpm'][1]} bpm"
    table.add_row(
        "exercise",
        f"{ex['type']}, {ex['sessions_per_week']}×/week, "
        f"{ex['minutes'][0]}-{ex['minutes'][1]} min, {ex['weeks']} weeks",
    )
    table.add_row(
        "heart-rate zone",
        f"{zone} ({ex['intensity_class']}, "
        f"{round(ex['intensity_hrr'][0] * 100)}-{round(ex['intensity_hrr'][1] * 100)} % "
        f"HRR; HRmax {ex['hr_max']:.0f} by {ex['hr_max_formula']}; "
        f"resting {ex['resting_hr']:.0f} bpm)",
    )
    table.add_row("RPE", f"{ex['rpe'][0]}-{ex['rpe'][1]} (Borg 6-20)")
    fitt = ex.get("fitt_vp") or {}
    for key in ("volume", "progression"):
        if fitt.get(key):
            table.add_row(key, fitt[key])
    if ex.get("progression_applied"):
        table.add_row("this time", ex["progression_applied"])


def prescription_table(p: dict[str, Any] | None) -> Table:
    table = Table(title="Prescription", title_justify="left")
    table.add_column("", style="bold")
    table.add_column("")
    if p is None:
        table.add_row(
            "none",
            "a prescription needs the resting heart rate of the baseline block "
            "and the resident's age",
        )
        return table
    ex, mu = p["exercise"], p["music"]
    if ex is None:  # a contraindication vetoed exercise
        for action in (p.get("veto") or {}).get("actions", []):
            table.add_row(Text("no exercise", style="bold red"), action)
    else:
        _exercise_rows(table, ex)
    table.add_row(
        "music",
        f"{mu['purpose']} ({mu['timing']}), {mu['tempo_bpm'][0]}-"
        f"{mu['tempo_bpm'][1]} bpm, {mu['minutes'][0]}-{mu['minutes'][1]} min",
    )
    chosen = p.get("playlist")
    if chosen and chosen["tracks"]:
        shown = ", ".join(f"{t['title']} ({t['tempo_bpm']:.0f} bpm)" for t in chosen["tracks"][:6])
        more = len(chosen["tracks"]) - 6
        table.add_row(
            "playlist",
            f"{shown}{f' and {more} more' if more > 0 else ''} · {chosen['seconds'] // 60} min "
            f"from {chosen.get('library', 'the library')}",
        )
    for note in [*((ex or {}).get("notes", [])), *mu.get("notes", [])]:
        table.add_row("note", note)
    fired = ", ".join(r["id"] for r in p["rules_fired"]) or "none (defaults)"
    table.add_row("rules fired", f"{fired} · rule set {p['rule_set']} {p['version']}")
    return table


def usability_table(rows: list[dict[str, Any]]) -> Table:
    """Usable share of each block's hops: all EEG channels, the frontal pair, each channel,
    the heart strap (``signal_quality`` of a result)."""
    channels = list(rows[0]["channels"]) if rows else []
    table = Table(title="Usable signal per block (share of hops)")
    for name in ("block", "hops", "EEG", "frontal", *channels, "heart"):
        table.add_column(name, justify="left" if name == "block" else "right")

    def pct(value: float | None) -> str:
        return "—" if value is None else f"{100 * value:.0f} %"

    for row in rows:
        cells = [pct(row["eeg"]), pct(row["eeg_frontal"])]
        cells += [pct(row["channels"][ch]) for ch in channels] + [pct(row["heart"])]
        table.add_row(f"{row['block']} ({row['role']})", str(row["hops"]), *cells)
    return table


def assessment_tables(result: dict[str, Any]) -> RenderableType:
    """Everything the demo prints at the end (``result`` is ``AssessmentResult.to_dict()``)."""
    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold")
    summary.add_column()
    summary.add_row("subject", result["subject"])
    ratings = ", ".join(f"{k} {v:.0f}" for k, v in result["ratings"].items()) or "none"
    summary.add_row("craving ratings (VAS)", ratings)
    hr = result["resting_hr_bpm"]
    summary.add_row("resting heart rate", f"{hr:.0f} bpm" if hr else "—")
    summary.add_row("stored", f"session {result['session_id']} in {result['database']}")
    return Group(
        summary,
        usability_table(result.get("signal_quality") or []),
        index_table(result["index"]),
        prescription_table(result["prescription"]),
        Text(not_a_diagnosis(env_lang()), style="bold yellow"),
    )


def sessions_table(rows: list[dict[str, Any]], database: str) -> Table:
    table = Table(
        title=f"Sessions in {database}",
        title_justify="left",
        caption=not_a_diagnosis(env_lang()),
        caption_justify="left",
    )
    for col in ("id", "subject", "started (UTC)", "status", "protocol", "index", "confidence"):
        table.add_column(col)
    for r in rows:
        value = r.get("index_value")
        conf = r.get("index_confidence")
        table.add_row(
            str(r["id"]),
            r["subject"],
            str(r["started_at"])[:19],
            r["status"],
            r["protocol"],
            "—" if value is None else f"{value:.1f}",
            "—" if conf is None else f"{conf:.2f}",
        )
    return table


def session_table(data: dict[str, Any]) -> RenderableType:
    s = data["session"]
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    for key in (
        "id",
        "subject",
        "status",
        "protocol",
        "started_at",
        "ended_at",
        "model",
        "model_version",
        "feature_spec_hash",
        "simulated",
        "seed",
    ):
        head.add_row(key, str(s.get(key)))
    parts: list[RenderableType] = [head]
    if data.get("index"):
        if data["index"].get("signal_quality"):
            parts.append(usability_table(data["index"]["signal_quality"]))
        parts.append(index_table(data["index"]))
    parts.append(prescription_table(data.get("prescription")))
    parts.append(Text(not_a_diagnosis(env_lang()), style="bold yellow"))
    return Group(*parts)
