"""jsonschema validation with messages fit for a client."""
from __future__ import annotations

from typing import Any

from jsonschema import ValidationError

from core.errors import InvalidParams


def validation_message(errors: list[ValidationError]) -> str:
    parts = []
    for e in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path])[:5]:
        where = "/".join(str(p) for p in e.absolute_path)
        parts.append(f"{where}: {e.message}" if where else e.message)
    return "; ".join(parts)


def validate(validator: Any, value: Any) -> None:
    """Raise `InvalidParams` (400, `invalid-params`) listing what is wrong."""
    errors = list(validator.iter_errors(value))
    if errors:
        raise InvalidParams(validation_message(errors))
