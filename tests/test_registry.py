"""Declaring and registering job types, and checking their parameters."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest

from jobwire.server.builtin_handlers import noop, sleep
from jobwire.server.config import load_settings
from jobwire.server.context import JobContext
from jobwire.server.errors import ConfigurationError, InvalidParameters, RegistrationError
from jobwire.server.registry import HandlerRegistry, job_type
from jobwire.v1 import job_pb2


def test_a_plain_function_is_refused_by_name() -> None:
    def not_async(ctx: JobContext[Any]) -> None:
        return None

    with pytest.raises(RegistrationError, match=r"not_async of job type 'plain' must be an async"):
        job_type("plain")(not_async)  # type: ignore[arg-type]


def test_a_second_handler_for_a_type_is_refused_naming_both() -> None:
    @job_type("noop")
    async def another_noop(ctx: JobContext[Any]) -> None:
        return None

    registry = HandlerRegistry()
    registry.add(noop)
    with pytest.raises(RegistrationError, match=r"registered twice: by .*noop and .*another_noop"):
        registry.add(another_noop)


def test_entry_points_register_the_installed_types() -> None:
    registry = HandlerRegistry()
    registry.load_entry_points()

    assert {"noop", "sleep", "pdf", "ocr", "session"} <= set(registry.names())


@dataclass(frozen=True)
class ResizeParams:
    width: int
    mode: Literal["fit", "fill"] = "fit"
    quality: float = 0.8


@job_type("resize", params=ResizeParams)
async def resize(ctx: JobContext[ResizeParams]) -> None:
    return None


def custom(**values: Any) -> job_pb2.JobParams:
    params = job_pb2.JobParams()
    params.custom.update(values)
    return params


def test_dataclass_parameters_are_decoded_and_type_checked() -> None:
    decoded = resize.codec.decode(custom(width=640, quality=1))

    assert decoded == ResizeParams(width=640, mode="fit", quality=1.0)
    with pytest.raises(InvalidParameters, match="width: expected integer"):
        resize.codec.decode(custom(width="wide"))
    with pytest.raises(InvalidParameters, match="mode: expected enum"):
        resize.codec.decode(custom(width=1, mode="stretch"))
    with pytest.raises(InvalidParameters) as missing:
        resize.codec.decode(custom())
    assert missing.value.field == "width"


def test_typed_parameters_of_another_type_are_refused() -> None:
    params = job_pb2.JobParams()
    params.pdf.file_path = "a.pdf"

    with pytest.raises(InvalidParameters, match="custom parameters"):
        sleep.codec.decode(params)


def test_settings_come_from_yaml_and_environment(tmp_path: Path) -> None:
    config = tmp_path / "jobwire.yaml"
    config.write_text("generic_worker:\n  poll_interval: 2\n  per_type: {pdf: 2}\n")

    settings = load_settings(
        config, {"JOBWIRE_GENERIC_WORKER_MAX_ATTEMPTS": "7", "MONGODB_URI": "mongodb://db/x"}
    )

    assert settings.generic_worker.poll_interval == 2.0
    assert settings.generic_worker.per_type == {"pdf": 2}
    assert settings.generic_worker.max_attempts == 7
    assert settings.storage.mongodb_uri == "mongodb://db/x"
    config.write_text("generic_worker:\n  pol_interval: 2\n")
    with pytest.raises(ConfigurationError, match="pol_interval"):
        load_settings(config, {})
