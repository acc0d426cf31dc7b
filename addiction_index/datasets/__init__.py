"""Labelled studies: dataset manifests, simulation, import, export and batch feature extraction."""

from addiction_index.datasets._manifest import (
    Dataset,
    DatasetCatalog,
    RecordingEntry,
    SkippedFile,
    datasets_root,
    file_sha256,
)

__all__ = [
    "Dataset",
    "DatasetCatalog",
    "RecordingEntry",
    "SkippedFile",
    "datasets_root",
    "file_sha256",
]
