"""Words that reach the pages from the data, and the texts of the pages' scripts, marked for
translation.

Templates translate a data word with the ``t`` filter (``{{ user.role|t }}``); anything not
listed here shows as stored. The scripts read :func:`script_texts` from a
``<script type="application/json" id="i18n-texts">`` block (data, not code: the CSP allows it).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from addiction_index.i18n import N_, translator
from addiction_index.prescriptions._zone_monitor import _MESSAGES
from addiction_index.sessions._protocol import _RATING_QUESTIONS, list_protocols, load_protocol

WORDS = (
    # roles
    N_("clinician"), N_("coach"), N_("researcher"), N_("case-manager"), N_("admin"),
    # statuses of assessments, exercise sessions and live sessions
    N_("running"), N_("completed"), N_("interrupted"), N_("failed"), N_("stopped"),
    N_("idle"), N_("scoring"), N_("starting"), N_("ended"), N_("waiting"),
    # exercise types (prescriptions/exercise-types.yaml)
    N_("aerobic cycling"), N_("brisk walking"), N_("jogging"), N_("resistance circuit"),
    N_("Tai Chi"), N_("Baduanjin"), N_("drumming"), N_("lion dance"),
    # ACSM intensity classes and the ranges the engine names
    N_("very light"), N_("light"), N_("moderate"), N_("vigorous"), N_("near-maximal"),
    N_("very light to light"), N_("light to moderate"), N_("moderate to vigorous"),
    N_("vigorous to near-maximal"),
    # music
    N_("calm"), N_("activate"), N_("synchronise"),
    N_("before_after"), N_("during"), N_("standalone"),
    # block roles of the protocols
    N_("baseline"), N_("neutral"), N_("drug"), N_("recovery"), N_("rating"),
    # signal-quality lights and device states
    N_("green"), N_("amber"), N_("red"), N_("grey"),
    N_("connected"), N_("connecting"), N_("disconnected"), N_("lost"),
    # phases of an exercise session
    N_("warm_up"), N_("main"), N_("cool_down"),
    # FITT-VP rows of the prescription
    N_("Frequency"), N_("Intensity"), N_("Time"), N_("Type"), N_("Volume"), N_("Progression"),
    # feature labels of the default index (models/default-index.yaml)
    N_("frontal alpha (relative power)"), N_("frontal beta (relative power)"),
    N_("frontal gamma (relative power; muscle-prone)"), N_("RMSSD"), N_("heart rate"),
    N_("frontal alpha asymmetry (exploratory, no weight)"), N_("post-cue craving rating (VAS)"),
)  # fmt: skip

# The scripts' texts; {name} is filled in by the script.
SCRIPT_TEXTS = {
    "live": N_("live"),
    "reconnecting": N_("disconnected; reconnecting…"),
    "finished": N_("finished"),
    "left": N_("{time} left"),
    "collecting": N_("collecting the resting baseline…"),
    "confirm_stop": N_("Stop the assessment now? What was recorded is kept."),
    "zone_line": N_("zone {low}-{high} bpm · ceiling {ceiling}"),
    "stop": N_("Stop"),
    "ended": N_("ended: {status}"),
    "rpe": N_("RPE (6-20)"),
    "craving_now": N_("Craving now (0-100)"),
    "save_ratings": N_("Save ratings"),
    "picture": N_("{set} picture {number}"),
    "session_ended": N_("The session has ended. Thank you."),
    "idle_warning": N_("You will be signed out in about 5 minutes without activity."),
}


def script_texts(lang: str) -> dict[str, Any]:
    """The scripts' texts in ``lang``: ``texts`` by key, ``words`` and zone ``messages`` by their
    English form (the scripts fall back to the English they were given)."""
    gettext = translator(lang).gettext
    messages = {text: gettext(text) for text in _MESSAGES.values()}
    messages.update({text: gettext(text) for text in _RATING_QUESTIONS.values()})
    messages.update(_protocol_texts(lang))
    return {
        "texts": {key: gettext(text) for key, text in SCRIPT_TEXTS.items()},
        "words": {word: gettext(word) for word in WORDS},
        "messages": messages,
    }


@lru_cache(maxsize=4)
def _protocol_texts(lang: str) -> dict[str, str]:
    """The shipped protocols' block instructions (English → ``lang``, from their YAML files)."""
    out: dict[str, str] = {}
    for name in list_protocols():
        try:
            protocol = load_protocol(name)
        except Exception:  # a broken protocol file is reported where it is used
            continue
        for block in protocol.blocks:
            if block.instructions:
                out[block.instructions] = block.text(lang)
    return out
