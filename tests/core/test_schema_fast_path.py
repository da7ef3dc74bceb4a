"""core.validation.Schema: the compiled fast path in front of jsonschema. Whatever either refuses is refused,
with a message naming the field."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.errors import InvalidParams
from core.validation import compile_schema, validate

SCHEMA = {"type": "object", "properties": {
    "rid": {"type": "string", "minLength": 1, "maxLength": 40, "pattern": "^[A-Za-z0-9_-]+$"},
    "msg": {"type": "string", "maxLength": 5000},
    "ts": {"not": {"type": ["array", "object", "boolean"]}},
    "tags": {"type": "array", "prefixItems": [{"type": "string"}], "items": {"type": "integer"}},
}, "required": ["rid"], "additionalProperties": False}

CASES = [   # (value, None when valid, else a fragment of the message)
    ({"rid": "GENERAL", "msg": "hi"}, None),
    ({"rid": "GENERAL", "ts": datetime.now(UTC)}, None),         # a date: only jsonschema can read it
    ({"rid": "GENERAL", "ts": {"$date": 1}}, "ts:"),
    ({"rid": "", "msg": "hi"}, "rid:"),
    ({"rid": "bad id!"}, "rid:"),
    ({"rid": "abc\n"}, "rid:"),              # Python's `re` lets `$` match before the newline; the spec does not
    ({"msg": "no room"}, "'rid' is a required property"),
    ({"rid": "x", "extra": 1}, "'extra' was unexpected"),
    ({"rid": "x", "tags": ["a", 1, 2]}, None),
    ({"rid": "x", "tags": ["a", "b"]}, "tags/1:"),
    ({"rid": "x", "msg": "é" * 5000}, None),
    ({"rid": "x", "msg": "é" * 5001}, "msg:"),
]


@pytest.mark.parametrize("value,refusal", CASES)
def test_fast_path_in_front_of_the_reference(value, refusal):
    schema = compile_schema(SCHEMA)
    assert schema.fast is not None
    assert schema.is_valid(value) is (refusal is None)
    if refusal is not None:
        with pytest.raises(InvalidParams) as err:
            validate(schema, value)
        assert refusal in err.value.message, err.value.message
