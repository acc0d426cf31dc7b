"""Head motion from the headband's accelerometer flags the EEG windows of the live runner."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from addiction_index.features import QualityFlag, load_feature_spec
from addiction_index.models import load_model_definition
from addiction_index.sessions import SessionRunner, load_protocol
from addiction_index.signals import SimulatedClock, StreamInfo, StreamKind

SEED = 4242
CHANNELS = ("TP9", "AF7", "AF8", "TP10")


def runner_with(acc_device: str) -> SessionRunner:
    eeg = StreamInfo("muse/eeg", StreamKind.EEG, CHANNELS, ("uV",) * 4, 256.0, "muse")
    acc = StreamInfo(
        f"{acc_device}/acc", StreamKind.ACC, ("x", "y", "z"), ("g",) * 3, 52.0, acc_device
    )
    source = SimpleNamespace(name="muse", streams=[eeg, acc])
    return SessionRunner(
        load_protocol("demo"),
        [source],
        definition=load_model_definition(),
        spec=load_feature_spec(),
        clock=SimulatedClock(),
    )


def test_motion_bit_from_the_headband_accelerometer() -> None:
    runner = runner_with("muse")
    rng = np.random.default_rng(SEED)
    t = np.arange(0, 10, 1 / 52)
    acc = np.column_stack([np.zeros_like(t), np.zeros_like(t), np.ones_like(t)])
    acc += rng.normal(0, 0.005, acc.shape)  # sensor noise at rest
    nod = (t >= 6) & (t < 8)
    acc[nod, 0] += 0.3 * np.sin(2 * np.pi * 1.0 * t[nod])  # a 1 Hz head movement
    runner.rings["muse/acc"].write(t, acc)
    assert runner._motion_bits(4.0) == 0, f"seed={SEED}"
    assert runner._motion_bits(8.0) == QualityFlag.MOTION
    assert runner._motion_bits(1.0) == 0  # not yet a full window of samples


def test_an_accelerometer_on_another_device_is_not_used() -> None:
    runner = runner_with("strap")
    assert runner.acc is None and runner._motion_bits(8.0) == 0
