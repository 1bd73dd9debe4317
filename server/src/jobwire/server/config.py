"""Server settings: defaults here, a YAML file over them, environment variables over both.

The YAML file has one section per dataclass below (`generic_worker`, `storage`, `api`,
`documents`). Every setting can also be given as `JOBWIRE_<SECTION>_<SETTING>`, e.g.
`JOBWIRE_GENERIC_WORKER_POLL_INTERVAL=0.5`; `MONGODB_URI` names the database.
"""

import dataclasses
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from jobwire.server.errors import ConfigurationError
from jobwire.server.storage import names


@dataclass(frozen=True)
class WorkerSettings:
    """How the engine claims and runs jobs (section `generic_worker`)."""

    max_concurrent_workers: int = 8
    """Jobs this server runs at once, over all types."""
    max_concurrent_per_type: int = 8
    """Jobs of one type this server runs at once, unless the type or `per_type` says less."""
    per_type: dict[str, int] = field(default_factory=dict)
    """Concurrency of single types, e.g. {"pdf": 2}."""
    poll_interval: float = 1.0
    """Seconds between looks for work that other instances accepted."""
    lease_seconds: float = 30.0
    """How long a claim holds without renewal; renewed every third of it."""
    max_attempts: int = 3
    """Attempts of a job whose type and submission do not say otherwise."""
    backoff_initial: float = 1.0
    """Retry delay after the first failed attempt, in seconds; doubles per attempt."""
    backoff_max: float = 300.0
    """Longest retry delay, in seconds."""
    backoff_jitter: float = 1.0
    """Random seconds (0 to this) added to each retry delay."""
    cancel_grace: float = 5.0
    """Seconds a cancelled handler may take to stop before its task is cancelled."""
    shutdown_grace: float = 20.0
    """Seconds running jobs may take to finish on SIGTERM before they are requeued."""
    progress_interval: float = 0.1
    """Least seconds between two progress writes of one job; events in between coalesce."""
    batch_count_interval: float = 0.05
    """Least seconds between two writes of batch counts; job moves in between are summed."""
    sweep_interval: float = 5.0
    """Seconds between sweeps for expired leases and batch recounts."""
    process_workers: int = 2
    """Processes in the pool for CPU-bound handler work."""
    process_memory_limit_mb: int = 2048
    """Address-space limit of each pool process; work beyond it fails, not the server."""


@dataclass(frozen=True)
class StorageSettings:
    """Where jobs live (section `storage`)."""

    mongodb_uri: str = ""
    """The database server; `MONGODB_URI` overrides it."""
    database: str = "jobwire"
    """Database name, unless the URI names one."""
    jobs_collection: str = names.JOBS_COLLECTION
    batches_collection: str = names.BATCHES_COLLECTION
    uploads_bucket: str = names.UPLOADS_BUCKET
    artifacts_bucket: str = names.ARTIFACTS_BUCKET
    connect_timeout: float = 10.0
    """Seconds to wait for the database at start-up."""


@dataclass(frozen=True)
class ApiSettings:
    """The gRPC front (section `api`)."""

    listen: str = "127.0.0.1:50051"
    default_tenant: str = "default"
    """Tenant of every call while authentication is off."""
    max_batch_size: int = 10_000
    """Jobs one SubmitBatch may carry."""
    max_message_mb: int = 64
    """Largest request or response message."""


@dataclass(frozen=True)
class DocumentSettings:
    """Inputs, limits and templates of the document processors (section `documents`)."""

    input_roots: tuple[str, ...] = ()
    """Directories `file_path` inputs must lie in; none means only uploads are accepted."""
    templates_dir: str = ""
    """Extra Jinja2 templates, found before the built-in ones."""
    max_upload_mb: int = 200
    """Largest file UploadFile accepts."""
    max_pages: int = 5_000
    """Pages a PDF may have before it fails with INPUT_TOO_LARGE."""
    max_image_pixels: int = 100_000_000
    """Pixels an embedded or input image may have before it fails with INPUT_TOO_LARGE."""
    file_retention_hours: float = 24.0
    """Uploads and artifacts that no job references are deleted after this long."""
    inline_result_limit_kb: int = 1024
    """Results larger than this are stored as an artifact instead of in the job."""


@dataclass(frozen=True)
class Settings:
    """Every setting of one server."""

    generic_worker: WorkerSettings = field(default_factory=WorkerSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    documents: DocumentSettings = field(default_factory=DocumentSettings)


def load_settings(path: Path | None = None, environ: Mapping[str, str] = os.environ) -> Settings:
    """Reads the YAML file (if any) and applies environment overrides."""
    document = _read_yaml(path) if path else {}
    unknown = set(document) - {section.name for section in dataclasses.fields(Settings)}
    if unknown:
        raise ConfigurationError(f"unknown section(s) in {path}: {', '.join(sorted(unknown))}")

    sections = {
        section.name: _build_section(section.name, section.type, document, environ)
        for section in dataclasses.fields(Settings)
    }
    settings = Settings(**sections)

    if "MONGODB_URI" in environ:
        storage = dataclasses.replace(settings.storage, mongodb_uri=environ["MONGODB_URI"])
        settings = dataclasses.replace(settings, storage=storage)
    return settings


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ConfigurationError(f"cannot read configuration {path}: {error}") from error
    if not isinstance(document, dict):
        raise ConfigurationError(f"configuration {path} must be a mapping of sections")
    return document


def _build_section(
    name: str, section_type: Any, document: Mapping[str, Any], environ: Mapping[str, str]
) -> Any:
    values = dict(document.get(name) or {})
    hints = typing.get_type_hints(section_type)
    unknown = set(values) - set(hints)
    if unknown:
        raise ConfigurationError(f"unknown setting(s) in {name}: {', '.join(sorted(unknown))}")

    for setting in hints:
        variable = f"JOBWIRE_{name}_{setting}".upper()
        if variable in environ:
            values[setting] = _parse_env(variable, environ[variable], hints[setting])

    checked = {key: _coerce(f"{name}.{key}", value, hints[key]) for key, value in values.items()}
    return section_type(**checked)


def _parse_env(variable: str, raw: str, expected: Any) -> Any:
    if expected is str:
        return raw
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as error:
        raise ConfigurationError(f"{variable}: cannot parse {raw!r}") from error


def _coerce(name: str, value: Any, expected: Any) -> Any:
    origin = typing.get_origin(expected)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if origin is tuple and isinstance(value, list | tuple | str):
        return tuple([value] if isinstance(value, str) else value)
    if origin is dict and isinstance(value, dict):
        return value
    if origin not in (None, types.UnionType) or isinstance(value, bool) != (expected is bool):
        raise ConfigurationError(f"{name}: expected {expected}, got {value!r}")
    if not isinstance(value, expected):
        raise ConfigurationError(f"{name}: expected {expected.__name__}, got {value!r}")
    return value
