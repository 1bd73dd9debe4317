"""Markdown through Jinja2 templates: the configured templates directory first, then ours.

A template named "default" is the file `default.md.j2`. Every template sees the same
variables, whichever job type renders it:

- `context`: the job's `context` parameter, a dict;
- `documents`: the extracted documents, each a dict with `title`, `source`, `page_count`,
  `metadata` (title, author, subject, creator, producer, created_at, modified_at as ISO
  8601 or ""), `pages` (number, text, ocr, confidence), `images` (id, name,
  content_type, size, sha256, page), `text` (all pages), and `error` (code, message) or None;
- `document`: the first of `documents`, or None;
- `session`: event, title, track, day, start_time, end_time, speakers (name, affiliation)
  and source_language; a `pdf` job takes these from `context`, the title defaulting to the
  document's;
- `attachments`: the session's attachments, each with `title`, `source`, `document` (as in
  `documents`, or None) and `error`.

Undefined names fail the rendering (StrictUndefined): test optional values with
`is defined` or `| default(...)`. Autoescape is off, as Markdown is not HTML. Templates
run sandboxed, so a template cannot reach into the server's objects.
"""

import functools
import re
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from jobwire.server.errors import HANDLER_ERROR, INVALID_PARAMETERS, InvalidParameters, JobFailed

BUILTIN_DIR = Path(__file__).parent / "templates"
SUFFIX = ".md.j2"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*$")
_MAX_NAME = 100


@functools.cache
def builtin_names() -> tuple[str, ...]:
    """The templates shipped with the handlers, e.g. ("default", "session")."""
    return tuple(sorted(path.name.removesuffix(SUFFIX) for path in BUILTIN_DIR.glob(f"*{SUFFIX}")))


def check_template_name(name: str, *, field: str = "template", templates_dir: str = "") -> None:
    """Refuses a name that could leave the template directories, or that no template has.

    Without `templates_dir` a well-formed name that is not built in is accepted here and
    checked when the job renders.
    """
    if len(name) > _MAX_NAME or not _NAME.match(name):
        raise InvalidParameters(
            field, f"{name!r} is not a template name (letters, digits, '-', '_', '.')"
        )
    if name in builtin_names() or not templates_dir:
        return
    if not (Path(templates_dir) / f"{name}{SUFFIX}").is_file():
        raise InvalidParameters(
            field, f"no template {name!r}: built in are {', '.join(builtin_names())}"
        )


@functools.lru_cache(maxsize=8)
def environment(templates_dir: str) -> jinja2.Environment:
    """The Jinja2 environment for a templates directory ("" for the built-ins only)."""
    loaders: list[jinja2.BaseLoader] = []
    if templates_dir:
        loaders.append(jinja2.FileSystemLoader(templates_dir))
    loaders.append(jinja2.FileSystemLoader(BUILTIN_DIR))
    return ImmutableSandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_markdown(templates_dir: str, name: str, variables: dict[str, Any]) -> str:
    """Renders template `name` with `variables`; runs in the process pool.

    A missing template or a value the template needs but the job did not give fails with
    INVALID_PARAMETERS; a broken template file with HANDLER_ERROR.
    """
    try:
        template = environment(templates_dir).get_template(f"{name}{SUFFIX}")
    except jinja2.TemplateNotFound as error:
        raise JobFailed(
            f"no template {name!r}", code=INVALID_PARAMETERS, details={"field": "template"}
        ) from error
    except jinja2.TemplateSyntaxError as error:
        raise JobFailed(
            f"template {name!r} is broken: {error.message} (line {error.lineno})",
            code=HANDLER_ERROR,
        ) from error

    try:
        return template.render(variables)
    except jinja2.UndefinedError as error:
        raise JobFailed(
            f"template {name!r} needs a value the job did not give: {error.message}",
            code=INVALID_PARAMETERS,
            details={"field": "context"},
        ) from error
    except jinja2.TemplateError as error:
        raise JobFailed(f"template {name!r} failed: {error}", code=HANDLER_ERROR) from error
