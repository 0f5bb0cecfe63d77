"""What every shipped preset does to real photos, before → after: the quality bar of issue 14.

Run: ``.venv/bin/python bench/quality.py [--photos DIR] [--presets natural,bright-airy]
[--no-privacy]`` (default DIR ``../shared/data``, searched recursively; any folder of photos works).
For each local preset and photo it measures the original and the encoded result:

- ``tilt``: residual lean of near-vertical lines, length-weighted median |angle| in degrees (the
  detector straighten uses); ``lines``: how many lines it rests on; ``tilt_seen``: see below;
- ``kept``: share of the original's area the result still shows (resizing does not count,
  letterbox bands add nothing);
- ``luma``: mean Rec. 709 luma (0..255); ``clip_high`` / ``clip_low``: share of pixels with a
  channel at 254+ / all channels at 2 or less;
- ``cast``: colour cast of near-neutral areas, |mean (a*, b*)| in CIE Lab over the original's
  low-chroma, unclipped pixels; ``clip_cast``: mean Lab chroma inside the original's clipped
  highlights (a blown window should stay white, not turn cyan);
- ``noise``: high-pass noise (8-bit σ) in the original's shadows; ``seconds``: decode to encoded
  result.

How before and after are made comparable — fair, never lenient:

- Geometry is found from the pictures, not from the operations: the original is registered onto
  the result (SIFT features on tone-normalised luma, a RANSAC homography refined on every pixel by
  ECC; an unchanged frame within half a pixel is the identity), so a wrong warp or crop shows
  instead of being taken on trust.
- Tilt is judged on the *same lines*: those found on the original's tone-normalised luma
  (histogram-equalised grey: any monotonic tone curve gives the same picture) whose middles the
  result kept, before as they were and after carried through the registered geometry — exactly
  what the preset's warp or crop did to them. A tone-only preset therefore cannot "move" the
  lines, a crop is judged on the lines it kept, and a straighten that makes them lean more shows
  it. Re-detecting lines on the result would add the detector's own noise (segments split or
  merged differently move a median over a few lines by tenths of a degree); what it sees there,
  over the same region, is reported as ``tilt_seen`` but not judged. Fewer than 3 lines: no
  value. An unregistered result falls back to each version's own lines.
- Every other statistic compares corresponding pixels only: the result's pixels that come from
  the original (synthetic letterbox bands are excluded) against the original's own pixels at the
  same places (nearest neighbour: no value invented). The masks (neutral, clipped, shadow areas)
  are made once on the original and carried into the result's frame, eroded by a pixel where the
  frame moved, so a clipped window is compared pixel for pixel whatever the warp. Shadow noise,
  which resampling would change, is taken on the original's own frame over the part kept.
- ``kept`` is the result's frame mapped back into the original, clipped to it.

The HDR preset runs on bracket sets (3–7 photos of one scene in one folder; "before" is the middle
exposure, except inside its clipped areas, where the cast is the one the darkest shot recorded:
recovered colour is not a tint). Privacy blur is measured once per photo: boxes found, and
precision/recall against the hand-drawn boxes in ``bench/quality_labels.json`` (photos are matched
by path relative to DIR, then by file name); a photo without labels counts every box as a false
positive only when it lives outside the labelled folders. Prints a table, then the verdict on each
bar of issue 14 (PASS/FAIL, counts, failing photos), then one JSON line per (preset, photo, metric).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Before any project import: importing the imaging package loads the project's package, whose
# Celery app would otherwise default to production settings.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "photolisting.settings.test")

from imaging.ops.local import _LINES_EDGE, _small, vertical_line_tilts, weighted_median  # noqa: E402

DEFAULT_PHOTOS = ROOT.parent / "shared" / "data"
LABELS = Path(__file__).with_name("quality_labels.json")
SUFFIXES = {".jpg", ".jpeg", ".png", ".heic", ".heif", ".webp", ".tif", ".tiff"}
METRICS = (
    "tilt",
    "tilt_seen",
    "lines",
    "kept",
    "luma",
    "clip_high",
    "clip_low",
    "cast",
    "clip_cast",
    "noise",
)
MEASURE_EDGE = 1600  # every statistic on a copy this size, before and after alike
REGISTER_EDGE = 1200  # registration features on a copy this size
TILT_TOLERANCE = 0.1  # degrees of measurement noise between two versions of one photo
CAST_TOLERANCE = 0.5  # Lab units
KEPT_TOLERANCE = 0.002  # rounding a crop to whole pixels
LUMA_TOLERANCE = 0.5  # 8-bit levels: JPEG re-encoding alone moves the mean this much
# Well exposed (must not get darker): mean luma in this band, at most 5% clipped highlights.
WELL_EXPOSED = (0.3 * 255, 0.75 * 255)
_SIFT = cv2.SIFT_create(nfeatures=4000)


def photo_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file())


def normalised_luma(image: np.ndarray, edge: int) -> np.ndarray:
    """Histogram-equalised grey of a copy ``edge`` pixels long: the same picture whatever monotonic
    tone curve a preset applied, so brightening cannot change which edges are seen."""
    return cv2.equalizeHist(cv2.cvtColor(_small(image, edge), cv2.COLOR_RGB2GRAY))


def _to_small(image: np.ndarray, small: np.ndarray) -> np.ndarray:
    return np.diag([small.shape[1] / image.shape[1], small.shape[0] / image.shape[0], 1.0])


def _corners(shape: tuple) -> np.ndarray:
    height, width = shape[:2]
    return np.float64([[[0, 0]], [[width, 0]], [[width, height]], [[0, height]]])


def features(image: np.ndarray) -> tuple:
    gray = normalised_luma(image, REGISTER_EDGE)
    points, descriptors = _SIFT.detectAndCompute(gray, None)
    return np.float32([p.pt for p in points]), descriptors, _to_small(image, gray), gray


def register(original: np.ndarray, result: np.ndarray, original_features=None):
    """3×3 homography from the original's pixels to the result's, or None when no geometry fits
    (then nothing geometric is measured for that pair)."""
    if original.shape == result.shape and np.array_equal(original, result):
        return np.eye(3)
    points_o, described_o, scale_o, gray_o = original_features or features(original)
    points_r, described_r, scale_r, gray_r = features(result)
    transform = None
    if described_o is not None and described_r is not None and len(points_r) >= 12:
        pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(described_o, described_r, k=2)
        good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.75 * p[1].distance]
        if len(good) >= 12:
            source = points_o[[m.queryIdx for m in good]]
            target = points_r[[m.trainIdx for m in good]]
            fit, inliers = cv2.findHomography(source, target, cv2.RANSAC, 1.0)
            if fit is not None and inliers.sum() >= max(12, 0.2 * len(good)):
                transform = np.linalg.inv(scale_r) @ _refine(fit, gray_o, gray_r) @ scale_o
    if original.shape == result.shape:
        corners = _corners(original.shape)
        half_pixel = 0.5 / scale_o[0, 0]  # half a pixel of the registration copy
        if transform is None:
            return np.eye(3)  # same frame, nothing to register on: a tone-only change
        if np.abs(cv2.perspectiveTransform(corners, transform) - corners).max() < half_pixel:
            return np.eye(3)
    return transform


def _refine(fit: np.ndarray, gray_o: np.ndarray, gray_r: np.ndarray) -> np.ndarray:
    """The feature fit refined on every pixel (ECC, invariant to contrast and brightness): matched
    features cluster where the detail is, and a fit through them can be sheared by a tenth of a
    degree — as much as the tilt tolerance. Pixels of the result that come from outside the
    original (letterbox bands) drop out through the mask. Unrefinable: the feature fit."""
    warp = np.linalg.inv(fit).astype(np.float32)
    warp /= warp[2, 2]
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 60, 1e-6)
    whole = np.full(gray_o.shape, 255, np.uint8)
    try:
        _, warp = cv2.findTransformECC(
            gray_r.astype(np.float32), gray_o.astype(np.float32), warp,
            cv2.MOTION_HOMOGRAPHY, criteria, whole, 5,
        )  # fmt: skip
    except cv2.error:
        return fit
    return np.linalg.inv(warp.astype(np.float64))


def kept_share(original: np.ndarray, result: np.ndarray, transform: np.ndarray) -> float:
    """Share of the original's area still shown: the result's frame mapped back into the
    original and clipped to it (letterbox bands fall outside it and add nothing)."""
    back = cv2.perspectiveTransform(_corners(result.shape), np.linalg.inv(transform))[:, 0]
    frame = _corners(original.shape)[:, 0]
    area, _ = cv2.intersectConvexConvex(frame.astype(np.float32), back.astype(np.float32))
    return float(area) / (original.shape[0] * original.shape[1])


def _lines(image: np.ndarray) -> tuple:
    """(tilt°, end points in full-size pixels, length in full-size pixels) of the long
    near-vertical lines: straighten's own detector, which works on tone-normalised luma."""
    segments = vertical_line_tilts(image, 6.0)
    scale = min(1.0, _LINES_EDGE / max(image.shape[:2]))
    tilt, half = np.radians(segments[:, 0]), segments[:, 2] / scale / 2
    cx, cy = segments[:, 1] * image.shape[1], segments[:, 3] * image.shape[0]
    dx, dy = np.sin(tilt) * half, np.cos(tilt) * half
    ends = np.stack([np.stack([cx - dx, cy - dy], 1), np.stack([cx + dx, cy + dy], 1)], 1)
    return segments[:, 0], ends, 2 * half


def line_tilts(original: np.ndarray, result: np.ndarray, transform: np.ndarray) -> tuple:
    """(before, after, seen, lines): residual lean of the original's lines that the result kept,
    before and after. "After" carries each line's two ends through the registered geometry, so it
    is exactly what the result's warp or crop did to those lines — re-detecting them would add the
    detector's noise (a segment split or merged differently moves a median over a few lines by
    tenths of a degree). "Seen" is what the detector finds on the result itself, over the same
    region: reported, not judged."""
    tilt_o, ends_o, length_o = _lines(original)
    height, width = result.shape[:2]
    before = after = None
    inside = np.zeros(len(tilt_o), bool)
    if len(tilt_o):
        carried = cv2.perspectiveTransform(ends_o.reshape(-1, 1, 2), transform).reshape(-1, 2, 2)
        vector, middle = carried[:, 1] - carried[:, 0], carried.mean(axis=1)
        inside = (middle[:, 0] >= 0) & (middle[:, 0] <= width)
        inside &= (middle[:, 1] >= 0) & (middle[:, 1] <= height)
    if inside.sum() >= 3:
        weight = length_o[inside]
        before = weighted_median(np.abs(tilt_o[inside]), weight)
        moved = np.degrees(np.arctan2(vector[inside, 0], vector[inside, 1]))
        after = weighted_median(np.abs(moved), weight)
    tilt_r, ends_r, length_r = _lines(result)
    seen = None
    if len(tilt_r):
        back = cv2.perspectiveTransform(
            ends_r.mean(axis=1).reshape(-1, 1, 2), np.linalg.inv(transform)
        )
        back = back.reshape(-1, 2)
        shown = (back[:, 0] >= 0) & (back[:, 0] <= original.shape[1])
        shown &= (back[:, 1] >= 0) & (back[:, 1] <= original.shape[0])
        if shown.sum() >= 3:
            seen = weighted_median(np.abs(tilt_r[shown]), length_r[shown])
    return before, after, seen, int(inside.sum())


def _carry(mask: np.ndarray, transform: np.ndarray, shape: tuple, erode: int = 1) -> np.ndarray:
    """A mask of the original carried into another frame (nearest neighbour), eroded so that no
    pixel resampled across its edge is counted."""
    moved = cv2.warpPerspective(
        mask.astype(np.uint8), transform, (shape[1], shape[0]), flags=cv2.INTER_NEAREST
    )
    if erode and not np.array_equal(transform, np.eye(3)):
        moved = cv2.erode(moved, np.ones((2 * erode + 1, 2 * erode + 1), np.uint8))
    return moved > 0


def _stats(small: np.ndarray, region, neutral, clipped, dark) -> dict:
    luma = small.astype(np.float32) @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    a, b = lab[:, :, 1] - 128, lab[:, :, 2] - 128
    brightest = small.max(axis=2)
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    detail = gray - cv2.GaussianBlur(gray, (0, 0), 1.0)
    return {
        "luma": float(luma[region].mean()),
        "clip_high": float((brightest[region] >= 254).mean()),
        "clip_low": float((brightest[region] <= 2).mean()),
        "cast": float(np.hypot(a[neutral].mean(), b[neutral].mean()))
        if neutral.sum() > 100
        else None,
        "clip_cast": float(np.hypot(a[clipped], b[clipped]).mean()) if clipped.sum() > 50 else None,
        "noise": float(np.median(np.abs(detail[dark])) * 1.4826) if dark.sum() > 500 else None,
    }


def _masks(small: np.ndarray) -> dict:
    """Where each statistic is taken: near-neutral lit areas, clipped highlights, shadows."""
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    chroma = np.hypot(lab[:, :, 1] - 128, lab[:, :, 2] - 128)
    brightest = small.max(axis=2)
    return {
        "neutral": (chroma < 20) & (lab[:, :, 0] > 50) & (brightest < 245)
        & (small.min(axis=2) > 10),
        "clipped": brightest >= 250,
        "dark": cv2.cvtColor(small, cv2.COLOR_RGB2GRAY) < 64,
    }  # fmt: skip


def compare(original: np.ndarray, result: np.ndarray, transform, kept: float, recorded=None):
    """(before, after) metrics over the region both show; ``transform`` maps the original onto
    the result (None: unregistered, each side measured on its own frame). ``recorded``: for a
    merge of brackets, the darkest shot — inside the original's clipped areas "before" is the
    colour it recorded there, since colour recovered from the sensor is not a tint."""
    small_o, small_r = _small(original, MEASURE_EDGE), _small(result, MEASURE_EDGE)
    masks = _masks(small_o)
    if transform is None:
        everywhere = np.ones(small_o.shape[:2], bool)
        before = _stats(small_o, everywhere, **masks)
        after = _stats(small_r, np.ones(small_r.shape[:2], bool), **_masks(small_r))
        tilt_o, _, length_o = _lines(original)
        tilt_r, _, length_r = _lines(result)
        measured = [
            weighted_median(np.abs(t), w) if len(t) >= 3 else None
            for t, w in ((tilt_o, length_o), (tilt_r, length_r))
        ]
        tilt = (measured[0], measured[1], measured[1], 0)
    else:
        moved = _to_small(result, small_r) @ transform @ np.linalg.inv(_to_small(original, small_o))
        size = (small_r.shape[1], small_r.shape[0])
        # The original's own pixels (nearest neighbour: no value is invented) at the result's,
        # first shrunk by area as far as the result was, so both average the same neighbourhoods.
        zoom = math.sqrt(abs(np.linalg.det(moved[:2, :2])))

        def facing(small: np.ndarray) -> np.ndarray:
            source, to_source = small, np.eye(3)
            if zoom < 0.95:
                source = cv2.resize(small, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_AREA)
                to_source = _to_small(small, source)
            return cv2.warpPerspective(
                source, moved @ np.linalg.inv(to_source), size, flags=cv2.INTER_NEAREST
            )

        valid = _carry(np.ones(small_o.shape[:2], bool), moved, small_r.shape)
        carried = {k: _carry(m, moved, small_r.shape) & valid for k, m in masks.items()}
        before = _stats(facing(small_o), valid, **carried)
        after = _stats(small_r, valid, **carried)
        if recorded is not None:
            darkest = _stats(facing(_small(recorded, MEASURE_EDGE)), valid, **carried)
            before["clip_cast"] = darkest["clip_cast"]
        # Noise is a neighbourhood statistic that resampling changes: the original's is taken on
        # its own frame, over the shadows of the part the result kept.
        shown = _carry(np.ones(small_r.shape[:2], bool), np.linalg.inv(moved), small_o.shape, 0)
        own = _stats(small_o, shown, masks["neutral"], masks["clipped"], masks["dark"] & shown)
        before["noise"] = own["noise"]
        kept = kept_share(original, result, transform)
        tilt = line_tilts(original, result, transform)
    before |= {"tilt": tilt[0], "tilt_seen": tilt[0], "lines": tilt[3], "kept": 1.0}
    after |= {"tilt": tilt[1], "tilt_seen": tilt[2], "lines": tilt[3], "kept": kept}
    return before, after


BARS = {
    "tilt": f"residual tilt never worse than before (+{TILT_TOLERANCE}° of measurement)",
    "kept": "kept area ≥ 90%",
    "clip_cast": f"cast inside clipped areas ≤ the original's (+{CAST_TOLERANCE} Lab)",
    "natural_luma": "natural never darker on a well-exposed photo",
    "privacy": "no blur box without a face or plate; every labelled face and plate covered",
}


def harm_checks(slug: str, rows: list) -> dict:
    """bar (or an informative check) → (label, photos checked, photos failing)."""

    def both(metric: str) -> list:
        return [(n, b, a) for _, n, b, a, _ in rows if None not in (b[metric], a[metric])]

    exposed = [
        (n, b, a) for _, n, b, a, _ in rows
        if WELL_EXPOSED[0] <= b["luma"] <= WELL_EXPOSED[1] and b["clip_high"] <= 0.05
    ]  # fmt: skip
    darker = [n for n, b, a in exposed if a["luma"] < b["luma"] - LUMA_TOLERANCE]
    checks = {
        "tilt": (
            f"tilt worse by > {TILT_TOLERANCE}°",
            len(both("tilt")),
            [n for n, b, a in both("tilt") if a["tilt"] > b["tilt"] + TILT_TOLERANCE],
        ),
        "kept": (
            "kept < 90%",
            len(rows),
            [n for _, n, _, a, _ in rows if a["kept"] < 0.9 - KEPT_TOLERANCE],
        ),
        "clip_cast": (
            f"clipped areas more tinted (> +{CAST_TOLERANCE})",
            len(both("clip_cast")),
            [
                n
                for n, b, a in both("clip_cast")
                if a["clip_cast"] > b["clip_cast"] + CAST_TOLERANCE
            ],
        ),
        "natural_luma" if slug == "natural" else "darker": (
            "well-exposed photo darker",
            len(exposed),
            darker,
        ),
        "noise": (
            "shadow noise × 1.5 or more (not a bar)",
            len(both("noise")),
            [n for n, b, a in both("noise") if a["noise"] > 1.5 * b["noise"]],
        ),
    }
    return checks


def run_preset(pipeline, image, context) -> tuple:
    """(encoded result as an array, kept share by frame sizes): the engine's steps, crops
    accounted (used only when the result cannot be registered)."""
    import io

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
    import django

    django.setup()
    import numpy as np

    from imaging import decode
    from imaging.ops import OperationContext, validate_operations
    from imaging.ops.privacy import detect_private_regions
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

    rows, records, unregistered = [], [], []
    known: dict[str, tuple] = {}  # registration features of each original, kept across presets
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
            name = path.relative_to(folder).as_posix()
            if name not in known:
                known[name] = features(image)
            transform = register(image, result, known[name])
            darkest = min(brackets, key=lambda shot: float(shot.mean())) if brackets else None
            before, after = compare(image, result, transform, kept, darkest)
            if transform is None:
                unregistered.append(f"{slug}: {name}")
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

    print("\nDo-no-harm checks per preset (photos failing a check are named)")
    bars = {bar: {"checked": 0, "failed": []} for bar in BARS}
    for slug in presets:
        mine = [r for r in rows if r[0] == slug]
        if not mine:
            continue
        checks = harm_checks(slug, mine)
        seconds = sorted(r[4] for r in mine)
        print(
            f"{slug}: {len(mine)} photos, median {seconds[len(seconds) // 2]:.2f} s, "
            f"max {seconds[-1]:.2f} s"
        )
        for bar, (label, checked, names) in checks.items():
            print(
                f"  {label}: {len(names)} of {checked}"
                + (f" — {', '.join(names)}" if names else "")
            )
            if bar in bars:
                bars[bar]["checked"] += checked
                bars[bar]["failed"] += [f"{slug}: {name}" for name in names]
    if unregistered:
        print(f"  not registered (measured each on its own frame): {', '.join(unregistered)}")

    if not args.no_privacy:
        labels = json.loads(LABELS.read_text())["photos"]
        labelled_folders = {Path(key).parent.as_posix() for key in labels}
        print("\nPrivacy blur (imaging/ops/privacy.py) against hand-drawn boxes")
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
            empty = not any(labelled.get(k) for k in ("faces", "plates")) if labelled else True
            if (labelled is not None or not unknown) and empty:
                bars["privacy"]["checked"] += 1
                if boxes:
                    bars["privacy"]["failed"].append(f"{name}: {len(boxes)} box(es)")
            if score["required"]:
                bars["privacy"]["checked"] += 1
                if score["found"] < score["required"]:
                    missed = f"{score['required'] - score['found']} of {score['required']}"
                    bars["privacy"]["failed"].append(f"{name}: {missed} labelled missed")
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

    print("\nVerdict on the bars of issue 14")
    for bar, label in BARS.items():
        checked, failed = bars[bar]["checked"], bars[bar]["failed"]
        verdict = "NOT RUN" if not checked else "FAIL" if failed else "PASS"
        print(
            f"  {verdict:<8}{label}: {len(failed)} failing of {checked} checked"
            + (f" — {'; '.join(failed)}" if failed else "")
        )
        records.append(
            {"bench": "quality", "metric": "verdict", "bar": bar, "verdict": verdict,
             "checked": checked, "failed": failed}
        )  # fmt: skip

    for record in records:
        print(json.dumps(record))


if __name__ == "__main__":
    main()
