"""jsonschema validation with messages fit for a client."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson
from jsonschema import Draft202012Validator, ValidationError

from core.errors import InvalidParams


def compile_schema(schema: dict) -> Draft202012Validator:
    """A validator for `schema`, checked against the metaschema once per process: every app start declares
    the same schemas again, and checking hundreds of them each time costs most of a second."""
    _check(orjson.dumps(schema, default=repr, option=orjson.OPT_SORT_KEYS))
    return Draft202012Validator(schema)


@lru_cache(maxsize=4096)
def _check(canonical: bytes) -> None:
    Draft202012Validator.check_schema(orjson.loads(canonical))


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
