"""The per-block usable-signal table of a session report, and the per-channel traffic light."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from addiction_index.features import QualityFlag
from addiction_index.features.quality import traffic_light
from addiction_index.sessions._usability import block_usability

CHANNELS = ("TP9", "AF7", "AF8", "TP10")


def hop(t: float, af7: int = 0, heart: float = 0.0, eeg: bool = True) -> SimpleNamespace:
    features = {"heart_quality": heart}
    if eeg:
        flags = {"TP9": 0, "AF7": af7, "AF8": 0, "TP10": 0}
        features |= {f"eeg_quality_{ch}": float(v) for ch, v in flags.items()}
        features |= {"eeg_usable": float(af7 == 0), "eeg_usable_frontal": float(af7 == 0)}
    return SimpleNamespace(t=t, features=features)


def block(name: str, start: float, end: float) -> SimpleNamespace:
    return SimpleNamespace(block=SimpleNamespace(id=name, role=name), start=start, end=end)


def test_fractions_per_block_count_flagged_and_missing_hops() -> None:
    schedule = [block("baseline", 0.0, 10.0), block("drug", 10.0, 20.0), block("empty", 20.0, 30.0)]
    hops = [hop(t) for t in (2.0, 4.0, 6.0, 8.0, 10.0)]  # 10.0 belongs to the first block
    hops += [hop(12.0, af7=QualityFlag.BLINK), hop(14.0, heart=1.0), hop(16.0, eeg=False)]
    hops += [hop(18.0)]
    rows = block_usability(schedule, hops, CHANNELS)
    assert rows[0]["hops"] == 5 and rows[0]["eeg"] == 1.0 and rows[0]["heart"] == 1.0
    drug = rows[1]
    assert drug["hops"] == 4
    assert drug["eeg"] == pytest.approx(2 / 4)  # the blink and the gap are not usable
    assert drug["channels"]["AF7"] == pytest.approx(2 / 4) and drug["channels"]["TP9"] == 0.75
    assert drug["heart"] == pytest.approx(3 / 4)
    assert rows[2]["hops"] == 0 and rows[2]["eeg"] is None


@pytest.mark.parametrize(
    ("flags", "light"),
    [
        (0.0, "green"),
        (float(QualityFlag.BLINK), "amber"),
        (float(QualityFlag.LINE_NOISE | QualityFlag.MOTION), "amber"),
        (float(QualityFlag.FLAT), "red"),
        (float(QualityFlag.AMPLITUDE | QualityFlag.BLINK), "red"),
        (math.nan, "grey"),
        (None, "grey"),
    ],
)
def test_traffic_light(flags: float | None, light: str) -> None:
    assert traffic_light(flags) == light
