"""A whole assessment: store, simulated or real sources, runner, index, prescription.

This is the pipeline every front end calls (the ``demo`` command now; ``assess`` and the web app
later): it opens the store, closes sessions a crash left open, runs the protocol, scores the
session, prescribes from the index, and records each step as it happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from addiction_index import NOT_A_DIAGNOSIS
from addiction_index.devices import (
    ResidentParams,
    SimulatedHeadband,
    SimulatedResident,
    SimulatedStrap,
    load_profile,
)
from addiction_index.devices._source import Source
from addiction_index.errors import ConfigError, InputError, StorageError
from addiction_index.features.spec import load_feature_spec
from addiction_index.models import load_model_definition
from addiction_index.prescriptions import load_rule_set
from addiction_index.resources import content_dir
from addiction_index.sessions._protocol import ScheduledBlock, load_protocol
from addiction_index.sessions._runner import Rater, SessionOutcome, SessionRunner, SessionSink
from addiction_index.sessions._sinks import SimulatedRater, StoreSink
from addiction_index.signals.clock import Clock, HostClock, SimulatedClock
from addiction_index.store import open_store

__all__ = ["AssessmentResult", "ContentFolders", "run_assessment", "run_simulated_assessment"]

_STALE_AFTER_S = 120.0


@dataclass(frozen=True)
class ContentFolders:
    """Where to read device profiles, models and rule sets (None: the shipped defaults)."""

    devices: str | os.PathLike[str] | None = None
    models: str | os.PathLike[str] | None = None
    prescriptions: str | os.PathLike[str] | None = None


@dataclass
class AssessmentResult:
    session_id: int
    subject: str
    database: str
    outcome: SessionOutcome
    prescription: dict[str, Any] | None
    resident: dict[str, Any]
    closed_interrupted: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The machine-readable result printed by ``--json``."""
        o = self.outcome
        return {
            "session_id": self.session_id,
            "subject": self.subject,
            "database": self.database,
            "simulated": bool(self.resident.get("simulated", True)),
            "resident": self.resident,
            "protocol_duration_s": o.duration_s,
            "ratings": o.ratings,
            "resting_hr_bpm": o.resting_hr_bpm,
            "index": o.index.to_dict() | {"block_summaries": None},
            "signal_quality": o.usability,
            "prescription": self.prescription,
            "statement": NOT_A_DIAGNOSIS,
        }


@dataclass(frozen=True)
class _Loaded:
    """Everything a session needs from data files, validated before anything is stored."""

    spec: Any
    definition: Any
    protocol: Any
    rule_set: Any
    programme: Any = None  # prescriptions/programme.yaml
    music_library: Any = None  # the centre's music library (or the shipped example)
    index_model: Any = None  # promoted trained models (Artifact) or None: the default
    craving_model: Any = None


def _prescribe(store: Any, subject: str, age: float | None, outcome: Any, loaded: _Loaded) -> Any:
    """The prescription loop after an assessment: intake facts (the age given here is one),
    the programme so far and this assessment give the next prescription, stored with it.
    None without a resting heart rate or a known age."""
    from addiction_index.prescriptions._programme_loop import prescribe_subject
    from addiction_index.store._programme_store import ProgrammeRecords

    if outcome.resting_hr_bpm is None:
        return None
    records = ProgrammeRecords(store)
    facts = records.record_intake(subject, {"age": age}) if age is not None else {}
    if "age" not in (facts or records.intake(subject)):
        return None
    return prescribe_subject(
        store, subject, loaded.rule_set, loaded.programme, library=loaded.music_library
    )


def _finish(
    store: Any, session_id: int, subject: str, age: float | None, outcome: Any, loaded: _Loaded
) -> Any:
    """Store the completed session's index and block summaries, then prescribe from it."""
    index = outcome.index
    store.add_block_summaries(session_id, index.block_summaries)
    stored_index = index.to_dict() | {
        "signal_quality": outcome.usability,
        "resting_hr_bpm": outcome.resting_hr_bpm,  # the prescription loop reads it back
    }
    store.finish_session(session_id, status="completed", index=stored_index)
    return _prescribe(store, subject, age, outcome, loaded)


def _load(protocol: str, folders: ContentFolders) -> _Loaded:
    spec = load_feature_spec()
    definition = load_model_definition("default-index", folders.models)
    if definition.feature_spec_hash != spec.version_hash():
        raise ConfigError(
            content_dir("models", folders.models) / "default-index.yaml",
            f"the model was made for feature specification {definition.feature_spec_hash}, "
            f"but this code computes {spec.version_hash()}",
            key="feature_spec_hash",
            expected="the hash of the running feature specification",
        )
    from addiction_index.models._trained_index import load_live
    from addiction_index.prescriptions._music import centre_library
    from addiction_index.prescriptions._programme import load_programme_settings

    return _Loaded(
        spec,
        definition,
        load_protocol(protocol),
        load_rule_set(folder=folders.prescriptions),
        load_programme_settings(folder=folders.prescriptions),
        centre_library(folders.prescriptions),
        load_live("index", spec.version_hash()),
        load_live("craving", spec.version_hash()),
    )


async def run_simulated_assessment(
    *,
    subject: str,
    craving: float,
    seed: int = 0,
    speed: float = math.inf,
    protocol: str = "demo",
    db: str | None = None,
    folders: ContentFolders = ContentFolders(),
    reports_craving: bool = True,
    detached_roles: Sequence[str] = (),
    sinks: Sequence[SessionSink] = (),
    on_runner: Any = None,
) -> AssessmentResult:
    """Run one simulated resident through ``protocol`` and store everything; see the module doc."""
    if not 0 <= craving <= 100:
        raise InputError("craving", craving, "a latent craving between 0 and 100")
    # data files are parsed off the event loop (a server's other sessions keep streaming)
    loaded = await asyncio.to_thread(_load, protocol, folders)
    params = ResidentParams.draw(
        seed, craving, reports_craving=reports_craving, detached_roles=tuple(detached_roles)
    )
    resident = SimulatedResident(params)
    clock = SimulatedClock(speed)
    sources = [
        SimulatedHeadband(load_profile("muse-2", folders.devices), resident, clock),
        SimulatedStrap(load_profile("hrm", folders.devices), resident, clock),
    ]

    def show_cues(schedule: list[ScheduledBlock]) -> None:
        origin = schedule[0].start  # the resident lives in session seconds
        resident.timeline.set(
            [(b.start - origin, b.end - origin, str(b.block.role)) for b in schedule]
        )

    result = await _run(
        loaded,
        sources,
        clock,
        subject=subject,
        age=params.age,
        db=db,
        rater=SimulatedRater(resident),
        sinks=sinks,
        presenters=[show_cues],
        seed=seed,
        simulated=True,
        on_runner=on_runner,
    )
    result.resident = {
        "seed": seed,
        "latent_craving": craving,
        "age": params.age,
        "reports_craving": reports_craving,
    }
    return result


async def run_assessment(
    sources: Sequence[Source],
    clock: Clock,
    *,
    subject: str,
    age: int | None,
    protocol: str = "cue-reactivity",
    db: str | None = None,
    folders: ContentFolders = ContentFolders(),
    rater: Rater | None = None,
    sinks: Sequence[SessionSink] = (),
    simulated: bool = False,
    on_runner: Any = None,
) -> AssessmentResult:
    """Run ``protocol`` over any sources (Bluetooth, LSL, a replayed file) and store everything.

    Without ``age`` no exercise zone can be set, so no prescription is made.
    """
    if age is not None and not 12 <= age <= 100:
        raise InputError("age", age, "an age in years between 12 and 100")
    # data files are parsed off the event loop (a server's other sessions keep streaming)
    loaded = await asyncio.to_thread(_load, protocol, folders)
    return await _run(
        loaded,
        sources,
        clock,
        wait_for_beats=not isinstance(clock, HostClock),
        subject=subject,
        age=age,
        db=db,
        rater=rater,
        sinks=sinks,
        presenters=[],
        seed=0,
        simulated=simulated,
        on_runner=on_runner,
    )


async def _run(
    loaded: _Loaded,
    sources: Sequence[Source],
    clock: Clock,
    *,
    subject: str,
    age: int | None,
    db: str | None,
    rater: Rater | None,
    sinks: Sequence[SessionSink],
    presenters: list[Any],
    seed: int,
    simulated: bool,
    on_runner: Any,
    wait_for_beats: bool = True,
) -> AssessmentResult:
    spec, definition, proto = loaded.spec, loaded.definition, loaded.protocol
    store = await asyncio.to_thread(open_store, db)
    try:
        closed = await asyncio.to_thread(store.close_interrupted, stale_after=_STALE_AFTER_S)
        session_id = await asyncio.to_thread(
            store.start_session,
            subject,
            protocol_name=proto.name,
            protocol_version=proto.version,
            clock_origin=clock.now(),
            model_name=loaded.index_model.name if loaded.index_model else definition.name,
            model_version=(
                str(loaded.index_model.meta.get("created", ""))
                if loaded.index_model
                else definition.version
            ),
            feature_spec_hash=spec.version_hash(),
            seed=seed if simulated else None,
            simulated=simulated,
            meta={
                "devices": [s.name for s in sources],
                "blocks": [
                    {"id": b.id, "role": str(b.role), "duration_s": b.duration_s}
                    for b in proto.blocks
                ],
            },
        )
        runner = SessionRunner(
            proto,
            sources,
            definition=definition,
            spec=spec,
            clock=clock,
            rater=rater,
            sinks=[StoreSink(store, session_id), *sinks],
            presenters=presenters,
            wait_for_beats=wait_for_beats,
            index_model=loaded.index_model,
            craving_model=loaded.craving_model,
        )
        if on_runner is not None:
            on_runner(runner)
        try:
            outcome = await runner.run()
        except BaseException:
            # a store that cannot be written (disk full, read-only) cannot record this either:
            # the session stays "running" until the next start closes it; the first error wins
            with contextlib.suppress(StorageError):
                store.finish_session(session_id, status="interrupted")
            raise
        prescription = await asyncio.to_thread(
            _finish, store, session_id, subject, age, outcome, loaded
        )
        return AssessmentResult(
            session_id,
            subject,
            store.url,
            outcome,
            prescription,
            {"age": age, "simulated": simulated},
            closed,
        )
    finally:
        store.close()
