"""A dict kept in a marshal file behind a header that says what built it (the cold-start caches of
`infra/dataclass_code.py` and `infra/botocore_data.py`): a missing, foreign or damaged file reads as nothing."""

from __future__ import annotations

import marshal
import os
from pathlib import Path
from typing import Any


def read(path: Path, header: bytes) -> dict[str, Any] | None:
    """The dict, or None when the file is missing, was built under another header, or is not one."""
    try:
        with open(path, "rb") as f:
            data = f.read()  # then loads: marshal.load reads a file in small pieces, several times slower
        if not data.startswith(header):
            return None
        found = marshal.loads(memoryview(data)[len(header):])
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return found if isinstance(found, dict) else None


def write(path: Path, header: bytes, data: dict[str, Any]) -> None:
    """Written whole or not at all: a Lambda artifact build running beside a test never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    with open(temporary, "wb") as f:
        f.write(header)
        marshal.dump(dict(sorted(data.items())), f)
    os.replace(temporary, path)
