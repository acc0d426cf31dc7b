"""A session sink that publishes the live session as Lab Streaming Layer outlets.

Any LSL tool (LabRecorder, a viewer, another lab's analysis) can then record or follow a session:
the raw streams as they arrive, the live features, the live craving score and the markers. Outlets
are created lazily, one per stream, with channel labels and units in their description and a
source_id derived from the outlet's name (and this host's name), so that an inlet recovers the
same stream after a restart of the gateway. Timestamps are the session's host timestamps,
converted to the LSL clock (the same clock on Linux:
:func:`~addiction_index.devices._lsl.host_clock_offset`).
"""

from __future__ import annotations

import functools
import json
import math
import socket
import threading
from collections.abc import Callable, Sequence

import numpy as np
import pylsl

from addiction_index import __version__
from addiction_index.devices._lsl import host_clock_offset
from addiction_index.errors import DeviceError, InputError
from addiction_index.features.filters import StreamingFilter, design_eeg_filters
from addiction_index.features.spec import FeatureSpec, load_feature_spec
from addiction_index.sessions._runner import HopRecord
from addiction_index.signals.streams import Chunk, Marker, StreamInfo, StreamKind

__all__ = ["LIVE_FEATURES", "LslPublisher"]

#: The features published live, one channel each, in this order (units from the feature spec):
#: the frontal (AF7, AF8) and temporal (TP9, TP10) mean relative powers of the five bands,
#: frontal alpha asymmetry, mean heart rate and RMSSD. NaN when a feature is missing.
LIVE_FEATURES: tuple[str, ...] = (
    *(
        f"eeg_rel_{band}_{region}"
        for band in ("delta", "theta", "alpha", "beta", "gamma")
        for region in ("frontal", "temporal")
    ),
    "eeg_faa",
    "hr_mean_bpm",
    "hrv_rmssd_ms",
)

# LSL content types by stream kind (XDF conventions where they exist); LslSource reads them back.
_LSL_TYPES = {
    StreamKind.EEG: "EEG",
    StreamKind.ECG: "ECG",
    StreamKind.PPG: "PPG",
    StreamKind.ACC: "ACC",
    StreamKind.HR: "HR",
    StreamKind.RR: "RR",
    StreamKind.MARKER: "Markers",
}


class LslPublisher:
    """Publishes raw chunks, live features, live craving and markers; see the module docstring.

    Outlets (``prefix`` names the derived ones):

    - each raw stream received by :meth:`on_chunk`: its own name, LSL type from its kind
      (EEG, ECG, PPG, ACC, HR, RR, Markers), its rate, channels and units; double64;
    - ``<prefix>-features`` (type ``Features``, 1 / hop s): ``features`` (default
      :data:`LIVE_FEATURES`), each a channel with its unit from the feature spec; the spec's
      version hash is in ``desc/feature_spec``;
    - ``<prefix>-craving`` (type ``Craving``, 1 / hop s): ``craving`` (0-100, NaN before the
      baseline is scored) and ``confidence`` (0-1);
    - ``<prefix>-markers`` (type ``Markers``, irregular, string): ``label`` and ``info``, the
      JSON object ``{"block", "value", "meta"}``;
    - ``<stream>-filtered`` for each EEG stream: the same samples and timestamps through the
      spec's causal display filters (band-pass and mains notch, ``eeg.display_filter``), state
      carried from chunk to chunk, for viewers that want clean traces.

    ``on_*`` are called on the session's loop and only push (liblsl sends from its own threads);
    creating an outlet, once per stream, takes a few milliseconds. :meth:`flush` does nothing
    (pushes are sent at once). :meth:`close` releases the outlets; later calls are ignored.
    """

    def __init__(
        self,
        prefix: str = "addiction-index",
        *,
        features: Sequence[str] = LIVE_FEATURES,
        spec: FeatureSpec | None = None,
    ) -> None:
        if not prefix:
            raise InputError("prefix", prefix, "a non-empty outlet name prefix")
        self.prefix = prefix
        self.spec = spec if spec is not None else load_feature_spec()
        registry = self.spec.registry
        unknown = [f for f in features if f not in registry]
        if unknown or not features:
            raise InputError("features", unknown or features, "names of registered features")
        self.features = tuple(features)
        self.features_name = f"{prefix}-features"
        self.craving_name = f"{prefix}-craving"
        self.markers_name = f"{prefix}-markers"
        self._outlets: dict[str, pylsl.StreamOutlet] = {}
        self._filters: dict[str, StreamingFilter] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._host = socket.gethostname()

    # -- the sink ------------------------------------------------------------------------------
    def open(self, streams: Sequence[StreamInfo] = ()) -> None:
        """Create the features, craving and markers outlets and one per stream in ``streams`` now.

        Optional: outlets are otherwise created on first use, and an LSL inlet only receives what
        is pushed after it connects, so opening early lets a recorder catch the first samples.
        """
        for s in streams:
            self._push(s.name, functools.partial(self._raw_info, s), None)
            if s.kind is StreamKind.EEG and s.nominal_rate > 0:
                name = f"{s.name}-filtered"
                self._push(name, functools.partial(self._raw_info, s, name), None)
        self._push(self.features_name, self._features_info, None)
        self._push(self.craving_name, self._craving_info, None)
        self._push(self.markers_name, self._markers_info, None)

    def on_chunk(self, chunk: Chunk) -> None:
        """Push a raw chunk with its own timestamps."""
        if len(chunk) == 0:
            return
        s = chunk.stream
        samples = np.ascontiguousarray(chunk.samples, dtype=np.float64)
        times = (chunk.timestamps - host_clock_offset()).tolist()
        self._push(
            s.name, functools.partial(self._raw_info, s), lambda o: o.push_chunk(samples, times)
        )
        if s.kind is StreamKind.EEG and s.nominal_rate > 0:
            filtered = np.array(self._filter(s).process(samples))
            self._push(
                f"{s.name}-filtered",
                functools.partial(self._raw_info, s, f"{s.name}-filtered"),
                lambda o: o.push_chunk(filtered, times),
            )

    def _filter(self, s: StreamInfo) -> StreamingFilter:
        """The stream's display filter, created on its first chunk (state kept per stream)."""
        flt = self._filters.get(s.name)
        if flt is None:
            d = self.spec.content.eeg.display_filter
            notch = [f for f in d.notch_hz if f < s.nominal_rate / 2]
            sos = design_eeg_filters(s.nominal_rate, notch, d.band_hz, d.order, d.notch_q)
            flt = self._filters[s.name] = StreamingFilter(sos, s.n_channels)
        return flt

    def on_hop(self, hop: HopRecord) -> None:
        """Push the hop's features and its craving score, both at the hop's time."""
        t = hop.t - host_clock_offset()
        row = [float(hop.features.get(name, math.nan)) for name in self.features]
        self._push(self.features_name, self._features_info, lambda o: o.push_sample(row, t))
        c = hop.craving
        score = [math.nan if c.value is None else float(c.value), float(c.confidence)]
        self._push(self.craving_name, self._craving_info, lambda o: o.push_sample(score, t))

    def on_marker(self, marker: Marker) -> None:
        """Push the marker's label and a JSON object of its block, value and meta."""
        value = marker.value if marker.value is not None and math.isfinite(marker.value) else None
        info = {"block": marker.block, "value": value, "meta": marker.meta}
        sample = [marker.label, json.dumps(info, default=str, sort_keys=True)]
        t = marker.timestamp - host_clock_offset()
        self._push(self.markers_name, self._markers_info, lambda o: o.push_sample(sample, t))

    def flush(self) -> None:
        """Nothing to do: samples are sent as they are pushed."""

    def close(self) -> None:
        """Release every outlet (inlets see the streams end); further calls are ignored."""
        with self._lock:
            self._closed = True
            outlets, self._outlets = self._outlets, {}
        outlets.clear()  # pylsl destroys an outlet with its last reference

    def __enter__(self) -> LslPublisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def published(self) -> list[str]:
        """Names of the outlets created so far."""
        with self._lock:
            return list(self._outlets)

    def source_id(self, outlet_name: str) -> str:
        """The source_id of the outlet called ``outlet_name``: ``<prefix>:<name>@<host name>``.

        Stable across restarts of this gateway, so LSL inlets recover the stream; distinct for
        two gateways, or two publishers with different prefixes, on one network.
        """
        return f"{self.prefix}:{outlet_name}@{self._host}"

    # -- outlets -------------------------------------------------------------------------------
    def _push(
        self,
        name: str,
        make_info: Callable[[], pylsl.StreamInfo],
        push: Callable[[pylsl.StreamOutlet], None] | None,
    ) -> None:
        with self._lock:
            if self._closed:
                return
            try:
                outlet = self._outlets.get(name)
                if outlet is None:
                    outlet = self._outlets[name] = pylsl.StreamOutlet(make_info())
                if push is not None:
                    push(outlet)
            except (RuntimeError, ValueError, TypeError) as exc:
                raise DeviceError(f"lsl-outlet:{name}", f"cannot publish: {exc}") from exc

    def _info(
        self,
        name: str,
        lsl_type: str,
        rate: float,
        channels: Sequence[str],
        units: Sequence[str],
        channel_format: int = pylsl.cf_double64,
    ) -> pylsl.StreamInfo:
        info = pylsl.StreamInfo(
            name, lsl_type, len(channels), rate, channel_format, self.source_id(name)
        )
        desc = info.desc()
        nodes = desc.append_child("channels")
        for label, unit in zip(channels, units, strict=True):
            node = nodes.append_child("channel")
            node.append_child_value("label", label)
            node.append_child_value("unit", unit)
            node.append_child_value("type", lsl_type)
        acquisition = desc.append_child("acquisition")
        acquisition.append_child_value("software", "addiction-index")
        acquisition.append_child_value("version", __version__)
        return info

    def _raw_info(self, s: StreamInfo, name: str | None = None) -> pylsl.StreamInfo:
        outlet = name if name is not None else s.name
        info = self._info(outlet, _LSL_TYPES[s.kind], s.nominal_rate, s.channels, s.units)
        info.desc().child("acquisition").append_child_value("device", s.device)
        return info

    def _features_info(self) -> pylsl.StreamInfo:
        registry = self.spec.registry
        units = [registry[f].unit for f in self.features]
        info = self._info(self.features_name, "Features", 1 / self.spec.hop_s, self.features, units)
        info.desc().append_child_value("feature_spec", self.spec.version_hash())
        return info

    def _craving_info(self) -> pylsl.StreamInfo:
        rate = 1 / self.spec.hop_s
        return self._info(
            self.craving_name, "Craving", rate, ("craving", "confidence"), ("0-100", "1")
        )

    def _markers_info(self) -> pylsl.StreamInfo:
        return self._info(
            self.markers_name, "Markers", 0.0, ("label", "info"), ("", "json"), pylsl.cf_string
        )
