"""Labelled block and session tables of a dataset: what model training consumes.

:func:`block_table` turns the cached hop tables (:func:`~addiction_index.datasets._extract.
load_hop_tables`) into one row per (recording, block) with usable fractions, block means,
changes from the recording's baseline block and the recording's labels. :func:`session_table`
turns that into one row per recording: the cue block relative to the reference block (drug vs
neutral cues), the input of the session-level addiction classifier.

Changes follow one rule, :func:`delta_kind`: a log ratio ``ln(x / x_ref)`` for strictly positive
quantities and a plain difference ``x - x_ref`` for everything else.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

import numpy as np

from addiction_index.datasets._extract import _resolve, _spec, load_hop_tables
from addiction_index.errors import InputError
from addiction_index.models._session_index import usable_mask

if TYPE_CHECKING:
    import pandas as pd

    from addiction_index.datasets._manifest import Dataset, DatasetCatalog
    from addiction_index.features.spec import FeatureDef, FeatureSpec

__all__ = [
    "LOG_RATIO_UNITS",
    "META_COLUMNS",
    "PSEUDO_BLOCKS",
    "block_table",
    "delta_kind",
    "recording_blocks",
    "relative_change",
    "session_table",
    "value_features",
]

#: Units of strictly positive quantities: their changes are log ratios.
LOG_RATIO_UNITS = frozenset({"µV²", "1", "ms", "ms²", "bpm", "Hz"})
#: Families whose values are 0/1 indicators or bit fields, not measurements: no value columns.
QUALITY_FAMILIES = frozenset({"eeg_quality", "heart_quality"})
#: Block labels that are not protocol blocks (before the first block, between two blocks).
PSEUDO_BLOCKS = frozenset({"start", "between"})
#: The identifying columns of a block table, in order.
META_COLUMNS = ("subject", "session", "recording", "block", "hops")

DeltaKind = Literal["log_ratio", "difference"]


def delta_kind(feature: FeatureDef) -> DeltaKind:
    """How a change of ``feature`` is expressed: ``"log_ratio"`` or ``"difference"``.

    Log ratio ``ln(x / x_ref)`` for strictly positive quantities: units µV² (absolute powers),
    "1" (relative powers, band ratios, spectral entropy, LF/HF), ms, ms², bpm and Hz. Plain
    difference ``x - x_ref`` for log units ("ln µV²", e.g. frontal alpha asymmetry, already a log
    difference), percentages, counts (beats), quality indicators and anything else that can be
    zero or negative.
    """
    if feature.family in QUALITY_FAMILIES or feature.unit == "flags":
        return "difference"
    return "log_ratio" if feature.unit in LOG_RATIO_UNITS else "difference"


def relative_change(value: float, reference: float, kind: DeltaKind) -> float:
    """``value`` relative to ``reference``: ln(value/reference) or value - reference.

    NaN when either is NaN, and for a log ratio when either is not strictly positive.
    """
    if not (math.isfinite(value) and math.isfinite(reference)):
        return math.nan
    if kind == "difference":
        return value - reference
    if value <= 0 or reference <= 0:
        return math.nan
    return math.log(value / reference)


def value_features(spec: FeatureSpec) -> list[str]:
    """Features that get value columns: all but quality flags and indicators, in spec order."""
    registry = spec.registry
    return [
        name
        for name in spec.feature_names()
        if registry[name].unit != "flags" and registry[name].family not in QUALITY_FAMILIES
    ]


def _usable(hop: dict[str, np.ndarray], features: list[str]) -> dict[str, np.ndarray]:
    """Per feature, the hops usable for it (None-free boolean arrays; absent features omitted).

    EEG features: :func:`~addiction_index.models._session_index.usable_mask` (finite and the
    channels it is computed from have no quality flag). Heart features (``hr_*``, ``hrv_*``):
    finite and, when the table has it, ``heart_quality == 0`` (beats arriving).
    """
    heart_ok = hop["heart_quality"] == 0 if "heart_quality" in hop else None
    out = {}
    for name in features:
        if name not in hop:
            continue
        try:
            mask = usable_mask(name, hop)
        except KeyError:  # a quality column it needs is absent: only finiteness is known
            mask = np.isfinite(hop[name])
        if heart_ok is not None and name.startswith(("hr_", "hrv_")):
            mask &= heart_ok
        out[name] = mask
    return out


def _label_names(data: Dataset) -> tuple[list[str], list[str], list[str]]:
    """Session-level label names, those also given per block, and block-only names (sorted)."""
    session = sorted({k for r in data.recordings for k in r.labels})
    block = sorted({k for r in data.recordings for b in r.block_labels.values() for k in b})
    return session, [k for k in block if k in session], [k for k in block if k not in session]


def recording_blocks(
    hop: dict[str, np.ndarray],
    block_of: np.ndarray,
    features: list[str],
    kinds: dict[str, DeltaKind],
    min_usable: float = 0.5,
    baseline: str = "baseline",
) -> tuple[
    list[str],
    dict[str, int],
    dict[str, dict[str, float]],
    dict[str, dict[str, float]],
    dict[str, dict[str, float]],
]:
    """The blocks of one recording's hops (``hop``: feature -> array, ``block_of``: block label
    per hop): block names in order, hops per block, and per block and feature the usable
    fraction, the mean over usable hops and the change from the baseline block (the rules of
    :func:`block_table`). The batch tables and the live session scorer both use it."""
    names = [b for b in dict.fromkeys(block_of.tolist()) if b not in PSEUDO_BLOCKS]
    masks = _usable(hop, features)
    n_hops: dict[str, int] = {}
    fractions: dict[str, dict[str, float]] = {}
    rows: dict[str, dict[str, float]] = {}
    for block in names:
        inside = block_of == block
        n = n_hops[block] = int(inside.sum())
        fractions[block], rows[block] = {}, {}
        for name in features:
            mask = masks.get(name)
            if mask is None:  # the recording lacks this feature
                fractions[block][name] = rows[block][name] = math.nan
                continue
            keep = mask & inside
            k = int(keep.sum())
            fractions[block][name] = k / n
            enough = k > 0 and k / n >= min_usable
            rows[block][name] = float(hop[name][keep].mean()) if enough else math.nan
    changes: dict[str, dict[str, float]] = {}
    if names:
        reference = rows[baseline] if baseline in rows else rows[names[0]]
        for block in names:
            changes[block] = {
                name: relative_change(rows[block][name], reference[name], kinds[name])
                for name in features
            }
    return names, n_hops, fractions, rows, changes


def block_table(
    catalog: DatasetCatalog,
    dataset: str | Dataset,
    spec: FeatureSpec | None = None,
    min_usable: float = 0.5,
    *,
    baseline: str = "baseline",
    missing: Literal["raise", "skip"] = "raise",
) -> pd.DataFrame:
    """One row per (recording, block) of ``dataset``, from its cached hop tables.

    Blocks are the values of each recording's ``block`` column (hops sharing a label form one
    block), in order of first appearance; the pseudo-blocks "start" (before the first block) and
    "between" (between two blocks) are left out. Columns, in order:

    - ``subject``, ``session``, ``recording``, ``block``, ``hops`` (hops in the block);
    - ``usable:<feature>``: fraction of the block's hops usable for the feature (EEG: finite and
      no quality flag on the channels it uses, as the transparent model decides; heart: finite
      and beats arriving); NaN when the recording lacks the feature (e.g. RR-only);
    - ``<feature>``: mean over the block's usable hops, NaN when fewer than ``min_usable`` of its
      hops are usable. Quality flags and 0/1 usability indicators get no value column;
    - ``delta:<feature>``: change from the same recording's baseline block, by
      :func:`delta_kind`: ``ln(x / x_ref)`` for strictly positive quantities (µV², "1", ms, ms²,
      bpm, Hz), ``x - x_ref`` for the rest ("ln µV²" such as eeg_faa, %, beats); NaN when either
      value is NaN (or, for a log ratio, not positive). The baseline block is the block named
      ``baseline`` ("baseline" in this project's recordings) when the recording has one, else the
      recording's first block; its own deltas are 0;
    - ``label:<name>``: session-level labels (``entry.labels``) on every block of the recording,
      then block-level labels (``entry.block_labels[block]``) on their block only (None/NaN on
      the others). When a block gives a label the session also gives (the simulator's
      ``latent_craving``: the person's, and the block's), the block's value wins in
      ``label:<name>`` and the session's is kept in ``label:session:<name>`` (right after the
      session-level columns).

    ``attrs`` of the result hold ``spec_hash``, ``delta_kinds`` (feature -> kind) and
    ``session_labels`` (session table column -> block table column holding the session-level
    value) for :func:`session_table`.
    ``missing`` is passed to :func:`~addiction_index.datasets._extract.load_hop_tables`.
    """
    import pandas as pd

    if not 0.0 <= min_usable <= 1.0:
        raise InputError("min_usable", min_usable, "a fraction between 0 and 1")
    data = _resolve(catalog, dataset)
    resolved = _spec(spec)
    registry = resolved.registry
    features = value_features(resolved)
    kinds = {name: delta_kind(registry[name]) for name in features}
    session_names, both, block_only = _label_names(data)
    label_cols = [
        *(f"label:{n}" for n in session_names),
        *(f"label:session:{n}" for n in both),
        *(f"label:{n}" for n in block_only),
    ]
    tables = load_hop_tables(catalog, data, resolved, missing=missing)

    meta: dict[str, list[object]] = {c: [] for c in META_COLUMNS}
    usable: dict[str, list[float]] = {f: [] for f in features}
    values: dict[str, list[float]] = {f: [] for f in features}
    deltas: dict[str, list[float]] = {f: [] for f in features}
    labels: dict[str, list[object]] = {c: [] for c in label_cols}
    for entry in data.recordings:
        frame = tables.get(entry.id)
        if frame is None:
            continue
        block_of = frame["block"].astype(str).to_numpy()
        hop = {c: frame[c].to_numpy(np.float64) for c in frame.columns if c != "block"}
        names, n_hops, fractions, rows, changes = recording_blocks(
            hop, block_of, features, kinds, min_usable, baseline
        )
        for block in names:
            meta["subject"].append(entry.subject)
            meta["session"].append(entry.session)
            meta["recording"].append(entry.id)
            meta["block"].append(block)
            meta["hops"].append(n_hops[block])
            for name in features:
                usable[name].append(fractions[block][name])
                values[name].append(rows[block][name])
                deltas[name].append(changes[block][name])
            own = entry.block_labels.get(block, {})
            for name in session_names:  # the block's own value wins
                labels[f"label:{name}"].append(own.get(name, entry.labels.get(name)))
            for name in both:
                labels[f"label:session:{name}"].append(entry.labels.get(name))
            for name in block_only:
                labels[f"label:{name}"].append(own.get(name))

    columns: dict[str, object] = dict(meta)
    columns |= {f"usable:{f}": usable[f] for f in features}
    columns |= {f: values[f] for f in features}
    columns |= {f"delta:{f}": deltas[f] for f in features}
    columns |= labels
    out = pd.DataFrame(columns)
    out["hops"] = out["hops"].astype("int64")
    out.attrs = {
        "dataset": data.name,
        "spec_hash": resolved.version_hash(),
        "delta_kinds": kinds,
        "session_labels": {
            f"label:{n}": f"label:session:{n}" if n in both else f"label:{n}" for n in session_names
        },
        "baseline": baseline,
        "min_usable": min_usable,
    }
    return out


def _feature_columns(blocks: pd.DataFrame) -> list[str]:
    return [
        c
        for c in blocks.columns
        if c not in META_COLUMNS and not c.startswith(("usable:", "delta:", "label:"))
    ]


def _session_label_columns(blocks: pd.DataFrame) -> dict[str, str]:
    """Session table label column -> the block table column holding its session-level value.

    From ``attrs`` when present; otherwise the ``label:`` columns constant within every
    recording, a ``label:session:<name>`` column standing for ``label:<name>``.
    """
    known = blocks.attrs.get("session_labels")
    if known is not None:
        return {out: col for out, col in known.items() if col in blocks.columns}
    grouped = blocks.groupby("recording", sort=False)
    constant = [
        c
        for c in blocks.columns
        if c.startswith("label:") and (grouped[c].nunique(dropna=False) <= 1).all()
    ]
    out: dict[str, str] = {}
    for c in constant:
        name = c.removeprefix("label:session:")
        if c.startswith("label:session:"):
            out[f"label:{name}"] = c
        else:
            out.setdefault(c, c)
    position = {c: i for i, c in enumerate(blocks.columns)}
    return dict(sorted(out.items(), key=lambda item: position.get(item[0], position[item[1]])))


def session_table(
    blocks: pd.DataFrame,
    cue_block: str = "drug",
    reference_block: str = "neutral",
    *,
    spec: FeatureSpec | None = None,
) -> pd.DataFrame:
    """One row per recording: the cue block relative to the reference block, and its labels.

    Columns: ``subject``, ``session``, ``recording``, then ``cue:<feature>`` for every feature
    column of ``blocks`` (a :func:`block_table`): the ``cue_block`` value relative to the
    ``reference_block`` value of the same recording, with the rule of :func:`delta_kind`
    (``ln(cue / reference)`` for strictly positive quantities, ``cue - reference`` for the
    rest), NaN when either block is missing from the recording or either value is NaN; then the
    session-level ``label:`` columns. Recordings keep the order of ``blocks``.
    The change kinds come from ``blocks.attrs["delta_kinds"]`` or else from ``spec`` (default:
    the packaged spec).
    """
    import pandas as pd

    missing = [c for c in ("subject", "session", "recording", "block") if c not in blocks.columns]
    if missing:
        raise InputError(
            "blocks", f"columns {list(blocks.columns)[:6]}…", f"a block table ({missing} absent)"
        )
    if cue_block == reference_block:
        raise InputError("reference_block", reference_block, f"a block other than {cue_block!r}")
    features = _feature_columns(blocks)
    kinds = blocks.attrs.get("delta_kinds")
    if kinds is None:
        registry = _spec(spec).registry
        unknown = [f for f in features if f not in registry]
        if unknown:
            raise InputError("blocks", unknown[:5], "feature columns of the feature spec")
        kinds = {f: delta_kind(registry[f]) for f in features}
    label_cols = _session_label_columns(blocks)
    records = []
    for recording, rows in blocks.groupby("recording", sort=False):
        first = rows.iloc[0]
        by_block = rows.set_index("block")
        cue = by_block.loc[cue_block] if cue_block in by_block.index else None
        ref = by_block.loc[reference_block] if reference_block in by_block.index else None
        if isinstance(cue, pd.DataFrame) or isinstance(ref, pd.DataFrame):
            raise InputError("blocks", str(recording), "one row per (recording, block)")
        record: dict[str, object] = {
            "subject": first["subject"],
            "session": first["session"],
            "recording": recording,
        }
        for f in features:
            if cue is None or ref is None:
                record[f"cue:{f}"] = math.nan
            else:
                record[f"cue:{f}"] = relative_change(float(cue[f]), float(ref[f]), kinds[f])
        for out_col, col in label_cols.items():
            record[out_col] = first[col]
        records.append(record)
    columns = ["subject", "session", "recording", *(f"cue:{f}" for f in features), *label_cols]
    out = pd.DataFrame.from_records(records, columns=columns)
    out.attrs = {
        "spec_hash": blocks.attrs.get("spec_hash"),
        "cue_block": cue_block,
        "reference_block": reference_block,
        "delta_kinds": dict(kinds),
    }
    return out
