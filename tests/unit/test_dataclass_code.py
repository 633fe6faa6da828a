"""The precompiled dataclass methods (infra/dataclass_code.py) make the same classes as compiling them would, and a
built cache leaves an event's cold start nothing to compile."""

import dataclasses
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

from infra import dataclass_code

ROOT = Path(__file__).resolve().parents[2]


def make_classes():
    @dataclasses.dataclass(frozen=True)
    class Lot:
        member_id: str
        points: int = 0
        tags: tuple = dataclasses.field(default_factory=tuple)

    @dataclasses.dataclass(order=True)
    class Entry:
        at: int
        note: str = dataclasses.field(default="", compare=False)

    return Lot, Entry


def code_of(cls):
    methods = {}
    for name in ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__", "__lt__", "__le__",
                 "__gt__", "__ge__"):
        function = cls.__dict__.get(name)
        code = getattr(function, "__code__", None)
        if code is not None:
            methods[name] = (code.co_code, code.co_consts, code.co_names, code.co_varnames, code.co_freevars,
                             code.co_flags, code.co_filename, code.co_qualname, code.co_firstlineno,
                             function.__annotations__)
    return methods


@pytest.fixture
def recording(tmp_path):
    """Installs with no cache file, recording what gets compiled (as a build does)."""
    dataclass_code.uninstall()  # a handler called earlier in this process may have installed it
    dataclass_code._installed["recording"] = True
    try:
        yield lambda: dataclass_code.install(tmp_path / "none")
    finally:
        dataclass_code.uninstall()
        dataclass_code._installed.pop("recording", None)


def test_this_python_has_the_dataclasses_function_that_is_stood_in_for():
    assert dataclass_code.supported()
    # dataclasses' own (a handler called earlier in this process may have installed the stand-in)
    original = dataclass_code._installed.get("original", dataclasses._create_fn)
    assert inspect.getsource(original) == dataclass_code._REVIEWED


def test_a_class_made_from_precompiled_methods_is_the_class_compiling_makes(recording):
    compiled = code_of(make_classes()[0]), code_of(make_classes()[1])  # by dataclasses itself
    assert recording()
    first = make_classes()  # compiled by dataclass_code, and kept
    assert (code_of(first[0]), code_of(first[1])) == compiled
    hits, misses = dataclass_code.stats["hits"], dataclass_code.stats["misses"]
    cached_lot, cached_entry = make_classes()  # the same texts again: every method from the cache
    # A frozen class's six methods, and an ordered one's init, repr, eq and four comparisons.
    assert (dataclass_code.stats["hits"] - hits, dataclass_code.stats["misses"] - misses) == (6 + 7, 0)
    assert (code_of(cached_lot), code_of(cached_entry)) == compiled

    lot = cached_lot("m-1", 5)
    assert lot == cached_lot("m-1", 5, ()) and hash(lot) == hash(cached_lot("m-1", 5))
    assert repr(lot).endswith("Lot(member_id='m-1', points=5, tags=())")
    with pytest.raises(dataclasses.FrozenInstanceError):
        lot.points = 6
    assert cached_entry(1, "a") < cached_entry(2, "b") and cached_entry(1, "a") == cached_entry(1, "z")


def test_without_a_cache_or_a_known_python_nothing_is_replaced(tmp_path, monkeypatch):
    dataclass_code.uninstall()  # a handler called earlier in this process may have installed it
    original = dataclasses._create_fn
    assert not dataclass_code.install(tmp_path / "missing")
    monkeypatch.setattr(dataclass_code, "_SHAPE", ((), (), ()))
    (tmp_path / "cache").write_bytes(b"")
    assert not dataclass_code.install(tmp_path / "cache")
    assert dataclasses._create_fn is original


def test_a_cache_of_another_python_is_not_read(tmp_path):
    cache = tmp_path / "other"
    cache.write_bytes(b"\x00\x00\r\n" + b"garbage")
    assert dataclass_code.load(cache) == 0


def test_after_a_build_an_events_cold_start_compiles_no_dataclass_method(tmp_path):
    cache = tmp_path / "dataclass_code.marshal"
    env = {"PATH": "/usr/bin:/bin", "SIYU_STAGE": "local", "AWS_DEFAULT_REGION": "us-east-1", "PYTHONPATH": str(ROOT)}
    built = subprocess.run([sys.executable, "-m", "infra.dataclass_code", "--out", str(cache), "infra.runtime"],
                           cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert "dataclass methods precompiled" in built.stdout
    script = ("import json, sys; from pathlib import Path; from infra import dataclass_code; "
              f"assert dataclass_code.install(Path({str(cache)!r})); "
              "from infra import runtime; runtime.engine(); print(json.dumps(dataclass_code.stats))")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=True)
    stats = json.loads(done.stdout.strip().splitlines()[-1])
    assert stats["misses"] == 0 and stats["hits"] > 300
