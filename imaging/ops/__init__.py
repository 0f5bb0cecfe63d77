"""Image operations: small functions of (image, validated params, context) → image, registered by
name with a parameter schema so presets can be validated, documented and listed by the API.

Images travel between operations as RGB ``uint8`` NumPy arrays (H×W×3, C-contiguous).
"""

from imaging.ops.registry import (
    REGISTRY,
    OperationContext,
    Pipeline,
    operation_schemas,
    validate_operations,
)

# Importing the modules registers their operations.
from imaging.ops import ai, encode, local, privacy  # noqa: F401  isort: skip

__all__ = [
    "REGISTRY",
    "OperationContext",
    "Pipeline",
    "operation_schemas",
    "validate_operations",
]
