"""Seconds per 12-megapixel photo for each local operation and for the "Bright & airy" preset,
beside the ingest of the same photo measured in the same run (one core).

Run: ``make bench-process`` (or ``.venv/bin/python bench/process.py [--repeat N]``). Prints a table
of medians, then one JSON line per operation and preset (``"bench": "process"``, seconds/photo).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PHOTO = ROOT.parent / "shared" / "data" / "camera" / "kitchen-iphone13-12mp.jpg"


def median_seconds(function, repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "photolisting.settings.test")
    import django

    django.setup()
    import numpy as np

    from imaging import decode
    from imaging.decode import RENDITION_SPECS
    from imaging.engine import run_pipeline
    from imaging.ops import REGISTRY, OperationContext, validate_operations
    from processing.services import PRESETS_FILE

    if not PHOTO.exists():
        sys.exit(f"bench photo not found: {PHOTO}")
    data = PHOTO.read_bytes()
    image = np.asarray(decode.decode_upright(data, max_pixels=10**9)[0])
    megapixels = image.shape[0] * image.shape[1] / 1e6
    shots = [
        np.clip(image.astype(np.float32) * gain, 0, 255).astype(np.uint8)
        for gain in (0.5, 1.0, 2.0)
    ]

    def op(name: str, context: OperationContext | None = None, **params):
        cleaned = REGISTRY[name].clean(params)[0]
        return lambda: REGISTRY[name].function(image, cleaned, context or OperationContext())

    presets = {p["slug"]: p for p in json.loads(PRESETS_FILE.read_text())}
    bright = validate_operations(presets["bright-airy"]["operations"])

    def bright_and_airy() -> None:
        decoded, icc = decode.decode_upright(data, max_pixels=10**9)
        run_pipeline(np.asarray(decoded), bright, OperationContext(icc_profile=icc))

    rows = {
        "ingest (baseline)": lambda: decode.analyse(data, specs=RENDITION_SPECS, max_pixels=10**9),
        "auto_enhance": op("auto_enhance", strength=0.9),
        "straighten": op("straighten"),
        "hdr_merge (3 shots)": op("hdr_merge", OperationContext(brackets=shots)),
        "privacy_blur": op("privacy_blur"),
        "watermark": op("watermark", text="Agence Lumière · 04 78 00 00 00"),
        "resize (1920)": op("resize", long_edge=1920),
        "crop (3:2)": op("crop", aspect="3:2"),
        "encode (JPEG q88)": op("encode", format="jpeg", quality=88),
        "encode (max 1 MB)": op("encode", format="jpeg", quality=90, max_bytes=1_000_000),
        "preset: Bright & airy": bright_and_airy,
    }
    results = {name: median_seconds(function, args.repeat) for name, function in rows.items()}
    baseline = results["ingest (baseline)"]

    print(
        f"Processing one {megapixels:.1f} MP photo ({PHOTO.name}), one core, "
        f"median of {args.repeat}"
    )
    print(f"{'step':<24}{'s/photo':>10}{'× ingest':>10}")
    for name, seconds in results.items():
        print(f"{name:<24}{seconds:>10.3f}{seconds / baseline:>10.2f}")
    print("(Bright & airy runs from the file's bytes to the encoded JPEG at full resolution.)")
    for name, seconds in results.items():
        record = {"bench": "process", "metric": name, "value": round(seconds, 4), "unit": "s/photo"}
        record |= {"baseline": round(baseline, 4), "ratio": round(seconds / baseline, 3)}
        print(json.dumps(record))


if __name__ == "__main__":
    main()
