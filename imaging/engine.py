"""Runs a validated pipeline on an image: the same engine for jobs and ``manage.py enhance``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from imaging.ops import REGISTRY, OperationContext, Pipeline
from imaging.ops.encode import EncodedImage
from imaging.ops.registry import Step

DEFAULT_ENCODE = Step("encode", REGISTRY["encode"].clean({})[0])


def run_pipeline(
    image: np.ndarray,
    pipeline: Pipeline,
    context: OperationContext,
    on_step: Callable[[int, int, str], None] | None = None,
) -> EncodedImage:
    """Applies each step in order and encodes (JPEG by default when the preset does not say).

    ``on_step(done, total, name)`` is called after every step, for progress and cancellation.
    """
    steps = list(pipeline.steps)
    if not steps or steps[-1].op != "encode":
        steps.append(DEFAULT_ENCODE)
    image = np.ascontiguousarray(image)
    for index, step in enumerate(steps):
        result = REGISTRY[step.op].function(image, step.params, context)
        if on_step is not None:
            on_step(index + 1, len(steps), step.op)
        if isinstance(result, EncodedImage):
            return result
        image = result
    raise AssertionError("a pipeline always ends with encode")
