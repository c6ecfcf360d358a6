"""Attachments: checking uploads by name *and* content, storing them under random keys, reading them back.

Files live in UPLOAD_FOLDER (outside the web root), never in the database. Only the allow-list
below is accepted, and the bytes must look like what the name claims, so a renamed executable
or an HTML page dressed as a PDF is refused.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import filetype
from flask import current_app
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from portal.services import ServiceError

# extension -> content type served back. Binary types are recognised by their magic bytes;
# text types must be valid UTF-8 with no NUL bytes.
BINARY_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "zip": "application/zip",
}
TEXT_TYPES = {"txt": "text/plain", "csv": "text/csv", "log": "text/plain", "json": "application/json"}
ALLOWED_EXTENSIONS = sorted({*BINARY_TYPES, *TEXT_TYPES})
# What filetype reports for each of our binary extensions.
_SNIFFED_AS = {"jpeg": "jpg"}


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes


def _extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def check_upload(file: FileStorage, *, max_bytes: int) -> Upload:
    """Read and check one uploaded file; raise ServiceError (field "attachments") if it is refused."""
    filename = secure_filename(file.filename or "")[:255]
    if not filename:
        raise ServiceError("Each attachment needs a file name.", field="attachments")
    ext = _extension(filename)
    if ext not in BINARY_TYPES and ext not in TEXT_TYPES:
        allowed = ", ".join(ALLOWED_EXTENSIONS)
        raise ServiceError(f"{filename}: this type of file is not accepted. Allowed: {allowed}.", field="attachments")
    data = file.stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ServiceError(f"{filename} is larger than {max_bytes // (1024 * 1024)} MB.", field="attachments")
    if not data:
        raise ServiceError(f"{filename} is empty.", field="attachments")
    if ext in TEXT_TYPES:
        if b"\x00" in data or not _is_utf8(data):
            raise ServiceError(f"{filename} does not look like a text file.", field="attachments")
        return Upload(filename, TEXT_TYPES[ext], data)
    kind = filetype.guess(data)
    if kind is None or kind.extension != _SNIFFED_AS.get(ext, ext):
        raise ServiceError(f"{filename}: the content does not match its .{ext} name.", field="attachments")
    return Upload(filename, BINARY_TYPES[ext], data)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def check_uploads(files: list[FileStorage], *, max_count: int, max_bytes: int) -> list[Upload]:
    """Check every non-empty file field; all must pass before anything is stored."""
    files = [f for f in files if f and f.filename]
    if len(files) > max_count:
        raise ServiceError(f"Attach at most {max_count} files at a time.", field="attachments")
    return [check_upload(f, max_bytes=max_bytes) for f in files]


def new_storage_key() -> str:
    return secrets.token_hex(20)


def storage_path(key: str) -> Path:
    if not key.isalnum():
        raise ValueError("bad storage key")
    return Path(current_app.config["UPLOAD_FOLDER"]) / key[:2] / key


def store(data: bytes) -> str:
    """Write the bytes under a fresh random key and return the key.

    Written before the database transaction commits: if it then rolls back, an orphan file is
    left behind (harmless, never served), never a record pointing at a missing file.
    """
    key = new_storage_key()
    path = storage_path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return key
