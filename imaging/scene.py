"""Whether photos show the same scene, whatever their exposure: the check an HDR bracket group
passes before it is merged (fusing different rooms gives a ghosted triple exposure).

Each shot is shrunk to a small grey image and its contrast equalised (CLAHE), so a dark and a
bright exposure of one view look alike; ORB features are matched between two shots and a RANSAC
homography keeps the matches one view can explain. Measured on ../shared/data: exposure brackets
of one scene (real ones, and a photo scaled ×0.4…×2.2 with clipping and a small shift) keep 47 to
600 such inliers at 256 px; 378 pairs of different photos (rooms, exteriors, streets) keep 11 at
most. The threshold sits between, nearer the different photos.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

cv2.setNumThreads(1)

SAMPLE_EDGE = 256
SAME_SCENE_INLIERS = 25
_RANSAC_PIXELS = 3.0


@dataclass(frozen=True)
class Features:
    keypoints: np.ndarray  # (n, 2) float32 positions
    descriptors: np.ndarray | None


def scene_features(image: np.ndarray) -> Features:
    """What the comparison needs of one shot (RGB or grey uint8 array, any size)."""
    grey = image if image.ndim == 2 else cv2.cvtColor(image[:, :, :3], cv2.COLOR_RGB2GRAY)
    height, width = grey.shape
    scale = SAMPLE_EDGE / max(height, width)
    if scale < 1:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    # Made per call: OpenCV's detectors are not safe to share between request threads.
    equalised = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(4, 4)).apply(grey)
    orb = cv2.ORB_create(nfeatures=800, fastThreshold=10, edgeThreshold=15, patchSize=15)
    keypoints, descriptors = orb.detectAndCompute(equalised, None)
    points = np.float32([k.pt for k in keypoints]).reshape(-1, 2)
    return Features(points, descriptors)


def scene_inliers(a: Features, b: Features) -> int:
    """How many feature matches one view (a homography) explains between two shots."""
    if a.descriptors is None or b.descriptors is None:
        return 0
    matches = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(a.descriptors, b.descriptors)
    if len(matches) < 4:  # a homography needs four
        return 0
    source = a.keypoints[[m.queryIdx for m in matches]]
    target = b.keypoints[[m.trainIdx for m in matches]]
    _, mask = cv2.findHomography(source, target, cv2.RANSAC, _RANSAC_PIXELS)
    return 0 if mask is None else int(mask.sum())


def scene_outliers(images: list[np.ndarray], *, reference: int | None = None) -> list[int]:
    """Indices of the shots that do not show the scene most of the group shows.

    Shots are linked when they match; the largest linked set is the scene (so a darkest and a
    brightest frame that match only through the middle one still belong). When no set is larger
    than the others, the ``reference`` shot's set is (default: the middle one).
    """
    if not images:
        return []
    features = [scene_features(image) for image in images]
    count = len(features)
    parent = list(range(count))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    for i in range(count):
        for j in range(i + 1, count):
            if root(i) != root(j) and scene_inliers(features[i], features[j]) >= SAME_SCENE_INLIERS:
                parent[root(j)] = root(i)
    groups: dict[int, list[int]] = {}
    for index in range(count):
        groups.setdefault(root(index), []).append(index)
    reference = count // 2 if reference is None else reference
    largest = max(len(members) for members in groups.values())
    biggest = [members for members in groups.values() if len(members) == largest]
    scene = next((m for m in biggest if reference in m), biggest[0])
    return [index for index in range(count) if index not in scene]
