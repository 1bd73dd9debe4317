"""Decoding and validation of job parameters, and their description for ListJobTypes.

A job type declares its parameters as one of:
- a protobuf message of the `JobParams.kind` oneof (the built-in `PdfParams`, ...);
- a dataclass, filled from the `custom` Struct with every field type-checked;
- nothing, in which case the handler receives the `custom` Struct as a plain dict.
"""

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from google.protobuf import json_format, struct_pb2
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from jobwire.server.errors import InvalidParameters
from jobwire.v1 import job_pb2, job_service_pb2


class ParamsCodec(Protocol):
    """Turns submitted `JobParams` into what a handler receives, or says why it cannot."""

    params_message: str

    def decode(self, params: job_pb2.JobParams) -> Any: ...

    def describe(self) -> list[job_service_pb2.ParameterSpec]: ...


def codec_for(params: type | None, validate: Callable[[Any], None] | None) -> ParamsCodec:
    """Chooses the codec for what a job type declared as its parameters."""
    if params is None:
        return FreeFormParams()
    if issubclass(params, Message):
        return MessageParams(params, validate)
    if dataclasses.is_dataclass(params):
        return DataclassParams(params, validate)
    raise TypeError(f"parameters must be a protobuf message or a dataclass, not {params!r}")


def struct_to_dict(struct: struct_pb2.Struct) -> dict[str, Any]:
    """Converts a Struct to plain Python values, with whole numbers as ints."""
    return {key: _plain(value) for key, value in json_format.MessageToDict(struct).items()}


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


class FreeFormParams:
    """Any `custom` Struct, handed over as a dict."""

    params_message = ""

    def decode(self, params: job_pb2.JobParams) -> dict[str, Any]:
        kind = params.WhichOneof("kind")
        if kind not in (None, "custom"):
            raise InvalidParameters(kind, "this job type takes custom parameters")
        return struct_to_dict(params.custom)

    def describe(self) -> list[job_service_pb2.ParameterSpec]:
        return []


class MessageParams:
    """One typed message of the `JobParams.kind` oneof, e.g. `pdf` for `PdfParams`."""

    def __init__(self, message: type[Message], validate: Callable[[Any], None] | None) -> None:
        self.message = message
        self.params_message = message.DESCRIPTOR.full_name
        self.oneof_field = _oneof_field_for(message)
        self.validate = validate

    def decode(self, params: job_pb2.JobParams) -> Message:
        kind = params.WhichOneof("kind")
        if kind not in (None, self.oneof_field):
            raise InvalidParameters(kind, f"this job type takes `{self.oneof_field}` parameters")

        decoded = self.message()
        if kind is not None:
            decoded.CopyFrom(getattr(params, self.oneof_field))
        if self.validate is not None:
            self.validate(decoded)
        return decoded

    def describe(self) -> list[job_service_pb2.ParameterSpec]:
        fields = typing.cast(list[FieldDescriptor], self.message.DESCRIPTOR.fields)
        return [_describe_field(field) for field in fields]


def _oneof_field_for(message: type[Message]) -> str:
    for field in job_pb2.JobParams.DESCRIPTOR.oneofs_by_name["kind"].fields:
        if field.message_type is message.DESCRIPTOR:
            return field.name
    raise TypeError(f"{message.DESCRIPTOR.full_name} is not a member of JobParams.kind")


_PROTO_TYPE_NAMES = {
    FieldDescriptor.TYPE_STRING: "string",
    FieldDescriptor.TYPE_BOOL: "boolean",
    FieldDescriptor.TYPE_INT32: "integer",
    FieldDescriptor.TYPE_INT64: "integer",
    FieldDescriptor.TYPE_DOUBLE: "number",
    FieldDescriptor.TYPE_FLOAT: "number",
    FieldDescriptor.TYPE_ENUM: "enum",
    FieldDescriptor.TYPE_MESSAGE: "object",
}


def _describe_field(field: FieldDescriptor) -> job_service_pb2.ParameterSpec:
    spec = job_service_pb2.ParameterSpec(
        name=field.name, type=_PROTO_TYPE_NAMES.get(field.type, "string")
    )
    if field.enum_type is not None:
        spec.allowed_values.extend(value.name for value in field.enum_type.values)
    if field.is_repeated:
        spec.type = "array"
    return spec


class DataclassParams:
    """A dataclass filled from the `custom` Struct; unknown or mistyped fields are refused."""

    params_message = ""

    def __init__(self, cls: type, validate: Callable[[Any], None] | None) -> None:
        self.cls = cls
        self.fields = {field.name: field for field in dataclasses.fields(cls)}
        self.hints = typing.get_type_hints(cls)
        self.validate = validate

    def decode(self, params: job_pb2.JobParams) -> Any:
        values = FreeFormParams().decode(params)
        unknown = sorted(set(values) - set(self.fields))
        if unknown:
            raise InvalidParameters(unknown[0], "unknown parameter")

        checked = {name: self._check(name, value) for name, value in values.items()}
        try:
            decoded = self.cls(**checked)
        except TypeError as error:
            missing = [name for name in self.fields if name not in checked]
            raise InvalidParameters(missing[0] if missing else "", str(error)) from error
        except InvalidParameters:
            raise
        except ValueError as error:
            raise InvalidParameters("", str(error)) from error

        if self.validate is not None:
            self.validate(decoded)
        return decoded

    def _check(self, name: str, value: Any) -> Any:
        expected = self.hints[name]
        if not _matches(value, expected):
            raise InvalidParameters(name, f"expected {_type_name(expected)}, got {value!r}")
        if expected is float and isinstance(value, int):
            return float(value)
        return value

    def describe(self) -> list[job_service_pb2.ParameterSpec]:
        return [self._describe(field) for field in self.fields.values()]

    def _describe(self, field: dataclasses.Field[Any]) -> job_service_pb2.ParameterSpec:
        expected = self.hints[field.name]
        spec = job_service_pb2.ParameterSpec(
            name=field.name,
            type=_type_name(expected),
            required=field.default is dataclasses.MISSING
            and field.default_factory is dataclasses.MISSING,
            description=str(field.metadata.get("description", "")),
        )
        if typing.get_origin(expected) is typing.Literal:
            spec.allowed_values.extend(str(value) for value in typing.get_args(expected))
        if field.default is not dataclasses.MISSING:
            spec.default_value.CopyFrom(_to_value(field.default))
        return spec


def _matches(value: Any, expected: Any) -> bool:
    origin = typing.get_origin(expected)
    if origin is typing.Literal:
        return value in typing.get_args(expected)
    if origin in (types.UnionType, typing.Union):
        return any(_matches(value, option) for option in typing.get_args(expected))
    if expected is type(None):
        return value is None
    if expected is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if expected is Any:
        return True
    return isinstance(value, origin or expected)


def _type_name(expected: Any) -> str:
    origin = typing.get_origin(expected)
    if origin is typing.Literal:
        return "enum"
    if origin in (types.UnionType, typing.Union):
        options = [arg for arg in typing.get_args(expected) if arg is not type(None)]
        return _type_name(options[0]) if len(options) == 1 else "any"
    names: Mapping[Any, str] = {
        str: "string",
        int: "integer",
        float: "number",
        bool: "boolean",
        dict: "object",
        list: "array",
    }
    return names.get(origin or expected, "any")


def _to_value(value: Any) -> struct_pb2.Value:
    wrapper = struct_pb2.Struct()
    wrapper.update({"value": value})
    return wrapper.fields["value"]
