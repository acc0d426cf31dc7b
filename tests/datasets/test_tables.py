"""Block and session tables from cached hop tables with known values.

The hop tables are written into the feature cache the way extraction writes them (same folder,
file name and metadata), with hand-set values, so every mean, usable fraction, log ratio and
difference below is known exactly.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from addiction_index.datasets._extract import (
    _cache_meta,
    _write_atomic,
    cache_folder,
    cache_path,
)
from addiction_index.datasets._manifest import Dataset, DatasetCatalog, RecordingEntry
from addiction_index.datasets._tables import (
    block_table,
    delta_kind,
    relative_change,
    session_table,
    value_features,
)
from addiction_index.errors import InputError, ResourceNotFoundError
from addiction_index.features.spec import load_feature_spec

SPEC = load_feature_spec()
REG = SPEC.registry


def hop_table(blocks: list[tuple[str, int]], values: dict[str, list[float]]) -> pd.DataFrame:
    """A hop table: every feature 2.0, clean quality, then ``values`` per hop where given."""
    labels = [b for b, n in blocks for _ in range(n)]
    n = len(labels)
    frame = {"t_s": 2.0 + 0.25 * np.arange(n), "block": np.array(labels, dtype=object)}
    for name in SPEC.feature_names():
        unit, family = REG[name].unit, REG[name].family
        if unit == "flags":
            frame[name] = np.zeros(n)
        elif family == "eeg_quality":  # eeg_usable, eeg_usable_frontal
            frame[name] = np.ones(n)
        else:
            frame[name] = np.full(n, 2.0)
    for name, column in values.items():
        frame[name] = np.asarray(column, dtype=np.float64)
    return pd.DataFrame(frame)


def per_block(blocks: list[tuple[str, int]], by_block: dict[str, float]) -> list[float]:
    """One value per hop, constant within each block (2.0 for blocks not given)."""
    return [by_block.get(b, 2.0) for b, n in blocks for _ in range(n)]


A_BLOCKS = [("start", 2), ("baseline", 4), ("between", 1), ("neutral", 4), ("between", 1),
            ("drug", 4)]  # fmt: skip
B_BLOCKS = [("rest", 4), ("neutral", 4), ("drug", 4)]


def a_values() -> dict[str, list[float]]:
    labels = [b for b, n in A_BLOCKS for _ in range(n)]
    v = {
        "eeg_abs_alpha_TP9": per_block(A_BLOCKS, {"baseline": 2.0, "neutral": 4.0, "drug": 8.0}),
        "eeg_faa": per_block(A_BLOCKS, {"baseline": 0.1, "neutral": -0.2, "drug": 0.3}),
        "hrv_pnn50_pct": per_block(A_BLOCKS, {"baseline": 0.0, "neutral": 10.0, "drug": 20.0}),
        "eeg_rel_alpha_AF7": per_block(A_BLOCKS, {"drug": 0.4}),
        "hr_mean_bpm": per_block(A_BLOCKS, {"baseline": 60.0, "neutral": 66.0, "drug": 75.0}),
        "eeg_quality_AF7": [0.0] * len(labels),
        "eeg_usable_frontal": [1.0] * len(labels),
        "eeg_usable": [1.0] * len(labels),
        "heart_quality": [0.0] * len(labels),
    }
    drug = [i for i, b in enumerate(labels) if b == "drug"]
    for i in drug[:3]:  # AF7 flagged on 3 of the 4 drug hops, with wild values there
        v["eeg_quality_AF7"][i] = 16.0
        v["eeg_usable_frontal"][i] = v["eeg_usable"][i] = 0.0
        v["eeg_rel_alpha_AF7"][i] = 0.99
        v["eeg_faa"][i] = 5.0
    base = [i for i, b in enumerate(labels) if b == "baseline"]
    v["heart_quality"][base[0]] = 1.0  # no contact: its 200 bpm is not used
    v["hr_mean_bpm"][base[0]] = 200.0
    v["eeg_abs_alpha_TP9"][0] = 1000.0  # in the "start" pseudo-block: ignored
    return v


@pytest.fixture
def catalog(tmp_path) -> DatasetCatalog:
    cat = DatasetCatalog(tmp_path / "datasets")
    entries = [
        RecordingEntry(
            id="sub-A_ses-1",
            subject="A",
            path="recordings/a.xdf",
            format="xdf",
            sha256="a" * 64,
            labels={"group": "resident", "diagnosis": 1, "latent_craving": 70.0},
            block_labels={
                "neutral": {"latent_craving": 28.0},
                "drug": {"vas_craving": 60, "latent_craving": 70.0},
            },
        ),
        RecordingEntry(
            id="sub-B_ses-2",
            subject="B",
            session="2",
            path="recordings/b.xdf",
            format="xdf",
            sha256="b" * 64,
            labels={"group": "control", "diagnosis": 0, "latent_craving": 0.0},
            block_labels={"neutral": {"vas_craving": 5}},
        ),
    ]
    data = Dataset(name="study", source="test", recordings=entries)
    cat.save(data)
    folder = cache_folder(cat, data, SPEC)
    spec_hash = SPEC.version_hash()
    b_values = {
        "eeg_abs_alpha_TP9": per_block(B_BLOCKS, {"rest": 3.0, "neutral": 3.0, "drug": 1.5}),
        "eeg_faa": per_block(B_BLOCKS, {"rest": -0.5, "neutral": 0.0, "drug": 0.25}),
    }
    for entry, frame in (
        (entries[0], hop_table(A_BLOCKS, a_values())),
        (entries[1], hop_table(B_BLOCKS, b_values)),
    ):
        _write_atomic(frame, cache_path(folder, entry), _cache_meta(entry, spec_hash))
    return cat


def row(blocks: pd.DataFrame, recording: str, block: str) -> pd.Series:
    found = blocks[(blocks["recording"] == recording) & (blocks["block"] == block)]
    assert len(found) == 1
    return found.iloc[0]


def test_delta_kind_rule() -> None:
    kinds = {name: delta_kind(REG[name]) for name in value_features(SPEC)}
    for name in ("eeg_abs_alpha_TP9", "eeg_rel_theta_frontal", "eeg_ratio_theta_beta_AF8",
                 "eeg_entropy_TP9", "eeg_paf_AF7", "hr_mean_bpm", "hrv_rmssd_ms", "hrv_lf_ms2",
                 "hrv_lfhf"):  # fmt: skip
        assert kinds[name] == "log_ratio", name
    assert kinds["eeg_abs_alpha_TP9"] == kinds["hrv_rmssd_ms"] == "log_ratio"
    assert kinds["eeg_faa"] == kinds["hrv_pnn50_pct"] == kinds["hrv_n_beats"] == "difference"
    assert not any(REG[n].unit == "flags" for n in kinds)
    assert "eeg_usable" not in kinds and "heart_quality" not in kinds
    assert relative_change(8.0, 2.0, "log_ratio") == pytest.approx(math.log(4.0))
    assert math.isnan(relative_change(0.0, 2.0, "log_ratio"))
    assert relative_change(-0.2, 0.1, "difference") == pytest.approx(-0.3)
    assert math.isnan(relative_change(math.nan, 1.0, "difference"))


def test_block_table_columns_means_usable_and_labels(catalog: DatasetCatalog) -> None:
    blocks = block_table(catalog, "study")
    features = value_features(SPEC)
    expected = [
        "subject", "session", "recording", "block", "hops",
        *(f"usable:{f}" for f in features), *features, *(f"delta:{f}" for f in features),
        "label:diagnosis", "label:group", "label:latent_craving",
        "label:session:latent_craving", "label:vas_craving",
    ]  # fmt: skip
    assert list(blocks.columns) == expected
    assert list(zip(blocks["recording"], blocks["block"], strict=True)) == [
        ("sub-A_ses-1", "baseline"), ("sub-A_ses-1", "neutral"), ("sub-A_ses-1", "drug"),
        ("sub-B_ses-2", "rest"), ("sub-B_ses-2", "neutral"), ("sub-B_ses-2", "drug"),
    ]  # fmt: skip
    assert blocks["hops"].tolist() == [4] * 6 and blocks["session"].tolist()[3] == "2"
    base, drug = row(blocks, "sub-A_ses-1", "baseline"), row(blocks, "sub-A_ses-1", "drug")
    assert base["eeg_abs_alpha_TP9"] == 2.0  # the 1000 of the "start" hop is not in any block
    # AF7 flagged on 3 of 4 drug hops: 25 % usable, below min_usable 0.5 -> NaN
    assert drug["usable:eeg_rel_alpha_AF7"] == 0.25 and math.isnan(drug["eeg_rel_alpha_AF7"])
    assert drug["usable:eeg_faa"] == 0.25 and math.isnan(drug["eeg_faa"])
    assert drug["usable:eeg_rel_alpha_AF8"] == 1.0 and drug["eeg_rel_alpha_AF8"] == 2.0
    # the no-contact heart hop is not usable and its value not averaged
    assert base["usable:hr_mean_bpm"] == 0.75 and base["hr_mean_bpm"] == 60.0
    lenient = block_table(catalog, "study", min_usable=0.2)
    assert row(lenient, "sub-A_ses-1", "drug")["eeg_rel_alpha_AF7"] == 0.4  # the clean hop only
    # labels: session-level on every block, block-level on their block only
    assert blocks["label:group"].tolist() == ["resident"] * 3 + ["control"] * 3
    assert blocks["label:diagnosis"].tolist() == [1] * 3 + [0] * 3
    # a label given by the session and by blocks: the block's value wins, the session's is kept
    assert blocks["label:latent_craving"].tolist() == [70.0, 28.0, 70.0] + [0.0] * 3
    assert blocks["label:session:latent_craving"].tolist() == [70.0] * 3 + [0.0] * 3
    vas = blocks["label:vas_craving"].tolist()
    assert vas[2] == 60 and vas[4] == 5 and all(pd.isna(vas[i]) for i in (0, 1, 3, 5))
    assert blocks.attrs["session_labels"] == {
        "label:diagnosis": "label:diagnosis",
        "label:group": "label:group",
        "label:latent_craving": "label:session:latent_craving",
    }


def test_block_deltas_log_ratio_difference_and_baseline(catalog: DatasetCatalog) -> None:
    blocks = block_table(catalog, "study")
    a = {b: row(blocks, "sub-A_ses-1", b) for b in ("baseline", "neutral", "drug")}
    assert a["baseline"]["delta:eeg_abs_alpha_TP9"] == 0.0
    assert a["neutral"]["delta:eeg_abs_alpha_TP9"] == pytest.approx(math.log(2.0))
    assert a["drug"]["delta:eeg_abs_alpha_TP9"] == pytest.approx(math.log(4.0))
    assert a["neutral"]["delta:hr_mean_bpm"] == pytest.approx(math.log(66.0 / 60.0))
    assert a["neutral"]["delta:eeg_faa"] == pytest.approx(-0.3)  # ln units: difference
    assert math.isnan(a["drug"]["delta:eeg_faa"])  # drug value NaN (too few usable hops)
    assert a["drug"]["delta:hrv_pnn50_pct"] == pytest.approx(20.0)  # baseline 0 %: difference
    assert a["drug"]["delta:hrv_n_beats"] == 0.0
    # recording B has no block named "baseline": its first block, "rest", is the reference
    b = {blk: row(blocks, "sub-B_ses-2", blk) for blk in ("rest", "neutral", "drug")}
    assert b["rest"]["delta:eeg_faa"] == 0.0
    assert b["neutral"]["delta:eeg_faa"] == pytest.approx(0.5)
    assert b["drug"]["delta:eeg_abs_alpha_TP9"] == pytest.approx(math.log(0.5))
    # the baseline block id is a parameter
    by_neutral = block_table(catalog, "study", baseline="neutral")
    assert row(by_neutral, "sub-A_ses-1", "drug")["delta:eeg_abs_alpha_TP9"] == pytest.approx(
        math.log(2.0)
    )
    assert row(by_neutral, "sub-B_ses-2", "rest")["delta:eeg_faa"] == pytest.approx(-0.5)


def test_session_table_cue_versus_reference(catalog: DatasetCatalog) -> None:
    blocks = block_table(catalog, "study", min_usable=0.2)
    sessions = session_table(blocks)
    features = value_features(SPEC)
    assert list(sessions.columns) == [
        "subject", "session", "recording", *(f"cue:{f}" for f in features),
        "label:diagnosis", "label:group", "label:latent_craving",
    ]  # fmt: skip
    assert sessions["recording"].tolist() == ["sub-A_ses-1", "sub-B_ses-2"]
    a, b = sessions.iloc[0], sessions.iloc[1]
    assert a["cue:eeg_abs_alpha_TP9"] == pytest.approx(math.log(8.0 / 4.0))
    assert a["cue:eeg_faa"] == pytest.approx(0.3 - (-0.2))  # the one clean drug hop: 0.3
    assert a["cue:hrv_pnn50_pct"] == pytest.approx(10.0)
    assert a["cue:hr_mean_bpm"] == pytest.approx(math.log(75.0 / 66.0))
    assert b["cue:eeg_abs_alpha_TP9"] == pytest.approx(math.log(0.5))
    assert b["cue:eeg_faa"] == pytest.approx(0.25)
    assert (a["label:group"], a["label:diagnosis"], a["label:latent_craving"]) == (
        "resident", 1, 70.0,
    )  # fmt: skip
    assert b["label:group"] == "control" and b["session"] == "2"
    # without attrs (e.g. after a round trip through a file) the same table comes out
    plain = pd.DataFrame(blocks.to_dict(orient="list"))
    pd.testing.assert_frame_equal(session_table(plain), sessions, check_exact=True)
    # other blocks, and a recording lacking one of them gives NaN
    rest = session_table(blocks, cue_block="drug", reference_block="rest")
    assert math.isnan(rest.iloc[0]["cue:eeg_faa"])
    assert rest.iloc[1]["cue:eeg_faa"] == pytest.approx(0.75)
    with pytest.raises(InputError, match="reference_block"):
        session_table(blocks, cue_block="drug", reference_block="drug")


def test_missing_cache_is_named(catalog: DatasetCatalog) -> None:
    data = catalog.load("study")
    cache_path(cache_folder(catalog, data, SPEC), data.recordings[1]).unlink()
    with pytest.raises(ResourceNotFoundError, match="sub-B_ses-2"):
        block_table(catalog, "study")
    kept = block_table(catalog, "study", missing="skip")
    assert set(kept["recording"]) == {"sub-A_ses-1"}
    with pytest.raises(InputError, match="min_usable"):
        block_table(catalog, "study", min_usable=1.5)
