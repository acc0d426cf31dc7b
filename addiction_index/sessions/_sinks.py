"""Session sinks and raters that the runner feeds: the session store, and a simulated rater."""

from __future__ import annotations

import threading

from addiction_index.devices._resident import SimulatedResident
from addiction_index.sessions._runner import HopRecord
from addiction_index.signals.streams import Marker
from addiction_index.store import SessionStore

__all__ = ["SimulatedRater", "StoreSink"]


class StoreSink:
    """Buffers markers, live craving scores and per-hop signal quality (kinds ``quality_<channel>``
    and ``quality_heart``: the flag bits, usable when 0) and writes them on :meth:`flush`.

    The runner flushes about once a second (from its worker thread), so a crash loses at most the
    last second of scores and markers; the rest is already committed. A write that fails keeps
    its rows for the next flush and raises (the store's :class:`StorageError`): nothing is
    dropped silently.
    """

    def __init__(self, store: SessionStore, session_id: int) -> None:
        self.store, self.session_id = store, session_id
        self._markers: list[Marker] = []
        self._scores: list[tuple[float, str, float | None, float | None, bool]] = []
        self._lock = threading.Lock()

    def on_marker(self, marker: Marker) -> None:
        with self._lock:
            self._markers.append(marker)

    def on_hop(self, hop: HopRecord) -> None:
        c = hop.craving
        rows = [(hop.t, "craving", c.value, c.confidence, c.usable)]
        for name, flags in hop.features.items():  # the hop's quality, as stored "scores"
            if name.startswith("eeg_quality_") or name == "heart_quality":
                kind = "quality_" + name.removeprefix("eeg_quality_").removesuffix("_quality")
                rows.append((hop.t, kind, flags, None, flags == 0.0))
        with self._lock:
            self._scores.extend(rows)

    def flush(self) -> None:
        with self._lock:
            markers, self._markers = self._markers, []
            scores, self._scores = self._scores, []
        try:
            if markers:
                self.store.add_markers(self.session_id, markers)
                markers = []
            if scores:
                self.store.add_scores(self.session_id, scores)
        except BaseException:
            # not written (a full disk, a read-only file): kept for the next flush, and the
            # StorageError (naming the database) goes up to the runner, which stops the session
            with self._lock:
                self._markers[:0] = markers
                self._scores[:0] = scores
            raise


class SimulatedRater:
    """The simulated resident answers the craving VAS (0-100) when the protocol asks."""

    def __init__(self, resident: SimulatedResident) -> None:
        self.resident = resident

    async def rate(self, moment: str, t: float) -> float | None:
        return self.resident.rate_craving(moment)
