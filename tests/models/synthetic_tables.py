"""Synthetic block and session tables with a known latent craving per subject.

Each subject has a trait craving level (higher with ``label:diagnosis`` = 1); each block's latent
craving is that level times a block factor plus noise; the rated VAS is the latent plus noise.
Feature changes (``delta:``, ``cue:``) depend on the latent craving, plus a per-subject random
offset (constant within the subject: what a row-level split can memorise), plus noise.
``delta:eeg_paf_frontal`` / ``cue:eeg_paf_frontal`` is a pure subject fingerprint: identity
correlated, unrelated to craving.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BLOCKS = {"baseline": 0.3, "neutral": 0.5, "drug": 1.0, "recovery": 0.6}
# feature → (change per unit latent/100, per-subject offset sd, noise sd)
FEATURES = {
    "eeg_rel_alpha_frontal": (-0.5, 0.08, 0.06),
    "eeg_rel_beta_frontal": (0.4, 0.08, 0.06),
    "hrv_rmssd_ms": (-0.4, 0.08, 0.06),
    "hr_mean_bpm": (0.05, 0.01, 0.01),
}
FINGERPRINT = "eeg_paf_frontal"


def make_tables(
    n_subjects: int = 40, seed: int = 0, sessions: int = 2, missing: float = 0.03
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(block table, session table) following the models' input contract."""
    rng = np.random.default_rng(seed)
    blocks, sessions_rows = [], []
    for s in range(n_subjects):
        subject = f"S{s:03d}"
        diagnosis = int(s % 2 == 0)
        level = float(np.clip(25 + 40 * diagnosis + rng.normal(0, 12), 0, 100))
        offsets = {f: rng.normal(0, sd) for f, (_, sd, _) in FEATURES.items()}
        fingerprint = rng.normal(0, 1.0)
        for k in range(sessions):
            recording = f"sub-{subject}_ses-{k + 1}"
            latent = {
                b: float(np.clip(level * factor + rng.normal(0, 4), 0, 100))
                for b, factor in BLOCKS.items()
            }
            vas = {b: float(np.clip(v + rng.normal(0, 8), 0, 100)) for b, v in latent.items()}
            for b in BLOCKS:
                row: dict[str, object] = {
                    "subject": subject,
                    "session": str(k + 1),
                    "recording": recording,
                    "block": b,
                    "hops": 480,
                    "usable": 0.95,
                }
                change = (latent[b] - latent["baseline"]) / 100.0
                for f, (coef, _, noise) in FEATURES.items():
                    row[f] = 1.0 + coef * latent[b] / 100.0
                    value = 0.0 if b == "baseline" else coef * change + offsets[f]
                    value += 0.0 if b == "baseline" else rng.normal(0, noise)
                    row[f"delta:{f}"] = np.nan if rng.random() < missing else value
                row[f"delta:{FINGERPRINT}"] = (
                    0.0 if b == "baseline" else fingerprint + rng.normal(0, 0.02)
                )
                row["label:vas_craving"] = np.nan if b == "baseline" else vas[b]
                row["label:latent_craving"] = latent[b]
                row["label:diagnosis"] = diagnosis
                row["label:group"] = "patient" if diagnosis else "control"
                blocks.append(row)
            cue = (latent["drug"] - latent["neutral"]) / 100.0
            srow: dict[str, object] = {
                "subject": subject,
                "session": str(k + 1),
                "recording": recording,
            }
            for f, (coef, _, noise) in FEATURES.items():
                srow[f"cue:{f}"] = coef * cue + offsets[f] + rng.normal(0, noise)
            srow[f"cue:{FINGERPRINT}"] = fingerprint
            srow["label:diagnosis"] = diagnosis
            srow["label:post_cue"] = vas["drug"]
            srow["label:days_abstinent"] = int(rng.integers(10, 400))
            sessions_rows.append(srow)
    return pd.DataFrame(blocks), pd.DataFrame(sessions_rows)
