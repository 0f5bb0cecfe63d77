"""Generative operations: each builds a prompt from its parameters and asks the job's AI runner.
A preset may replace the prompt; a mask (regions given with the job) limits the edit."""

from __future__ import annotations

import numpy as np

from imaging.ops.registry import OperationContext, Param, operation

ROOMS = ("living room", "bedroom", "kitchen", "dining room", "office", "bathroom", "kids room")
STYLES = ("modern", "scandinavian", "industrial", "classic", "coastal", "japandi", "luxury")
_KEEP = (
    "Keep the architecture, walls, windows, doors, floor, ceiling, lighting direction and camera "
    "perspective exactly as they are. Photorealistic real-estate photograph."
)


def _run(image, params, context: OperationContext, name: str, prompt: str) -> np.ndarray:
    if context.ai is None:
        raise ValueError(f"{name} needs an AI provider, which is not configured here")
    context.ai_operations.append(name)
    return context.ai.edit(
        image,
        operation=name,
        prompt=params.get("prompt") or prompt,
        params=params,
        mask_regions=context.mask_regions,
    )


@operation(
    "virtual_staging",
    kind="ai",
    summary="Furnish an empty room in a chosen style (disclosed as virtually staged).",
    room_type=Param(str, "living room", choices=ROOMS),
    style=Param(str, "modern", choices=STYLES),
    prompt=Param(str, "", help="Replaces the built-in prompt."),
)
def virtual_staging(image, params, context):
    prompt = (
        f"Virtually stage this empty {params['room_type']} with {params['style']} furniture, "
        f"rugs and decor that fit its size. {_KEEP}"
    )
    return _run(image, params, context, "virtual_staging", prompt)


@operation(
    "declutter",
    kind="ai",
    summary="Remove clutter and personal items (inside the mask when one is given).",
    prompt=Param(str, "", help="Replaces the built-in prompt."),
)
def declutter(image, params, context):
    prompt = (
        "Remove clutter, personal items, cables, toys and small objects so the room looks clean "
        f"and ready to list; fill in what was behind them naturally. {_KEEP}"
    )
    return _run(image, params, context, "declutter", prompt)


@operation(
    "sky_replacement",
    kind="ai",
    summary="Replace a dull or overexposed sky.",
    sky=Param(str, "clear blue", choices=("clear blue", "soft clouds", "sunset")),
    prompt=Param(str, "", help="Replaces the built-in prompt."),
)
def sky_replacement(image, params, context):
    prompt = (
        f"Replace the sky with a natural {params['sky']} sky and match the light on the building "
        f"to it. Change nothing below the skyline. {_KEEP}"
    )
    return _run(image, params, context, "sky_replacement", prompt)


@operation(
    "twilight",
    kind="ai",
    summary="Day-to-dusk: a twilight sky with warm interior lights.",
    prompt=Param(str, "", help="Replaces the built-in prompt."),
)
def twilight(image, params, context):
    prompt = (
        "Turn this daytime exterior into a twilight photograph: deep blue dusk sky, warm lights "
        f"glowing in the windows, exterior lights on. {_KEEP}"
    )
    return _run(image, params, context, "twilight", prompt)
