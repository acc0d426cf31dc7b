"""MkDocs hook: add the reference pages generated from the code to the build.

The pages are made by :func:`addiction_index._docs.generated_pages` (the feature registry, the
rule language with the default rule set, and where each EVIDENCE item is cited) and added to the
build as generated files: nothing is written into ``docs/``, so there is nothing to commit or to
keep in step.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent


def on_files(files: Files, config) -> Files:
    """Add every generated page (replacing a file of the same path, if any)."""
    if str(ROOT) not in sys.path:  # a checkout that is not installed
        sys.path.insert(0, str(ROOT))
    from addiction_index._docs import generated_pages

    for uri, text in generated_pages(ROOT).items():
        existing = files.get_file_from_path(uri)
        if existing is not None:
            files.remove(existing)
        files.append(File.generated(config, uri, content=text))
    return files
