"""How hostile or broken input ends: a `JobFailed` with a stable code, never retried.

The functions that run in the process pool wrap their work in `translate_failures()`, so
the exceptions of pypdf, PDFium and Pillow, and a MemoryError from the pool's address-space
limit, reach the handler as `JobFailed` (which pickles with its code and details).
"""

from collections.abc import Iterator
from contextlib import contextmanager

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
from PIL import Image, UnidentifiedImageError
from pypdf.errors import FileNotDecryptedError, LimitReachedError, PdfReadError, PyPdfError

from jobwire.server.errors import (
    INPUT_CORRUPT,
    INPUT_ENCRYPTED,
    INPUT_NOT_FOUND,
    INPUT_TOO_LARGE,
    JobFailed,
)


def input_failure(code: str, message: str, **details: str) -> JobFailed:
    """A permanent failure caused by the input file."""
    return JobFailed(message, code=code, retryable=False, details=details)


def too_large(message: str, **details: str) -> JobFailed:
    return input_failure(INPUT_TOO_LARGE, message, **details)


def corrupt(message: str, **details: str) -> JobFailed:
    return input_failure(INPUT_CORRUPT, message, **details)


def encrypted(message: str, **details: str) -> JobFailed:
    return input_failure(INPUT_ENCRYPTED, message, **details)


@contextmanager
def translate_failures(what: str) -> Iterator[None]:
    """Turns the libraries' exceptions raised while reading `what` into `JobFailed`."""
    try:
        yield
    except JobFailed:
        raise
    except MemoryError as error:
        raise too_large(f"{what} needs more memory than a worker may use") from error
    except (LimitReachedError, Image.DecompressionBombError) as error:
        raise too_large(f"{what} exceeds a safety limit: {error}") from error
    except FileNotDecryptedError as error:
        raise encrypted(f"{what} is encrypted and {_password_problem(error)}") from error
    except pdfium.PdfiumError as error:
        raise _pdfium_failure(what, error) from error
    except FileNotFoundError as error:
        raise input_failure(INPUT_NOT_FOUND, f"{what} no longer exists") from error
    except (PdfReadError, PyPdfError, UnidentifiedImageError) as error:
        raise corrupt(f"{what} cannot be read: {error}") from error
    except RecursionError as error:
        raise corrupt(f"{what} nests its objects too deeply") from error


def _password_problem(error: FileNotDecryptedError) -> str:
    if "wrong password" in str(error).lower():
        return "the password is wrong"
    return "no password was given"


def _pdfium_failure(what: str, error: pdfium.PdfiumError) -> JobFailed:
    if error.err_code == pdfium_raw.FPDF_ERR_PASSWORD:
        return encrypted(f"{what} is encrypted and the password is missing or wrong")
    if error.err_code == pdfium_raw.FPDF_ERR_SECURITY:
        return encrypted(f"{what} uses an unsupported security scheme")
    return corrupt(f"{what} cannot be read: {error}")
