"""The spec cache and the state index key on the code whose output they record, named by
module (provisioner/speed/checked.py `code_key`): a module's bytes are part of the key, and a
module that moves can never leave a key frozen on a file that is no longer used."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from provisioner.speed import cache, state_index
from provisioner.speed.cache import SpecCache
from provisioner.speed.checked import code_key, module_file
from provisioner.spec.analysis import analyse

PACKAGE = Path(__file__).resolve().parent.parent / "provisioner"


@pytest.mark.parametrize("name", [*cache._SOURCES, *state_index._SOURCES])
def test_every_keyed_module_is_the_file_python_imports(name: str) -> None:
    path = module_file(name)
    assert path.is_relative_to(PACKAGE) and path.is_file()
    assert Path(importlib.import_module(name).__file__ or "").resolve() == path.resolve()


def test_a_keyed_module_that_moved_away_is_an_error_not_a_frozen_key() -> None:
    with pytest.raises(ModuleNotFoundError):
        code_key(("provisioner.spec.no_such_module",))


def test_changing_a_keyed_modules_bytes_changes_the_key(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "keyedpkg").mkdir()
    (tmp_path / "keyedpkg" / "__init__.py").write_text("")
    module = tmp_path / "keyedpkg" / "rules.py"
    module.write_text("LIMIT = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    before = code_key(("keyedpkg.rules",))
    assert code_key(("keyedpkg.rules",)) == before   # stable while nothing changes
    module.write_text("LIMIT = 2\n")
    assert code_key(("keyedpkg.rules",)) != before
    sys.modules.pop("keyedpkg", None)


def test_an_analysis_stored_under_one_code_key_is_not_served_under_another(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a change to rules.py (say) does to a warm cache: the old entries are foreign."""
    analysis = analyse(b"name: One\n")
    old = SpecCache(tmp_path, key=code_key(cache._SOURCES))
    old.store({"sha256:one": analysis})
    assert "sha256:one" in SpecCache(tmp_path, key=code_key(cache._SOURCES)).summaries()
    real = module_file

    def edited(name: str) -> Path:
        if name == "provisioner.spec.rules":
            copy = tmp_path / "rules.py"
            copy.write_bytes(real(name).read_bytes() + b"\n# a new rule\n")
            return copy
        return real(name)
    monkeypatch.setattr("provisioner.speed.checked.module_file", edited)
    assert SpecCache(tmp_path, key=code_key(cache._SOURCES)).summaries() == {}
