"""addiction-index: wearable EEG and heart-rate signals to a craving score, an addiction index and
exercise and music prescriptions for drug-rehabilitation centres.

Scores are for research and decision support, not diagnosis.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("addiction-index")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

NOT_A_DIAGNOSIS = (
    "Scores are for research and decision support, not diagnosis. "
    "The default index is not clinically validated."
)

__all__ = ["NOT_A_DIAGNOSIS", "__version__"]
