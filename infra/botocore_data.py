"""botocore's service models and endpoint data, read from a marshal file built with the artifact instead of parsed
from JSON at every cold start.

A botocore client's first creation parses DynamoDB's service model, its endpoint rules and botocore's endpoint and
partition tables: about 1 MB of JSON, 25 ms of CPU in a Lambda's cold start (README, "Cold-start cost"). The data
only changes with botocore, which the artifact pins, so `python -m infra.botocore_data` (the Makefile, beside
infra/dataclass_code.py) loads the files the functions' clients read, through botocore's own loader, and keeps the
result in `CACHE` (marshal: reading it back is about four times faster than parsing the JSON). `install()` has every
botocore loader of the process read those files from there; any other file, or all of them when the cache is absent
or was built for another botocore, is read from botocore's JSON as usual.

The one difference is the mapping type: botocore parses JSON objects into `OrderedDict`s, the cache gives plain
dicts, which keep the same order (botocore relies on order, not on the type: tests/unit/test_botocore_data.py
checks that the data is equal and that clients built from it send the same requests).
"""

from __future__ import annotations

import marshal
import os
import sys
from pathlib import Path
from typing import Any

from infra import marshal_file

CACHE = Path(__file__).parent / "__pycache__" / f"botocore_data.{sys.implementation.cache_tag}.marshal"
# The services whose clients the functions create (DynamoDB, EventBridge, SQS for the sweep, Lambda for partner
# plugins, S3 for the audit archive, DynamoDB Streams locally).
SERVICES = ("dynamodb", "events", "sqs", "lambda", "s3", "dynamodbstreams")

_data: dict[str, Any] = {}  # path relative to botocore's parent folder (no extension) -> marshalled data
_installed: dict[str, Any] = {}
stats = {"hits": 0, "misses": 0}


def _root() -> str:
    import botocore

    return os.path.dirname(os.path.dirname(botocore.__file__))


def _key(file_path: str, root: str) -> str | None:
    relative = os.path.relpath(file_path, root)
    return None if relative.startswith("..") else relative.replace(os.sep, "/")


def _version() -> bytes:
    import botocore

    return f"botocore {botocore.__version__} {sys.version_info[:2]}\n".encode()


def load(path: Path = CACHE) -> int:
    files = marshal_file.read(path, _version())  # none for another botocore (or Python)
    if not files:
        return 0
    _data.update(files)
    return len(files)


def install(path: Path = CACHE) -> bool:
    """Have botocore's loaders read the cached files from here on (False, and nothing changed, without a cache or
    with SIYU_BOTOCORE_DATA=0). Call it before the first botocore session is made."""
    if os.environ.get("SIYU_BOTOCORE_DATA") == "0":
        return False
    if "original" in _installed:
        return True
    if not load(path):
        return False
    from botocore import loaders

    root = _root()

    class CachedJSONFileLoader(loaders.JSONFileLoader):
        def load_file(self, file_path):
            key = _key(file_path, root)
            found = _data.get(key) if key is not None else None
            if found is None:
                stats["misses"] += 1
                return super().load_file(file_path)
            stats["hits"] += 1
            return marshal.loads(found)  # a fresh copy each time, as a parse gives: botocore may change what it got

    _installed["original"] = loaders.Loader.FILE_LOADER_CLASS
    loaders.Loader.FILE_LOADER_CLASS = CachedJSONFileLoader
    return True


def uninstall() -> None:
    original = _installed.pop("original", None)
    if original is not None:
        from botocore import loaders

        loaders.Loader.FILE_LOADER_CLASS = original


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def build(path: Path = CACHE, services: tuple[str, ...] = SERVICES) -> int:
    """Create a client of each service (no request is sent), keeping every file botocore loads for it."""
    import botocore.session
    from botocore import loaders

    root = _root()
    seen: dict[str, bytes] = {}

    class RecordingJSONFileLoader(loaders.JSONFileLoader):
        def load_file(self, file_path):
            found = super().load_file(file_path)
            key = _key(file_path, root)
            if found is not None and key is not None:
                seen[key] = marshal.dumps(_plain(found))
            return found

    original = loaders.Loader.FILE_LOADER_CLASS
    loaders.Loader.FILE_LOADER_CLASS = RecordingJSONFileLoader
    try:
        session = botocore.session.get_session()
        for service in services:
            session.create_client(service, region_name="ap-northeast-1", aws_access_key_id="build",
                                  aws_secret_access_key="build")
    finally:
        loaders.Loader.FILE_LOADER_CLASS = original
    marshal_file.write(path, _version(), seen)
    return len(seen)


if __name__ == "__main__":
    out = Path(sys.argv[2]) if sys.argv[1:2] == ["--out"] else CACHE
    print(f"{out}: {build(out)} botocore data files")
