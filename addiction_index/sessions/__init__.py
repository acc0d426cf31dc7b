"""Assessment protocols, the session runner, its sinks, and the whole assessment pipeline."""

from addiction_index.sessions._assessment import (
    AssessmentResult,
    ContentFolders,
    run_assessment,
    run_simulated_assessment,
)
from addiction_index.sessions._protocol import (
    BlockRole,
    Protocol,
    ProtocolBlock,
    ScheduledBlock,
    list_protocols,
    load_protocol,
)
from addiction_index.sessions._runner import (
    HopRecord,
    Rater,
    SessionOutcome,
    SessionRunner,
    SessionSink,
)

__all__ = [
    "AssessmentResult",
    "BlockRole",
    "ContentFolders",
    "HopRecord",
    "Protocol",
    "ProtocolBlock",
    "Rater",
    "ScheduledBlock",
    "SessionOutcome",
    "SessionRunner",
    "SessionSink",
    "list_protocols",
    "load_protocol",
    "run_assessment",
    "run_simulated_assessment",
]
