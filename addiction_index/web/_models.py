"""Pydantic response models of the JSON API (they make the OpenAPI schema)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = [
    "AuditEntry",
    "BackupHealth",
    "DatabaseHealth",
    "DeviceHealth",
    "DiskHealth",
    "Health",
    "LiveHealth",
    "Me",
    "OverrideRequest",
    "OverrideResult",
    "PrescriptionCard",
    "ResidentDetail",
    "ResidentRow",
    "SessionReport",
    "SessionRow",
    "WriteErrorHealth",
]


class DatabaseHealth(BaseModel):
    answers: bool
    latency_ms: float | None = Field(None, description="round trip of SELECT 1, ms")
    revision: str | None = Field(None, description="the database's schema revision")
    head: str = Field(description="the newest schema revision of this version")
    up_to_date: bool = False
    status: str
    error: str | None = Field(None, description="the error's type when it does not answer")


class DiskHealth(BaseModel):
    folder: str = Field(description="data (the data folder) or database (the database's)")
    free_bytes: int | None = None
    total_bytes: int | None = None
    free_pct: float | None = None
    status: str = Field(description="warning under 10 % free, error under 2 %")
    error: str | None = None


class DeviceHealth(BaseModel):
    name: str = Field(description="the device, e.g. sim-muse-2 (never the resident)")
    state: str


class LiveHealth(BaseModel):
    assessments_running: int = 0
    exercises_running: int = 0
    devices: list[DeviceHealth] = Field(default_factory=list)


class BackupHealth(BaseModel):
    last: dict[str, Any] | None = None
    note: str | None = None
    status: str = "ok"


class WriteErrorHealth(BaseModel):
    age_s: float = Field(description="seconds since a live session failed to write")
    error: str = Field(description='e.g. "database or disk is full", "readonly database"')
    status: str


class Health(BaseModel):
    status: str = Field(description="ok, warning (200) or error (503): the worst of the parts")
    version: str
    uptime_s: float
    database: DatabaseHealth
    disks: list[DiskHealth]
    live: LiveHealth
    last_write_error: WriteErrorHealth | None = None
    backup: BackupHealth


class Me(BaseModel):
    username: str
    role: str
    csrf_token: str = Field(description="send back in the X-CSRF-Token header of API POSTs")


class Exercise(BaseModel):
    type: str | None = None
    sessions_per_week: int | None = None
    minutes: list[float] | None = None
    weeks: int | None = None
    zone_bpm: list[float] | None = None
    rpe: list[int] | None = None
    intensity_class: str | None = None


class Music(BaseModel):
    purpose: str | None = None
    timing: str | None = None
    tempo_bpm: list[float] | None = None
    minutes: list[float] | None = None


class PrescriptionCard(BaseModel):
    code: str | None = None
    exercise: Exercise | None
    no_exercise: bool
    music: Music
    overridden: bool


class LastAssessment(BaseModel):
    session_id: int
    day: str
    index: float | None
    confidence: float | None
    status: str | None


class ResidentRow(BaseModel):
    code: str
    last_assessment: LastAssessment | None = None
    prescription: PrescriptionCard | None = None


class ResidentDetail(BaseModel):
    code: str
    prescription: PrescriptionCard | None
    exercise_log: list[dict[str, Any]]
    assessments: list[dict[str, Any]] | None = None
    prescriptions: list[dict[str, Any]] | None = None
    statement: str | None = None


class SessionRow(BaseModel):
    id: int
    subject: str | None = None
    study_code: str | None = None
    day: str
    kind: str
    status: str
    index_value: float | None
    index_confidence: float | None


class SessionReport(BaseModel):
    session: dict[str, Any]
    blocks: list[dict[str, Any]]
    craving_by_block: list[dict[str, Any]]
    signal_quality: list[dict[str, Any]]
    index: dict[str, Any]
    ratings: list[dict[str, Any]]
    prescription: dict[str, Any] | None
    statement: str


class AuditEntry(BaseModel):
    id: int
    at: str
    actor: str
    role: str
    action: str
    target_kind: str | None
    target_id: str | None
    detail: dict[str, Any]


class OverrideRequest(BaseModel):
    changes: dict[str, Any] = Field(description='e.g. {"exercise": {"type": "Tai Chi"}}')
    reason: str = Field(min_length=3, max_length=1000)


class OverrideResult(BaseModel):
    prescription_id: int
    prescription: dict[str, Any]
