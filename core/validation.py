"""jsonschema validation with messages fit for a client.

Every REST body and query and every DDP method's params are validated. A compiled validator
(`jsonschema_rs`, ~100x faster) answers first; input it does not accept outright goes to `jsonschema`, which
writes the messages. Input either one refuses is refused: the compiled one follows the specification's
regular expressions (`$` is the end of the text), where Python's `re` lets a `$` match before a trailing
newline. Values the compiled validator cannot read (dates decoded from EJSON) are left to `jsonschema`."""
from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import jsonschema_rs
import orjson
from jsonschema import Draft202012Validator, ValidationError

from core.errors import InvalidParams


class Schema:
    """A compiled schema: `iter_errors(value)` as jsonschema's, with the fast path in front."""

    def __init__(self, schema: dict) -> None:
        self.reference = Draft202012Validator(schema)
        try:
            self.fast: Any = jsonschema_rs.Draft202012Validator(schema)
        except Exception:   # a construct the compiled validator does not take: the reference alone
            self.fast = None

    def iter_errors(self, value: Any) -> Iterator[ValidationError]:
        if self.fast is None:
            return self.reference.iter_errors(value)
        try:
            if self.fast.is_valid(value):
                return iter(())
        except (ValueError, TypeError, OverflowError):   # e.g. a datetime from EJSON: the reference decides
            return self.reference.iter_errors(value)
        errors = list(self.reference.iter_errors(value))
        if errors:
            return iter(errors)
        return iter([ValidationError(e.message, path=list(e.instance_path)) for e in self.fast.iter_errors(value)])

    def is_valid(self, value: Any) -> bool:
        return next(self.iter_errors(value), None) is None


def compile_schema(schema: dict) -> Schema:
    """A validator for `schema`, checked against the metaschema once per process: every app start declares
    the same schemas again, and checking hundreds of them each time costs most of a second."""
    _check(orjson.dumps(schema, default=repr, option=orjson.OPT_SORT_KEYS))
    return Schema(schema)


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
