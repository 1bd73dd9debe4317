"""Turning `--param KEY=VALUE` arguments into job parameters."""

import json
from typing import Any

from google.protobuf import json_format, symbol_database
from google.protobuf.message import Message

from jobwire.client.specs import Params

# Imported for its side effect: the typed parameter messages join the symbol database.
from jobwire.v1 import documents_pb2 as _documents_pb2  # noqa: F401
from jobwire.v1 import job_service_pb2


class ParamError(ValueError):
    """A `--param` argument cannot be used."""


def parse_assignments(assignments: list[str]) -> dict[str, Any]:
    """`["pages=1-3", "include_images=true"]` -> {"pages": "1-3", "include_images": True}.

    Values are read as JSON when they are valid JSON (numbers, booleans, lists),
    otherwise kept as strings; dotted keys build nested objects.
    """
    values: dict[str, Any] = {}
    for assignment in assignments:
        key, separator, raw = assignment.partition("=")
        if not separator or not key:
            raise ParamError(f"--param {assignment!r}: expected KEY=VALUE")
        target = values
        *parents, leaf = key.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = _value(raw)
    return values


def _value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def typed_params(values: dict[str, Any], job_type: job_service_pb2.JobTypeInfo) -> Params:
    """The parameters as the job type takes them: its typed message, or a plain dict."""
    if not job_type.params_message:
        return values

    message_class = symbol_database.Default().GetSymbol(job_type.params_message)
    message: Message = message_class()
    _expand_enum_names(values, message)
    try:
        json_format.ParseDict(values, message)
    except json_format.ParseError as error:
        raise ParamError(f"{job_type.job_type} parameters: {error}") from error
    return message


def _expand_enum_names(values: dict[str, Any], message: Message) -> None:
    """Lets `extraction_method=auto` stand for EXTRACTION_METHOD_AUTO."""
    for field in message.DESCRIPTOR.fields:
        value = values.get(field.name)
        if field.enum_type is None or not isinstance(value, str):
            continue
        names = [enum_value.name for enum_value in field.enum_type.values]
        for name in names:
            if name.lower().endswith("_" + value.lower()):
                values[field.name] = name
