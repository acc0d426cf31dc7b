"""A simulated study: residents and controls, one XDF recording each, with ground-truth labels.

:func:`simulate_study` draws people from ``simulation.yaml`` (:class:`ResidentParams.draw`) and
synthesises what the simulated headband and strap would record during the protocol, directly
(no session runner, no clock): EEG in the headband's packets, heartbeats beat by beat, the heart
rate the strap notifies every second, and the protocol markers a real session writes
(``session_start``, ``rating`` with the resident's VAS value, ``block_start``/``block_end``
with the block id and role, ``cue``). The file is what
:class:`~addiction_index.store.recording.XdfRecorder` writes during a session, with a fixed
header time, so the same seed gives byte-identical files.

Labels of each recording (``RecordingEntry.labels``):

- ``group``: ``resident`` or ``control``; ``diagnosis``: 1 or 0;
- ``latent_craving``: the person's latent craving c (0-100): residents uniform in
  [``craving_min``, ``craving_max``] (default 10-90), controls 0;
- ``reports_craving``: False for residents who rate 0 whatever they feel (EVIDENCE 1.3: 54 % of
  residents in compulsory rehabilitation rate zero craving; the share here is
  ``non_reporting``, default 0.2);
- ``days_abstinent``: residents uniform 7-365 days, controls None (not applicable).

Block labels (``RecordingEntry.block_labels[block id]``):

- ``vas_craving``: the rating the resident gave for the block (``rate_craving(moment)``), for
  blocks with a rating (demo: ``neutral`` pre-cue, ``drug`` post-cue);
- ``latent_craving`` for every block, the craving the simulator's model holds during it: the
  drug block c (cue effects scale with c/100, the post-cue rating's mean is c); the neutral block
  ``pre_cue_fraction`` × c (the mean of the pre-cue rating; the physiology is at its neutral
  level); baseline and recovery 0 (no cue is shown and the cue reaction targets 0; recovery still
  carries the decaying tail of the drug reaction, time constant ``offset_tau_s``).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from addiction_index._progress import counting_bar
from addiction_index.datasets._manifest import Dataset, DatasetCatalog, RecordingEntry, file_sha256
from addiction_index.datasets._xdf_write import write_xdf
from addiction_index.devices._profiles import load_profile
from addiction_index.devices._resident import ResidentParams, SimulatedResident, simulation_settings
from addiction_index.errors import InputError
from addiction_index.sessions._protocol import Protocol, ScheduledBlock, load_protocol
from addiction_index.signals.streams import Chunk, Marker, StreamInfo

__all__ = ["SimulatedPerson", "block_latent_craving", "simulate_recording", "simulate_study"]

_HEADBAND, _STRAP = "muse-2", "hrm"
_EEG_CHUNK_PACKETS = 64  # packets generated per call (the resident's output does not depend on it)


@dataclass(frozen=True)
class SimulatedPerson:
    """One simulated participant: subject code, group and latent traits."""

    subject: str
    group: str  # resident | control
    seed: int
    craving: float
    reports_craving: bool
    days_abstinent: int | None


def block_latent_craving(role: str, craving: float) -> float:
    """The latent craving the simulator's model holds during a block of ``role`` (module doc)."""
    fraction = float(simulation_settings()["ratings"]["pre_cue_fraction"])
    return {"drug": craving, "neutral": fraction * craving}.get(role, 0.0)


def _people(
    residents: int, controls: int, seed: int, non_reporting: float
) -> list[SimulatedPerson]:
    rng = np.random.default_rng([seed, 7])
    out = []
    for i in range(residents + controls):
        resident = i < residents
        person_seed = int(np.random.SeedSequence([seed, i]).generate_state(1)[0] % 1_000_000)
        craving = round(float(rng.uniform(10.0, 90.0)), 1) if resident else 0.0
        reports = bool(rng.uniform() >= non_reporting) if resident else True
        days = int(rng.integers(7, 366)) if resident else None
        group = "resident" if resident else "control"
        out.append(SimulatedPerson(f"S{i + 1:03d}", group, person_seed, craving, reports, days))
    return out


def _markers(schedule: list[ScheduledBlock], protocol: Protocol, resident: SimulatedResident):
    """The markers a session writes (``_runner._timeline_markers``), ratings filled in."""
    out = [Marker(schedule[0].start, "session_start", meta={"protocol": protocol.name})]
    timeline: list[Marker] = []
    for sb in schedule:
        b = sb.block
        if b.rating_before:
            timeline.append(Marker(sb.start, "rating", b.id, meta={"moment": b.rating_before}))
        timeline.append(Marker(sb.start, "block_start", b.id, meta={"role": str(b.role)}))
        if b.cues is not None:
            for i in range(int(b.duration_s // b.cues.seconds_per_cue)):
                t = sb.start + i * b.cues.seconds_per_cue
                timeline.append(Marker(t, "cue", b.id, meta={"set": b.cues.set, "number": i + 1}))
        timeline.append(Marker(sb.end, "block_end", b.id, meta={"role": str(b.role)}))
        if b.rating_after:
            timeline.append(Marker(sb.end, "rating", b.id, meta={"moment": b.rating_after}))
    timeline.sort(key=lambda m: m.timestamp)  # stable, as the runner
    for m in timeline:  # ratings in time order: the resident's rating noise is drawn in order
        if m.label == "rating":
            value = resident.rate_craving(str(m.meta["moment"]))
            m = Marker(m.timestamp, "rating", m.block, float(value), m.meta)
        out.append(m)
    return out


def _eeg_chunks(resident: SimulatedResident, duration_s: float, origin: float) -> Iterator[Chunk]:
    eeg = load_profile(_HEADBAND).stream("eeg")
    info: StreamInfo = eeg.stream_info(f"sim-{_HEADBAND}")
    n_total = round(duration_s * eeg.rate_hz)
    step = int(eeg.samples_per_packet or 1) * _EEG_CHUNK_PACKETS
    full_scale = eeg.full_scale_uv or np.inf
    sent = 0
    while sent < n_total:
        n = min(step, n_total - sent)
        samples = resident.eeg(sent / eeg.rate_hz, n)
        np.clip(samples, -full_scale, full_scale, out=samples)
        stamps = origin + (sent + np.arange(n)) / eeg.rate_hz
        yield Chunk(info, stamps, samples)
        sent += n


def _heart_chunks(resident: SimulatedResident, duration_s: float, origin: float) -> list[Chunk]:
    """Beats (RR ms at the closing beat's time) and a heart-rate notification per second."""
    profile = load_profile(_STRAP)
    hr, rr = profile.stream("hr"), profile.stream("rr")
    device = f"sim-{_STRAP}"
    hr_info, rr_info = hr.stream_info(device), rr.stream_info(device)
    interval = float(hr.packet_interval_s or 1.0)
    beat_times, rrs = [], []
    t = 0.5  # session seconds of the last completed beat (as the simulated strap)
    while True:
        rr_ms = resident.next_rr_ms(t)
        if t + rr_ms / 1000.0 > duration_s:
            break
        t += rr_ms / 1000.0
        if resident.skin_contact(t):
            beat_times.append(t)
            rrs.append(rr_ms)
    times, values = np.array(beat_times), np.array(rrs)
    notes = np.arange(interval, duration_s + 1e-9, interval)
    latest = np.searchsorted(times, notes, side="right") - 1
    bpm = np.where(latest >= 0, np.round(60000.0 / values[np.maximum(latest, 0)]), np.nan)
    contact = np.array([resident.skin_contact(float(x)) for x in notes])
    bpm[~contact] = np.nan
    return [
        Chunk(rr_info, origin + times, values[:, None]),
        Chunk(hr_info, origin + notes, bpm[:, None]),
    ]


def simulate_recording(
    path: Path, person: SimulatedPerson, protocol: Protocol
) -> dict[str, dict[str, float | int | str | bool | None]]:
    """Write ``person``'s recording of ``protocol`` to ``path``; return its block labels."""
    params = ResidentParams.draw(
        person.seed, person.craving, reports_craving=person.reports_craving
    )
    resident = SimulatedResident(params)
    origin = 0.0  # host seconds of the session start (the recorder only needs one clock)
    schedule = protocol.schedule(origin)
    resident.timeline.set([(b.start - origin, b.end - origin, str(b.block.role)) for b in schedule])
    markers = _markers(schedule, protocol, resident)
    duration = protocol.duration_s
    chunks = [*_eeg_chunks(resident, duration, origin), *_heart_chunks(resident, duration, origin)]
    write_xdf(path, chunks, markers)
    blocks: dict[str, dict[str, float | int | str | bool | None]] = {
        b.id: {"latent_craving": block_latent_craving(str(b.role), person.craving)}
        for b in protocol.blocks
    }
    for m in markers:
        if m.label == "rating" and m.block is not None:
            blocks[m.block]["vas_craving"] = m.value
    return blocks


def simulate_study(
    catalog: DatasetCatalog,
    name: str,
    residents: int = 40,
    controls: int = 20,
    seed: int = 1,
    protocol: str = "demo",
    progress: bool = True,
    *,
    non_reporting: float = 0.2,
    overwrite: bool = False,
    workers: int | None = None,
) -> Dataset:
    """Simulate a study into dataset ``name`` of ``catalog`` and save its manifest.

    Writes ``<dataset>/recordings/sub-SXXX_ses-1.xdf`` for ``residents`` residents (subject
    codes ``S001``…) followed by ``controls`` controls; labels as in the module doc. Deterministic
    in ``seed`` (files are byte-identical). ``progress`` shows a progress bar on stderr. An
    existing dataset of that name is an error unless ``overwrite``. People are simulated in
    ``workers`` processes (default: one per CPU); the result does not depend on it.
    """
    if residents < 0 or controls < 0 or residents + controls == 0:
        raise InputError("residents/controls", (residents, controls), "counts >= 0, not both 0")
    if not 0.0 <= non_reporting <= 1.0:
        raise InputError("non_reporting", non_reporting, "a share between 0 and 1")
    proto = load_protocol(protocol)
    folder = catalog.folder(name)
    if catalog.exists(name) and not overwrite:
        raise InputError("name", name, f"a new dataset name ({folder} exists; use overwrite)")
    recordings = folder / "recordings"
    recordings.mkdir(parents=True, exist_ok=True)
    people = _people(residents, controls, seed, non_reporting)
    jobs = [(folder, person, proto) for person in people]
    n_workers = max(1, min(workers or os.cpu_count() or 1, len(people)))
    started = time.perf_counter()
    done: dict[str, RecordingEntry] = {}
    with counting_bar(progress, len(people), f"simulating {name}", "people") as advance:
        if n_workers == 1:
            for job in jobs:
                entry = _simulate_entry(job)
                done[entry.subject] = entry
                advance()
        else:
            with ProcessPoolExecutor(n_workers, mp_context=_mp_context()) as pool:
                for entry in pool.map(_simulate_entry, jobs):
                    done[entry.subject] = entry
                    advance()
    entries = [done[p.subject] for p in people]
    elapsed = time.perf_counter() - started
    dataset = Dataset(
        name=name,
        source="simulated",
        description=(
            f"Simulated study: {residents} residents, {controls} controls, protocol "
            f"{proto.name} {proto.version}, seed {seed}."
        ),
        recordings=entries,
        provenance={
            "seed": seed,
            "protocol": proto.name,
            "protocol_version": proto.version,
            "residents": residents,
            "controls": controls,
            "non_reporting": non_reporting,
            "seconds_per_person": round(elapsed / len(people), 3),
            "latent_craving_definition": (
                "drug block: c; neutral block: pre_cue_fraction*c; baseline/recovery: 0"
            ),
        },
    )
    catalog.save(dataset)
    return dataset


def _simulate_entry(job: tuple[Path, SimulatedPerson, Protocol]) -> RecordingEntry:
    """Simulate one person into the dataset folder and describe the file (runs in a worker)."""
    folder, person, proto = job
    rel = Path("recordings") / f"sub-{person.subject}_ses-1.xdf"
    path = folder / rel
    path.unlink(missing_ok=True)
    blocks = simulate_recording(path, person, proto)
    return RecordingEntry(
        id=f"sub-{person.subject}_ses-1",
        subject=person.subject,
        session="1",
        path=rel.as_posix(),
        format="xdf",
        sha256=file_sha256(path),
        labels={
            "group": person.group,
            "diagnosis": int(person.group == "resident"),
            "latent_craving": person.craving,
            "reports_craving": person.reports_craving,
            "days_abstinent": person.days_abstinent,
        },
        block_labels=blocks,
    )


def _mp_context() -> multiprocessing.context.BaseContext:
    """Fork where available (workers inherit the imported libraries), else the default."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)
