"""The operation registry, its parameter schema, and validation of operation lists."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from photolisting.errors import ApplicationError

_REQUIRED = object()


@dataclass(frozen=True)
class Param:
    """One parameter of an operation: its type, default, bounds or choices, and what it does."""

    type: type
    default: Any = _REQUIRED
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple | None = None
    help: str = ""

    def clean(self, value: Any) -> Any:
        if value is None and self.default is None:
            return None
        if self.type is bool:
            if not isinstance(value, bool):
                raise ValueError("must be true or false")
            return value
        if self.type in (int, float):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"must be a number ({self.type.__name__})")
            if self.type is int and float(value) != int(value):
                raise ValueError("must be a whole number")
            value = self.type(value)
            if self.minimum is not None and value < self.minimum:
                raise ValueError(f"must be at least {self.minimum}")
            if self.maximum is not None and value > self.maximum:
                raise ValueError(f"must be at most {self.maximum}")
            return value
        if self.type is str:
            if not isinstance(value, str):
                raise ValueError("must be a string")
            if self.choices and value not in self.choices:
                raise ValueError(f"must be one of {', '.join(self.choices)}")
            if len(value) > 1000:
                raise ValueError("is too long (1000 characters at most)")
            return value
        if self.type is list:
            if not isinstance(value, list):
                raise ValueError("must be a list")
            return value
        raise TypeError(self.type)

    def json_schema(self) -> dict:
        names = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array"}
        schema: dict[str, Any] = {"type": names[self.type]}
        if self.default is not _REQUIRED:
            schema["default"] = self.default
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.choices:
            schema["enum"] = list(self.choices)
        if self.help:
            schema["description"] = self.help
        return schema


@dataclass
class OperationContext:
    """What an operation may need beyond its parameters: branding, the AI runner, a mask."""

    watermark_text: str = ""
    logo: Any = None  # PIL.Image or None
    ai: Any = None  # processing.ai.AIRunner or None
    mask_regions: list = field(default_factory=list)
    brackets: list[np.ndarray] = field(default_factory=list)
    icc_profile: bytes | None = None
    ai_operations: list[str] = field(default_factory=list)

    @property
    def ai_edited(self) -> bool:
        return bool(self.ai_operations)


@dataclass(frozen=True)
class Operation:
    name: str
    kind: str  # "local", "ai" or "encode"
    summary: str
    params: dict[str, Param]
    function: Callable[..., Any]

    def clean(self, raw: dict) -> tuple[dict, dict]:
        """Validated params with defaults filled in, and per-parameter errors."""
        cleaned, errors = {}, {}
        unknown = set(raw) - set(self.params)
        for name in sorted(unknown):
            errors[name] = "is not a parameter of this operation"
        for name, param in self.params.items():
            if name not in raw:
                if param.default is _REQUIRED:
                    errors[name] = "is required"
                else:
                    cleaned[name] = param.default
                continue
            try:
                cleaned[name] = param.clean(raw[name])
            except ValueError as error:
                errors[name] = str(error)
        return cleaned, errors


REGISTRY: dict[str, Operation] = {}


def operation(name: str, *, kind: str = "local", summary: str, **params: Param):
    """Registers ``function(image, params, context) -> image`` under ``name``."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        REGISTRY[name] = Operation(name, kind, summary, params, function)
        return function

    return register


@dataclass(frozen=True)
class Step:
    op: str
    params: dict

    def as_json(self) -> dict:
        return {"op": self.op, "params": self.params}


@dataclass(frozen=True)
class Pipeline:
    steps: tuple[Step, ...]

    @property
    def ai_steps(self) -> int:
        return sum(REGISTRY[s.op].kind == "ai" for s in self.steps)

    @property
    def needs_brackets(self) -> bool:
        return bool(self.steps) and self.steps[0].op == "hdr_merge"

    def as_json(self) -> list[dict]:
        return [step.as_json() for step in self.steps]


def validate_operations(raw: Any) -> Pipeline:
    """A preset's operation list, checked; refused with per-step details otherwise."""
    if not isinstance(raw, list) or not raw:
        raise _invalid({"operations": "must be a non-empty list of {op, params} objects"})
    if len(raw) > 20:
        raise _invalid({"operations": "has more than 20 steps"})
    steps, details = [], {}
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("op"), str):
            details[str(index)] = {"op": "each step needs an 'op' name"}
            continue
        operation_ = REGISTRY.get(item["op"])
        if operation_ is None:
            details[str(index)] = {"op": f"unknown operation {item['op']!r}"}
            continue
        params = item.get("params", {})
        if not isinstance(params, dict):
            details[str(index)] = {"params": "must be an object"}
            continue
        cleaned, errors = operation_.clean(params)
        if errors:
            details[str(index)] = {"params": errors}
        steps.append(Step(operation_.name, cleaned))
    names = [s.op for s in steps]
    if "encode" in names and names.index("encode") != len(names) - 1:
        details["order"] = "'encode' must be the last step"
    if names.count("encode") > 1:
        details["order"] = "'encode' may appear once"
    if "hdr_merge" in names[1:]:
        details["order"] = "'hdr_merge' must be the first step"
    if details:
        raise _invalid(details)
    return Pipeline(tuple(steps))


def _invalid(details: dict) -> ApplicationError:
    return ApplicationError(
        "The operation list is not valid.", code="invalid_operations", details=details
    )


def operation_schemas() -> list[dict]:
    """Every operation with a JSON schema of its parameters, for the API and the docs."""
    return [
        {
            "name": op.name,
            "kind": op.kind,
            "summary": op.summary,
            "params": {
                "type": "object",
                "properties": {name: p.json_schema() for name, p in op.params.items()},
                "required": [n for n, p in op.params.items() if p.default is _REQUIRED],
                "additionalProperties": False,
            },
        }
        for op in REGISTRY.values()
    ]
