"""Why a photo is not ready, in plain words: one message per stable code, in the reader's language.

Codes come from ingest (``imaging.decode.ImageRejected``) and from the ingest task's own
failures. The image library's own text never reaches people: it goes to the log.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext, gettext_lazy

# Rejected: the file itself is the problem; sending it again as is will not help.
REJECTION_MESSAGES = {
    "empty_file": gettext_lazy("The file is empty."),
    "unsupported_format": gettext_lazy(
        "This file is not in a photo format we accept (JPEG, PNG, WebP, HEIC/HEIF or TIFF)."
    ),
    "corrupt_image": gettext_lazy(
        "The file is damaged and cannot be read as a photo. Export it again from your camera "
        "or phone and upload the new file."
    ),
    "truncated_image": gettext_lazy(
        "The file is incomplete: it was cut short while being copied or uploaded. Upload the "
        "complete file again."
    ),
    "decompression_bomb": gettext_lazy(
        "The file claims a far larger picture than its size can hold, so it was refused for safety."
    ),
}
# Failed: something on our side went wrong; retrying the same file can succeed.
FAILURE_MESSAGES = {
    "ingest_failed": gettext_lazy(
        "We could not process this photo because of a problem on our side. Try again; if it "
        "keeps failing, contact support."
    ),
    "ingest_stalled": gettext_lazy(
        "Processing this photo took too long and was stopped. Try again."
    ),
}


def problem_message(code: str, fallback: str = "") -> str:
    """The message for a rejection or failure code, translated for the current request."""
    if code == "too_many_pixels":
        return gettext(
            "The photo has more pixels than our limit of %(limit)d megapixels. Reduce its size "
            "and upload it again."
        ) % {"limit": settings.PHOTO_MAX_PIXELS // 1_000_000}
    message = REJECTION_MESSAGES.get(code) or FAILURE_MESSAGES.get(code)
    return str(message) if message else fallback or gettext("This photo could not be processed.")
