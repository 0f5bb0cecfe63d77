"""What every shipped preset does to real photos, before → after: the quality bar of issue 14.

Run: ``.venv/bin/python bench/quality.py [--photos DIR] [--presets natural,bright-airy]``
(default DIR ``../shared/data``, searched recursively; any folder of photos works). For each local
preset and photo it measures, on the original and on the encoded result:

- ``tilt``: residual lean of near-vertical lines, length-weighted median |angle| in degrees (the
  line detector straighten uses; no value when the photo has fewer than 3 such lines);
- ``kept``: share of the original picture still in the result (crops; resizing does not count,
  letterbox bands add nothing);
- ``luma``: mean Rec. 709 luma (0..255); ``clip_high`` / ``clip_low``: share of pixels with a
  channel at 254+ / all channels at 2 or less;
- ``cast``: colour cast of near-neutral areas, |mean (a*, b*)| in CIE Lab over the original's
  low-chroma, unclipped pixels; ``clip_cast``: mean Lab chroma inside the original's clipped
  highlights (a blown window should stay white, not turn cyan);
- ``noise``: high-pass noise (8-bit σ) in the original's shadows; ``seconds``: decode to encoded
  result.

The HDR preset runs on bracket sets (3–7 photos of one scene in one folder; "before" is the middle
exposure). Privacy blur is measured once per photo: boxes found, and precision/recall against the
hand-drawn boxes in ``bench/quality_labels.json`` (photos are matched by path relative to DIR, then
by file name); a photo without labels counts every box as a false positive only when it lives
outside the labelled folders. Prints a table, a summary of the do-no-harm checks, then one JSON
line per (preset, photo, metric).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_PHOTOS = ROOT.parent / "shared" / "data"
LABELS = Path(__file__).with_name("quality_labels.json")
SUFFIXES = {".jpg", ".jpeg", ".png", ".heic", ".heif", ".webp", ".tif", ".tiff"}
METRICS = ("tilt", "kept", "luma", "clip_high", "clip_low", "cast", "clip_cast", "noise")
MEASURE_EDGE = 1600  # every measurement on a copy this size, before and after alike
TILT_TOLERANCE = 0.1  # degrees of measurement noise between two versions of one photo
CAST_TOLERANCE = 0.5  # Lab units
# Well exposed (must not get darker): mean luma in this band, at most 5% clipped highlights.
WELL_EXPOSED = (0.3 * 255, 0.75 * 255)


def photo_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file())


def measure(image, reference=None) -> dict:
    """The metrics of one image; masks (neutral, clipped, shadow areas) come from ``reference``
    (the original) when the geometry is the same, else from the image itself."""
    import cv2
    import numpy as np

    from imaging.ops.local import _small, vertical_line_tilts, weighted_median

    small = _small(image, MEASURE_EDGE)
    base = small if reference is None else _small(reference, MEASURE_EDGE)
    if base.shape != small.shape:
        base = small
    segments = vertical_line_tilts(image, 6.0)
    tilt = weighted_median(np.abs(segments[:, 0]), segments[:, 2]) if len(segments) >= 3 else None
    luma = small.astype(np.float32) @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    a, b = lab[:, :, 1] - 128, lab[:, :, 2] - 128
    base_lab = cv2.cvtColor(base, cv2.COLOR_RGB2LAB).astype(np.float32)
    base_chroma = np.hypot(base_lab[:, :, 1] - 128, base_lab[:, :, 2] - 128)
    base_max = base.max(axis=2)
    neutral = (
        (base_chroma < 20) & (base_lab[:, :, 0] > 50) & (base_max < 245) & (base.min(axis=2) > 10)
    )
    clipped = base_max >= 250
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    detail = gray - cv2.GaussianBlur(gray, (0, 0), 1.0)
    dark = cv2.cvtColor(base, cv2.COLOR_RGB2GRAY) < 64
    return {
        "tilt": tilt,
        "luma": float(luma.mean()),
        "clip_high": float((small.max(axis=2) >= 254).mean()),
        "clip_low": float((small.max(axis=2) <= 2).mean()),
        "cast": float(np.hypot(a[neutral].mean(), b[neutral].mean()))
        if neutral.sum() > 100
        else None,
        "clip_cast": float(np.hypot(a[clipped], b[clipped]).mean()) if clipped.sum() > 50 else None,
        "noise": float(np.median(np.abs(detail[dark])) * 1.4826) if dark.sum() > 500 else None,
    }


def run_preset(pipeline, image, context) -> tuple:
    """(encoded result as an array, kept share): the engine's steps, with crops accounted."""
    import io

    import numpy as np
    from PIL import Image

    from imaging.engine import run_pipeline
    from imaging.ops import REGISTRY

    kept = 1.0
    for step in pipeline.steps:
        if REGISTRY[step.op].kind == "encode":
            break
        before = image.shape[0] * image.shape[1]
        if step.op == "hdr_merge":
            image = REGISTRY[step.op].function(image, step.params, context)
            continue
        after_image = REGISTRY[step.op].function(image, step.params, context)
        if step.op != "resize":
            kept *= min(1.0, after_image.shape[0] * after_image.shape[1] / before)
        image = after_image
    encode_only = type(pipeline)(tuple(s for s in pipeline.steps if s.op == "encode"))
    encoded = run_pipeline(image, encode_only, context)
    decoded = np.asarray(Image.open(io.BytesIO(encoded.data)).convert("RGB"))
    return decoded, kept


def labels_for(path: Path, folder: Path, labels: dict) -> dict | None:
    relative = path.relative_to(folder).as_posix()
    if relative in labels:
        return labels[relative]
    by_name = {Path(key).name: value for key, value in labels.items()}
    return by_name.get(path.name)


def privacy_scores(boxes: list[tuple], labelled: dict, size: tuple[int, int]) -> dict:
    """Detections against labels: a label is found when detections cover half of it; a detection
    is right when it lies mostly on a labelled face or plate (optional ones included)."""
    import numpy as np

    width, height = size
    truth = [
        (np.array(item["box"]) * [width, height, width, height], item["required"])
        for kind in ("faces", "plates")
        for item in labelled.get(kind, [])
    ]

    def overlap(a, b) -> float:
        x0, y0 = max(a[0], b[0]), max(a[1], b[1])
        x1, y1 = min(a[2], b[2]), min(a[3], b[3])
        return max(0.0, x1 - x0) * max(0.0, y1 - y0)

    detections = [(x, y, x + w, y + h) for x, y, w, h in boxes]
    right = sum(
        any(overlap(d, t) >= 0.5 * (d[2] - d[0]) * (d[3] - d[1]) for t, _ in truth)
        or any(overlap(t, d) >= 0.5 * (t[2] - t[0]) * (t[3] - t[1]) for t, _ in truth)
        for d in detections
    )
    required = [t for t, needed in truth if needed]
    found = sum(
        sum(overlap(t, d) for d in detections) >= 0.5 * (t[2] - t[0]) * (t[3] - t[1])
        for t in required
    )
    return {
        "boxes": len(detections),
        "true": int(right),
        "false": len(detections) - int(right),
        "required": len(required),
        "found": int(found),
    }


def fmt(value, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--presets", default="", help="Comma-separated slugs (default: all local).")
    parser.add_argument("--no-privacy", action="store_true", help="Skip the privacy-blur scores.")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "photolisting.settings.test")
    import django

    django.setup()
    import numpy as np

    from imaging import decode
    from imaging.ops import OperationContext, validate_operations
    from imaging.ops.local import detect_private_regions
    from imaging.scene import scene_outliers
    from processing.services import PRESETS_FILE

    folder = args.photos.resolve()
    files = photo_files(folder)
    if not files:
        sys.exit(f"no photos under {folder}")
    wanted = {slug for slug in args.presets.split(",") if slug}
    presets = {}
    for preset in json.loads(PRESETS_FILE.read_text()):
        pipeline = validate_operations(preset["operations"])
        if pipeline.ai_steps or (wanted and preset["slug"] not in wanted):
            continue  # AI presets need a provider: not a local quality question
        presets[preset["slug"]] = pipeline

    def load(path: Path):
        image, icc = decode.decode_upright(path.read_bytes(), max_pixels=10**9)
        return np.ascontiguousarray(np.asarray(image.convert("RGB"))), icc

    # Bracket sets: 3–7 photos of one folder showing one scene.
    by_folder: dict[Path, list[Path]] = {}
    for path in files:
        by_folder.setdefault(path.parent, []).append(path)
    bracket_sets = []
    for members in by_folder.values():
        if 3 <= len(members) <= 7:
            shots = [load(p)[0] for p in members]
            if len({s.shape for s in shots}) == 1 and not scene_outliers(shots):
                bracket_sets.append((members, shots))

    rows, records = [], []
    for slug, pipeline in presets.items():
        if pipeline.needs_brackets:
            jobs = [
                (members[len(members) // 2].parent, shots[len(shots) // 2], shots, None)
                for members, shots in bracket_sets
            ]
        else:
            jobs = [(path, None, [], None) for path in files]
        for path, image, brackets, _ in jobs:
            icc = None
            if image is None:
                image, icc = load(path)
            started = time.perf_counter()
            context = OperationContext(brackets=brackets, icc_profile=icc)
            result, kept = run_preset(pipeline, image, context)
            seconds = time.perf_counter() - started
            before, after = measure(image), measure(result, reference=image)
            before["kept"], after["kept"] = 1.0, kept
            name = path.relative_to(folder).as_posix()
            rows.append((slug, name, before, after, seconds))
            print(f"  measured {slug} on {name} in {seconds:.2f} s", file=sys.stderr, flush=True)
            for metric in METRICS:
                records.append(
                    {"bench": "quality", "preset": slug, "photo": name, "metric": metric,
                     "before": before[metric], "after": after[metric]}
                )  # fmt: skip
            records.append(
                {"bench": "quality", "preset": slug, "photo": name, "metric": "seconds",
                 "before": None, "after": round(seconds, 3)}
            )  # fmt: skip

    header = (
        f"{'preset':<22}{'photo':<58}{'tilt°':>12}{'kept':>6}{'luma':>10}{'clip hi %':>13}"
        f"{'clip lo %':>12}{'cast':>11}{'clip cast':>12}{'noise':>11}{'s':>6}"
    )
    print(f"Quality of every local preset on {len(files)} photos in {folder}")
    print(header)

    def pair(before: dict, after: dict, metric: str, digits: int = 1, scale: float = 1.0) -> str:
        b, a = before[metric], after[metric]
        b = None if b is None else b * scale
        a = None if a is None else a * scale
        return f"{fmt(b, digits)}→{fmt(a, digits)}"

    for slug, name, before, after, seconds in rows:
        cells = [
            f"{pair(before, after, 'tilt', 2):>12}{after['kept']:>6.2f}",
            f"{pair(before, after, 'luma', 0):>10}",
            f"{pair(before, after, 'clip_high', 1, 100):>13}",
            f"{pair(before, after, 'clip_low', 1, 100):>12}",
            f"{pair(before, after, 'cast'):>11}{pair(before, after, 'clip_cast'):>12}",
            f"{pair(before, after, 'noise'):>11}{seconds:>6.2f}",
        ]
        print(f"{slug:<22}{name[-57:]:<58}" + "".join(cells))

    print("\nDo-no-harm checks (photos failing a check are named)")
    for slug in presets:
        mine = [r for r in rows if r[0] == slug]
        if not mine:
            continue
        worse_tilt = [
            n for _, n, b, a, _ in mine
            if None not in (b["tilt"], a["tilt"]) and a["tilt"] > b["tilt"] + TILT_TOLERANCE
        ]  # fmt: skip
        cropped = [n for _, n, _, a, _ in mine if a["kept"] < 0.9]
        tinted = [
            n for _, n, b, a, _ in mine
            if b["clip_cast"] is not None and a["clip_cast"] is not None
            and a["clip_cast"] > b["clip_cast"] + CAST_TOLERANCE
        ]  # fmt: skip
        darker = [
            n for _, n, b, a, _ in mine
            if WELL_EXPOSED[0] <= b["luma"] <= WELL_EXPOSED[1] and b["clip_high"] <= 0.05
            and a["luma"] < b["luma"]
        ]  # fmt: skip
        noisier = [
            n for _, n, b, a, _ in mine
            if b["noise"] and a["noise"] and a["noise"] > 1.5 * b["noise"]
        ]  # fmt: skip
        seconds = sorted(r[4] for r in mine)
        print(
            f"{slug}: {len(mine)} photos, median {seconds[len(seconds) // 2]:.2f} s, "
            f"max {seconds[-1]:.2f} s"
        )
        for label, names in (
            (f"tilt worse by > {TILT_TOLERANCE}°", worse_tilt),
            ("kept < 90%", cropped),
            (f"clipped areas more tinted (> +{CAST_TOLERANCE})", tinted),
            ("well-exposed photo darker", darker),
            ("shadow noise × 1.5 or more", noisier),
        ):
            print(f"  {label}: {len(names)}" + (f" — {', '.join(names)}" if names else ""))

    if not args.no_privacy:
        labels = json.loads(LABELS.read_text())["photos"]
        labelled_folders = {Path(key).parent.as_posix() for key in labels}
        print("\nPrivacy blur (faces: dlib HOG; plates: plate finder) against hand-drawn boxes")
        totals = {"boxes": 0, "true": 0, "false": 0, "required": 0, "found": 0}
        unlabelled_boxes = 0
        for path in files:
            image, _ = load(path)
            started = time.perf_counter()
            boxes = detect_private_regions(image, faces=True, plates=True)
            seconds = time.perf_counter() - started
            name = path.relative_to(folder).as_posix()
            labelled = labels_for(path, folder, labels)
            if labelled is None:
                unknown = Path(name).parent.as_posix() in labelled_folders
                score = {"boxes": len(boxes), "true": 0, "false": 0 if unknown else len(boxes)}
                score |= {"required": 0, "found": 0}
                unlabelled_boxes += len(boxes)
            else:
                score = privacy_scores(boxes, labelled, (image.shape[1], image.shape[0]))
            for key in totals:
                totals[key] += score[key]
            if labelled is not None or boxes:
                print(
                    f"  {name[-70:]:<72} boxes {score['boxes']:>2}  right {score['true']:>2}  "
                    f"wrong {score['false']:>2}  found {score['found']}/{score['required']}  "
                    f"{seconds:.2f} s"
                )
            records.append(
                {"bench": "quality", "preset": "privacy_blur", "photo": name, "metric": "privacy"}
                | score
                | {"seconds": round(seconds, 3)}
            )
        precision = totals["true"] / totals["boxes"] if totals["boxes"] else 1.0
        recall = totals["found"] / totals["required"] if totals["required"] else 1.0
        print(
            f"  precision {precision:.2f} ({totals['true']}/{totals['boxes']} boxes), "
            f"recall {recall:.2f} ({totals['found']}/{totals['required']} labelled), "
            f"boxes on photos without labels: {unlabelled_boxes}"
        )
        records.append(
            {"bench": "quality", "preset": "privacy_blur", "photo": "*", "metric": "summary",
             "precision": round(precision, 3), "recall": round(recall, 3)} | totals
        )  # fmt: skip

    for record in records:
        print(json.dumps(record))


if __name__ == "__main__":
    main()
