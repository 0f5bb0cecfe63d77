"""Human names for operations, their parameters and choices, and the registry's refusals in
words, in the reader's language: for the preset builder and the preview API."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext_lazy

OPERATION_LABELS = {
    "auto_enhance": gettext_lazy("Auto enhance"),
    "straighten": gettext_lazy("Straighten"),
    "hdr_merge": gettext_lazy("HDR merge"),
    "privacy_blur": gettext_lazy("Privacy blur"),
    "watermark": gettext_lazy("Watermark"),
    "resize": gettext_lazy("Resize"),
    "crop": gettext_lazy("Crop"),
    "encode": gettext_lazy("File format"),
    "virtual_staging": gettext_lazy("Virtual staging"),
    "declutter": gettext_lazy("Declutter"),
    "sky_replacement": gettext_lazy("Sky replacement"),
    "twilight": gettext_lazy("Day to dusk"),
}
PARAM_LABELS = {
    "strength": gettext_lazy("Strength"),
    "brightness": gettext_lazy("Brightness"),
    "white_balance": gettext_lazy("White balance"),
    "warmth": gettext_lazy("Warmth"),
    "contrast": gettext_lazy("Contrast"),
    "vibrance": gettext_lazy("Vibrance"),
    "sharpen": gettext_lazy("Sharpening"),
    "max_angle": gettext_lazy("Largest correction (degrees)"),
    "perspective": gettext_lazy("Correct perspective"),
    "align": gettext_lazy("Align the shots"),
    "faces": gettext_lazy("Blur faces"),
    "plates": gettext_lazy("Blur licence plates"),
    "regions": gettext_lazy("Extra regions"),
    "padding": gettext_lazy("Padding"),
    "text": gettext_lazy("Text"),
    "use_logo": gettext_lazy("Use the agency logo"),
    "position": gettext_lazy("Position"),
    "opacity": gettext_lazy("Opacity"),
    "size": gettext_lazy("Size"),
    "width": gettext_lazy("Width (px)"),
    "height": gettext_lazy("Height (px)"),
    "long_edge": gettext_lazy("Long edge (px)"),
    "fit": gettext_lazy("Fit"),
    "upscale": gettext_lazy("Allow enlarging"),
    "aspect": gettext_lazy("Aspect ratio"),
    "gravity": gettext_lazy("Keep"),
    "format": gettext_lazy("Format"),
    "quality": gettext_lazy("Quality"),
    "max_bytes": gettext_lazy("Size budget (bytes)"),
    "disclosure_caption": gettext_lazy("Caption AI-edited results"),
    "room_type": gettext_lazy("Room"),
    "style": gettext_lazy("Style"),
    "prompt": gettext_lazy("Custom prompt"),
    "sky": gettext_lazy("Sky"),
}
CHOICE_LABELS = {
    "bottom-right": gettext_lazy("Bottom right"),
    "bottom-left": gettext_lazy("Bottom left"),
    "top-right": gettext_lazy("Top right"),
    "top-left": gettext_lazy("Top left"),
    "center": gettext_lazy("Centre"),
    "top": gettext_lazy("Top"),
    "bottom": gettext_lazy("Bottom"),
    "left": gettext_lazy("Left"),
    "right": gettext_lazy("Right"),
    "contain": gettext_lazy("Fit inside"),
    "cover": gettext_lazy("Fill"),
    "jpeg": "JPEG",
    "webp": "WebP",
    "avif": "AVIF",
    "living room": gettext_lazy("Living room"),
    "bedroom": gettext_lazy("Bedroom"),
    "kitchen": gettext_lazy("Kitchen"),
    "dining room": gettext_lazy("Dining room"),
    "office": gettext_lazy("Office"),
    "bathroom": gettext_lazy("Bathroom"),
    "kids room": gettext_lazy("Kids' room"),
    "modern": gettext_lazy("Modern"),
    "scandinavian": gettext_lazy("Scandinavian"),
    "industrial": gettext_lazy("Industrial"),
    "classic": gettext_lazy("Classic"),
    "coastal": gettext_lazy("Coastal"),
    "japandi": gettext_lazy("Japandi"),
    "luxury": gettext_lazy("Luxury"),
    "clear blue": gettext_lazy("Clear blue"),
    "soft clouds": gettext_lazy("Soft clouds"),
    "sunset": gettext_lazy("Sunset"),
}

# The registry (plain imaging code, no Django) words its refusals in English; these patterns turn
# each one into a sentence in the reader's language. Anything unknown is shown as it is.
_MESSAGES: list[tuple[re.Pattern, Any]] = [
    (re.compile(r"must be true or false"), gettext_lazy("Choose yes or no.")),
    (re.compile(r"must be a number \(\w+\)"), gettext_lazy("Enter a number.")),
    (re.compile(r"must be a whole number"), gettext_lazy("Enter a whole number.")),
    (re.compile(r"must be at least (?P<value>.+)"), gettext_lazy("Must be at least %(value)s.")),
    (re.compile(r"must be at most (?P<value>.+)"), gettext_lazy("Must be at most %(value)s.")),
    (re.compile(r"must be a string"), gettext_lazy("Enter text.")),
    (re.compile(r"must be one of (?P<choices>.+)"), gettext_lazy("Choose one of: %(choices)s.")),
    (re.compile(r"is too long.*"), gettext_lazy("Too long: 1,000 characters at most.")),
    (re.compile(r"must be a list"), gettext_lazy("Enter a list.")),
    (
        re.compile(r"is not a parameter of this operation"),
        gettext_lazy("Not a setting of this step."),
    ),
    (re.compile(r"is required"), gettext_lazy("This field is required.")),
    (re.compile(r"must be an object"), gettext_lazy("The settings of a step must be an object.")),
    (re.compile(r"each step needs an 'op' name"), gettext_lazy("Each step needs an operation.")),
    (re.compile(r"unknown operation (?P<name>.+)"), gettext_lazy("unknown operation %(name)s.")),
    (
        re.compile(r"'encode' must be the last step"),
        gettext_lazy("“File format” must be the last step."),
    ),
    (re.compile(r"'encode' may appear once"), gettext_lazy("“File format” may appear only once.")),
    (
        re.compile(r"'hdr_merge' must be the first step"),
        gettext_lazy("“HDR merge” must be the first step."),
    ),
    (re.compile(r"must be a non-empty list.*"), gettext_lazy("Add at least one step.")),
    (re.compile(r"has more than 20 steps"), gettext_lazy("A preset has 20 steps at most.")),
]


def in_words(message: str) -> str:
    """One of the registry's refusals as a sentence in the reader's language."""
    for pattern, wording in _MESSAGES:
        found = pattern.fullmatch(message)
        if found:
            return str(wording) % found.groupdict() if found.groupdict() else str(wording)
    return message


def details_in_words(details: dict) -> dict:
    """``validate_operations``'s details, same shape, every message in words."""
    return {
        key: details_in_words(value) if isinstance(value, dict) else in_words(value)
        for key, value in details.items()
    }
