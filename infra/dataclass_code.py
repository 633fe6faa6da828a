"""Precompiled code for the methods `dataclasses` generates: a Lambda's cold start creates hundreds of dataclasses.

On Python 3.11 each `@dataclass` writes the source of up to six methods (`__init__`, `__repr__`, `__eq__`,
`__hash__`, and a frozen class's `__setattr__` and `__delattr__`) and compiles each with `exec`: about 0.1 ms of CPU
per method, 60 ms for the ~120 dataclasses of an event's cold start and more for the API's strawberry types (README,
"Cold-start cost"). The source of each method depends only on its class's fields, so, as Python keeps a module's
bytecode in `__pycache__`, the Lambda artifact keeps these methods' bytecode in a file (`CACHE`), built when the
artifact is (`python -m infra.dataclass_code MODULE...`, the Makefile). `install()` (the handlers call it first)
then has `dataclasses` take the bytecode from there instead of compiling the same text again.

What the cache holds is keyed by the exact text `dataclasses` would compile, so it can only be incomplete, never
wrong: a class changed since the cache was built, or one it never saw, is compiled as usual. It is used only on the
Python it was built for (the bytecode's magic number) and only where `dataclasses._create_fn` is the one this was
written against (CPython 3.11's, the functions' runtime; 3.13 compiles a class's methods in one `exec`).
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import marshal
import os
import sys
import threading
from pathlib import Path
from typing import Any

from infra import marshal_file

CACHE = Path(__file__).parent / "__pycache__" / f"dataclass_code.{sys.implementation.cache_tag}.marshal"

# CPython 3.11's `dataclasses._create_fn`, which `_create_fn` below reproduces but for its `exec`; `install` leaves
# any other (3.12 renamed a local, 3.13 has none) alone.
_REVIEWED = '''def _create_fn(name, args, body, *, globals=None, locals=None,
               return_type=MISSING):
    # Note that we may mutate locals. Callers beware!
    # The only callers are internal to this module, so no
    # worries about external callers.
    if locals is None:
        locals = {}
    return_annotation = ''
    if return_type is not MISSING:
        locals['_return_type'] = return_type
        return_annotation = '->_return_type'
    args = ','.join(args)
    body = '\\n'.join(f'  {b}' for b in body)

    # Compute the text of the entire function.
    txt = f' def {name}({args}){return_annotation}:\\n{body}'

    local_vars = ', '.join(locals.keys())
    txt = f"def __create_fn__({local_vars}):\\n{txt}\\n return {name}"
    ns = {}
    exec(txt, globals, ns)
    return ns['__create_fn__'](**locals)
'''

_lock = threading.Lock()
_installed: dict[str, Any] = {}  # "original": dataclasses' own _create_fn, once install() replaced it
# The text dataclasses would compile -> its code object, or that marshalled (read so; loaded when first used: a cold
# start uses about half of what the file holds, the API's methods or the events')
_codes: dict[str, Any] = {}
_seen: dict[str, Any] = {}  # texts compiled in this process (what `build` writes)
stats = {"hits": 0, "misses": 0}


# What identifies that function without reading its source at a cold start (tests/unit/test_dataclass_code.py
# compares the source itself): its variables, the names and the strings it uses.
_SHAPE = (("name", "args", "body", "globals", "locals", "return_type", "return_annotation", "txt", "local_vars", "ns"),
          ("MISSING", "join", "keys", "exec"),
          ("", "_return_type", "->_return_type", ",", "\n", " def ", "(", ")", ":\n", ", ", "def __create_fn__(",
           "):\n", "\n return ", "__create_fn__"))


def supported() -> bool:
    """Whether this Python's `dataclasses._create_fn` is the one `_create_fn` below stands in for."""
    original = _installed.get("original", dataclasses.__dict__.get("_create_fn"))
    code = getattr(original, "__code__", None)
    return (sys.implementation.name == "cpython" and sys.version_info[:2] == (3, 11) and code is not None
            and (code.co_varnames, code.co_names,
                 tuple(c for c in code.co_consts if isinstance(c, str))) == _SHAPE)


def _compiled(txt: str) -> Any:
    code = _codes.get(txt)
    if code is None:
        stats["misses"] += 1
        # Exactly what `exec(txt, ...)` compiles in dataclasses (which has no __future__ imports to pass on).
        code = compile(txt, "<string>", "exec", dont_inherit=True)
        _codes[txt] = code
    else:
        stats["hits"] += 1
        if isinstance(code, bytes):
            code = _codes[txt] = marshal.loads(code)
    _seen[txt] = code
    return code


def _create_fn(name, args, body, *, globals=None, locals=None, return_type=dataclasses.MISSING):  # noqa: A002
    # dataclasses._create_fn of CPython 3.11 (_REVIEWED), taking the code from the cache instead of compiling.
    if locals is None:
        locals = {}
    return_annotation = ''
    if return_type is not dataclasses.MISSING:
        locals['_return_type'] = return_type
        return_annotation = '->_return_type'
    args = ','.join(args)
    body = '\n'.join(f'  {b}' for b in body)
    txt = f' def {name}({args}){return_annotation}:\n{body}'
    local_vars = ', '.join(locals.keys())
    txt = f"def __create_fn__({local_vars}):\n{txt}\n return {name}"
    ns: dict[str, Any] = {}
    exec(_compiled(txt), dataclasses.__dict__ if globals is None else globals, ns)
    return ns['__create_fn__'](**locals)


def _magic() -> bytes:
    return importlib.util.MAGIC_NUMBER


def load(path: Path = CACHE) -> int:
    """Read the cache (none, or one of another Python, is no error: nothing is precompiled then)."""
    codes = marshal_file.read(path, _magic())
    if not codes:
        return 0
    _codes.update(codes)
    return len(codes)


def install(path: Path = CACHE) -> bool:
    """Have `dataclasses` use the precompiled methods from here on. Does nothing (and returns False) when turned
    off (SIYU_DATACLASS_CODE=0), on another `dataclasses`, or when there is no cache and nothing is recorded."""
    if os.environ.get("SIYU_DATACLASS_CODE") == "0":
        return False
    with _lock:
        if "original" in _installed:
            return True
        if not supported() or not (load(path) or _installed.get("recording")):
            return False
        _installed["original"] = dataclasses._create_fn
        dataclasses._create_fn = _create_fn
        return True


def uninstall() -> None:
    with _lock:
        original = _installed.pop("original", None)
        if original is not None:
            dataclasses._create_fn = original


def build(modules: list[str], path: Path = CACHE) -> int:
    """Import `modules` (and every rule family's modules), recording each method dataclasses compiles, and write
    them to `path` (only those: a cache built again forgets classes that are gone). Returns how many."""
    _installed["recording"] = True
    if not install(Path("/nonexistent")):
        raise SystemExit(f"this Python's dataclasses is not the one infra/dataclass_code.py was written for "
                         f"({sys.version.split()[0]}): nothing to precompile")
    for name in modules:
        importlib.import_module(name)
    from rules.family import families

    every = families()
    for name in every.plugin_modules:
        importlib.import_module(name)
    every.modules("storage")
    marshal_file.write(path, _magic(), {txt: marshal.dumps(code) for txt, code in _seen.items()})
    return len(_seen)


if __name__ == "__main__":
    args = sys.argv[1:]
    out = CACHE
    if args[:1] == ["--out"]:
        out, args = Path(args[1]), args[2:]
    count = build(args, out)
    print(f"{out}: {count} dataclass methods precompiled")
