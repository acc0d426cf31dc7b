"""Simulated wearables: a Muse-like headband and a Heart Rate Service strap on a simulated resident.

They implement the same :class:`~addiction_index.devices.Source` interface as the Bluetooth
collectors, read their channels, rates and packet cadence from the device profiles, and emit chunks
at the devices' real packet cadence on a :class:`~addiction_index.signals.SimulatedClock`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np

from addiction_index.devices._profiles import DeviceProfile
from addiction_index.devices._resident import SimulatedResident
from addiction_index.devices._source import SourceState
from addiction_index.errors import InputError
from addiction_index.signals.clock import SimulatedClock
from addiction_index.signals.streams import Chunk, StreamKind

__all__ = ["SimulatedHeadband", "SimulatedStrap"]


class SimulatedHeadband:
    """EEG packets of ``samples_per_packet`` samples at the profile's rate (Muse: 12 at 256 Hz)."""

    def __init__(
        self, profile: DeviceProfile, resident: SimulatedResident, clock: SimulatedClock
    ) -> None:
        eeg = profile.stream("eeg")
        if eeg.kind is not StreamKind.EEG or eeg.rate_hz != resident.fs:
            raise InputError("profile", profile.id, f"an EEG stream at {resident.fs} Hz")
        self.name = f"sim-{profile.id}"
        self.profile = profile
        self.streams = (eeg.stream_info(self.name),)
        self.state = SourceState.IDLE
        self._resident, self._clock = resident, clock
        self._n = int(eeg.samples_per_packet or 1)
        self._dt = 1.0 / eeg.rate_hz
        self._full_scale = eeg.full_scale_uv or np.inf

    async def chunks(self) -> AsyncIterator[Chunk]:
        clock = self._clock
        clock.join()
        self.state = SourceState.STREAMING
        origin = clock.now()
        sent = 0
        offsets = np.arange(self._n) * self._dt
        try:
            while True:
                # A packet leaves the device once its last sample has been taken.
                t_first = sent * self._dt  # session seconds
                await clock.sleep_until(origin + t_first + self._n * self._dt)
                samples = self._resident.eeg(t_first, self._n)
                np.clip(samples, -self._full_scale, self._full_scale, out=samples)
                sent += self._n
                yield Chunk(self.streams[0], origin + (t_first + offsets), samples)
        finally:
            self.state = SourceState.STOPPED
            clock.leave()


class SimulatedStrap:
    """Heart Rate Service notifications every ``notification_interval_s``: HR and RR intervals.

    Beats come from the resident beat by beat; each notification carries the RR intervals of the
    beats completed since the previous one (timestamped at their beats) and the heart rate (bpm)
    of the latest beat. While the strap has no skin contact the heart rate is NaN and no RR is sent.
    """

    def __init__(
        self, profile: DeviceProfile, resident: SimulatedResident, clock: SimulatedClock
    ) -> None:
        hr, rr = profile.stream("hr"), profile.stream("rr")
        self.name = f"sim-{profile.id}"
        self.profile = profile
        self.streams = (hr.stream_info(self.name), rr.stream_info(self.name))
        self.state = SourceState.IDLE
        self._resident, self._clock = resident, clock
        self._interval = hr.packet_interval_s

    async def chunks(self) -> AsyncIterator[Chunk]:
        clock = self._clock
        clock.join()
        self.state = SourceState.STREAMING
        origin = clock.now()
        hr_info, rr_info = self.streams
        next_beat = 0.5  # session seconds of the last completed beat
        pending: float | None = None  # RR (ms) of the next beat, drawn but not yet completed
        k = 0
        try:
            while True:
                k += 1
                t_note = k * self._interval
                await clock.sleep_until(origin + t_note)
                beat_times, rrs = [], []
                while True:
                    if pending is None:
                        pending = self._resident.next_rr_ms(next_beat)
                    if next_beat + pending / 1000.0 > t_note:
                        break
                    next_beat += pending / 1000.0
                    if self._resident.skin_contact(next_beat):
                        beat_times.append(next_beat)
                        rrs.append(pending)
                    pending = None
                contact = self._resident.skin_contact(t_note)
                bpm = round(60000.0 / rrs[-1]) if (rrs and contact) else np.nan
                # Beats first: the heart-rate chunk's time says the strap has delivered up to
                # there, so its beats must already be in when the runner sees it.
                if rrs:
                    yield Chunk(rr_info, origin + np.array(beat_times), np.array(rrs)[:, None])
                yield Chunk(hr_info, np.array([origin + t_note]), np.array([[bpm]]))
        finally:
            self.state = SourceState.STOPPED
            clock.leave()
