"""Labelled studies: dataset manifests, simulation, import, export and batch feature extraction."""

from addiction_index.datasets._bids import ExportReport, export_bids
from addiction_index.datasets._extract import (
    ExtractionResult,
    RecordingOutcome,
    extract_dataset,
    load_hop_tables,
)
from addiction_index.datasets._import import IMPORT_FORMATS, ImportReport, import_recordings
from addiction_index.datasets._manifest import (
    Dataset,
    DatasetCatalog,
    RecordingEntry,
    SkippedFile,
    datasets_root,
    file_sha256,
)
from addiction_index.datasets._mapping import MappingFile, load_mapping
from addiction_index.datasets._simulate import block_latent_craving, simulate_study
from addiction_index.datasets._tables import block_table, delta_kind, session_table

__all__ = [
    "IMPORT_FORMATS",
    "Dataset",
    "DatasetCatalog",
    "ExportReport",
    "ExtractionResult",
    "ImportReport",
    "MappingFile",
    "RecordingEntry",
    "RecordingOutcome",
    "SkippedFile",
    "block_latent_craving",
    "block_table",
    "datasets_root",
    "delta_kind",
    "export_bids",
    "extract_dataset",
    "file_sha256",
    "import_recordings",
    "load_hop_tables",
    "load_mapping",
    "session_table",
    "simulate_study",
]
