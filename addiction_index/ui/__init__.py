"""Terminal views (rich): the live assessment panel and the result tables."""

from addiction_index.ui.live import LiveView
from addiction_index.ui.tables import assessment_tables, session_table, sessions_table

__all__ = ["LiveView", "assessment_tables", "session_table", "sessions_table"]
