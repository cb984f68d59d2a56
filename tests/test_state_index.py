"""The state index on real files: a StateView equals the full State on a miss and a hit,
bodies come from their spans, and a bad index or a changed state is never trusted."""

from __future__ import annotations

import hashlib
import json
import marshal
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from provisioner.errors import StateError
from provisioner.speed import state_index as index
from provisioner.speed.state_index import StateView, read_view
from provisioner.state.local import LocalBackend
from provisioner.state.model import State

TARGET = {"host": "https://a", "streamId": "st-1", "accountId": "acc-1"}
UNICODE = "Grüße, ünïcödé – 日本語 🎉 \u2028 \"quoted\" \\ back"


def sample() -> State:
    """Three campaigns (one protected, the first stored with non-ASCII text before the
    others' spans) and one pending intent."""
    state = State.new(TARGET)
    state.record_campaign("Ünïcode Sale", "cd-0", {"name": "Ünïcode Sale",
                                                   "message": {"text": UNICODE}}, "sha256:00")
    state.record_campaign("Spring Sale", "cd-1", {"name": "Spring Sale", "priority": 3,
                                                  "lists": ["a", "b"], "nested": {"x": None}},
                          "sha256:aa", {"status": "Ready", "createdAt": "c1", "updatedAt": "u1"})
    state.record_campaign("Autumn", "cd-2", {"name": "Autumn", "empty": {}, "text": UNICODE},
                          "sha256:bb")
    state.mark_protected("autumn", True)
    state.record_intent("Winter", {"name": "Winter", "text": UNICODE}, "sha256:cc")
    return state


def saved(tmp_path: Path, state: State | None = None) -> tuple[LocalBackend, Path]:
    backend = LocalBackend(tmp_path / "state" / "dev.json")
    backend.write(state or sample())
    return backend, tmp_path / "cache"


def assert_same(view: StateView | None, full: State | None) -> None:
    """Everything but the bodies equal, and every body fetched equal too."""
    assert view is not None and full is not None
    assert (view.lineage, view.serial, view.target, view.pending, view.location) == (
        full.lineage, full.serial, full.target, full.pending, full.location)
    assert view.campaigns == {lname: {k: v for k, v in entry.items() if k in index.VIEW_FIELDS}
                              for lname, entry in full.campaigns.items()}
    assert list(view.campaigns) == list(full.campaigns)
    assert all("body" not in entry for entry in view.campaigns.values())
    for lname in full.campaigns:
        assert view.body_of(lname) == full.body_of(lname)


def the_index(cache: Path) -> Path:
    (found,) = cache.glob("state-*.bin")
    return found


def rewrite_index(sidecar: Path, change: Callable[[tuple[Any, ...]], Any]) -> None:
    """Re-pack the index's payload after `change`, with a valid header and checksum."""
    header, checksum, payload = sidecar.read_bytes().split(b"\n", 2)
    assert checksum == hashlib.sha256(payload).hexdigest().encode()
    payload = marshal.dumps(change(marshal.loads(payload)))
    sidecar.write_bytes(header + b"\n" + hashlib.sha256(payload).hexdigest().encode() + b"\n"
                        + payload)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """What parsed a whole state: ("parse", bytes) for each LocalBackend._parse call and
    ("loads", chars) for each json.loads of more than one small campaign."""
    seen: list[tuple[str, int]] = []
    real_parse, real_loads = LocalBackend._parse, json.loads

    def parse(self: LocalBackend, path: Path, data: bytes, *args: Any) -> State:
        seen.append(("parse", len(data)))
        return real_parse(self, path, data, *args)

    def loads(text: Any, *args: Any, **kwargs: Any) -> Any:
        if len(text) > 600:
            seen.append(("loads", len(text)))
        return real_loads(text, *args, **kwargs)

    monkeypatch.setattr(LocalBackend, "_parse", parse)
    monkeypatch.setattr(json, "loads", loads)
    return seen


def test_view_equals_the_full_state_on_a_miss_then_a_hit(
        tmp_path: Path, parses: list[tuple[str, int]]) -> None:
    backend, cache = saved(tmp_path)
    full = backend.read()
    assert parses == [("parse", backend.path.stat().st_size), ("loads", len(
        backend.path.read_text(encoding="utf-8")))]   # the oracle: json.loads of it all
    parses.clear()
    assert_same(read_view(backend, cache), full)
    assert parses == [("parse", backend.path.stat().st_size)]   # one walk, no json.loads
    assert the_index(cache).name == (
        f"state-{hashlib.sha256(str(backend.path.resolve()).encode()).hexdigest()[:16]}.bin")
    parses.clear()
    assert_same(read_view(backend, cache), full)
    assert parses == []   # the hit parses nothing but the bodies it was asked for


def test_a_hit_is_served_from_the_index_alone(tmp_path: Path) -> None:
    backend, cache = saved(tmp_path)
    read_view(backend, cache)
    rewrite_index(the_index(cache), lambda f: (*f[:4], 41, *f[5:]))
    view = read_view(backend, cache)
    assert view is not None and view.serial == 41


def test_body_of_spans_are_text_positions_past_non_ascii(tmp_path: Path) -> None:
    backend, cache = saved(tmp_path)
    read_view(backend, cache)
    view = read_view(backend, cache)
    assert view is not None and list(view.campaigns) == ["autumn", "spring sale",
                                                         "ünïcode sale"]   # stored sorted
    text = backend.path.read_text(encoding="utf-8")
    assert len(text) < len(text.encode()) and text.index("日本語") < text.index("\"cd-1\"")
    assert view.body_of("autumn") == {"name": "Autumn", "empty": {}, "text": UNICODE}
    assert view.body_of("spring sale")["nested"] == {"x": None}
    assert view.body_of("ünïcode sale")["message"]["text"] == UNICODE
    with pytest.raises(KeyError):
        view.body_of("nothing")


def test_another_write_is_a_miss_that_gives_the_new_content(tmp_path: Path) -> None:
    backend, cache = saved(tmp_path)
    read_view(backend, cache)
    state = backend.read()
    assert state is not None
    state.record_campaign("Spring Sale", "cd-1", {"name": "Spring Sale", "priority": 9},
                          "sha256:a9")
    state.record_campaign("New One", "cd-3", {"name": "New One"}, "sha256:dd")
    state.clear_intent("winter")
    backend.write(state)
    view = read_view(backend, cache)
    assert_same(view, backend.read())
    assert view is not None and view.body_of("spring sale") == {"name": "Spring Sale",
                                                                "priority": 9}
    assert view.pending == {} and view.serial == 2


def test_a_changed_span_is_reported_as_a_state_that_changed(tmp_path: Path) -> None:
    backend, cache = saved(tmp_path)
    read_view(backend, cache)

    def swapped(fields: tuple[Any, ...]) -> tuple[Any, ...]:
        spans = dict(fields[8])
        spans["autumn"], spans["spring sale"] = spans["spring sale"], spans["autumn"]
        return (*fields[:8], spans, *fields[9:])

    rewrite_index(the_index(cache), swapped)
    view = read_view(backend, cache)
    assert view is not None
    with pytest.raises(StateError, match="changed while it was read"):
        view.body_of("autumn")
    assert view.body_of("ünïcode sale")["name"] == "Ünïcode Sale"


def foreign(sidecar: Path) -> None:
    head, rest = sidecar.read_bytes().split(b"\n", 1)
    sidecar.write_bytes(head[:-1] + b"0\n" + rest)


def flipped(sidecar: Path) -> None:
    data = bytearray(sidecar.read_bytes())
    data[-5] ^= 1
    sidecar.write_bytes(bytes(data))


BAD_INDEXES: dict[str, Callable[[Path], None]] = {
    "garbage": lambda p: p.write_bytes(b"\x00not an index\n\xff"),
    "empty": lambda p: p.write_bytes(b""),
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
    "foreign key": foreign,
    "wrong checksum": flipped,
    "not marshal": lambda p: p.write_bytes(p.read_bytes().split(b"\n")[0] + b"\n"
                                           + hashlib.sha256(b"\xff").hexdigest().encode()
                                           + b"\n\xff"),
    "short tuple": lambda p: rewrite_index(p, lambda f: f[:9]),
    "spans of other names": lambda p: rewrite_index(
        p, lambda f: (*f[:8], {"x": (0, 1)}, f[9])),
    "entry not a dict": lambda p: rewrite_index(
        p, lambda f: (*f[:7], {**f[7], "autumn": ["x"]}, *f[8:])),
    "serial not an int": lambda p: rewrite_index(p, lambda f: (*f[:4], "1", *f[5:])),
    "unknown span unit": lambda p: rewrite_index(p, lambda f: (*f[:9], "lines")),
}


@pytest.mark.parametrize("spoil", BAD_INDEXES.values(), ids=BAD_INDEXES.keys())
def test_a_bad_index_is_ignored_and_rewritten(tmp_path: Path, parses: list[tuple[str, int]],
                                              spoil: Callable[[Path], None]) -> None:
    backend, cache = saved(tmp_path)
    full = backend.read()
    read_view(backend, cache)
    spoil(the_index(cache))
    parses.clear()
    assert_same(read_view(backend, cache), full)
    assert [kind for kind, _ in parses] == ["parse"]   # a miss
    parses.clear()
    assert_same(read_view(backend, cache), full)
    assert parses == []   # a hit: the index was rewritten


def test_an_index_of_other_content_is_a_miss(tmp_path: Path) -> None:
    backend, cache = saved(tmp_path)
    read_view(backend, cache)
    rewrite_index(the_index(cache), lambda f: ("0" * 64, *f[1:]))
    view = read_view(backend, cache)
    assert_same(view, backend.read())


def test_states_in_one_cache_folder_keep_their_own_index(
        tmp_path: Path, parses: list[tuple[str, int]]) -> None:
    one = LocalBackend(tmp_path / "dev.json")
    two = LocalBackend(tmp_path / "prod.json")
    one.write(sample())
    two.write(State.new(TARGET))
    cache = tmp_path / "cache"
    for backend in (one, two, one, two):
        read_view(backend, cache)
    assert len(list(cache.glob("state-*.bin"))) == 2 and len(parses) == 2


def test_an_unwritable_cache_folder_only_costs_the_index(tmp_path: Path) -> None:
    backend, _ = saved(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert_same(read_view(backend, blocker / "cache"), backend.read())


def test_a_missing_state_file_gives_none_and_writes_nothing(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "none.json")
    assert read_view(backend, tmp_path / "cache") is None
    assert not (tmp_path / "cache").exists()


VALID = json.loads(json.dumps(sample().to_dict()))
BAD_STATES: dict[str, bytes] = {
    "empty": b"",
    "truncated": json.dumps(VALID, indent=2).encode()[:300],
    "not utf-8": b'{"a": "\xff"}',
    "a list": b"[1, 2]",
    "extra data": json.dumps(VALID).encode() + b" {}",
    "trailing comma": b'{"campaigns": {"a": {},}}',
    "crlf then an error": b'{\r\n  "lineage": "x",\r\n  "serial": 1\r\n  "target": {}\r\n}',
    "lone cr then an error": b'{\r "lineage": "x",\r "serial": 1 "x"}',
    "a bom": b"\xef\xbb\xbf" + json.dumps(VALID).encode(),
    "nan serial": json.dumps({**VALID, "serial": float("nan")}).encode(),
    "campaigns last a list": json.dumps(VALID)[:-1].encode() + b', "campaigns": []}',
    "body not an object": json.dumps(
        {**VALID, "campaigns": {"autumn": {**VALID["campaigns"]["autumn"], "body": []}}}).encode(),
    "format 3": json.dumps({**VALID, "format_version": 3}).encode(),
    "control character": b'{"lineage": "a\x01b"}',
}


@pytest.mark.parametrize("with_backup", [False, True])
@pytest.mark.parametrize("content", BAD_STATES.values(), ids=BAD_STATES.keys())
def test_a_bad_state_file_gives_the_same_error_as_read(tmp_path: Path, content: bytes,
                                                       with_backup: bool) -> None:
    backend = LocalBackend(tmp_path / "dev.json")
    if with_backup:
        state = sample()
        backend.write(state)
        state.forget("autumn")
        backend.write(state)
        assert Path(f"{backend.path}.backup").exists()
    backend.path.write_bytes(content)
    with pytest.raises(StateError) as read_error:
        backend.read()
    with pytest.raises(StateError) as view_error:
        read_view(backend, tmp_path / "cache")
    assert str(view_error.value) == str(read_error.value)
    assert "\n" not in str(view_error.value)


def test_a_directory_in_place_of_the_state_gives_the_same_error(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "dev.json")
    backend.path.mkdir()
    with pytest.raises(StateError) as read_error:
        backend.read()
    with pytest.raises(StateError, match="cannot read state") as view_error:
        read_view(backend, tmp_path / "cache")
    assert str(view_error.value) == str(read_error.value)


def spaced(document: dict[str, Any]) -> str:
    """Odd but valid JSON: tabs, CRLF, blanks around every separator."""
    text = json.dumps(document, indent="\t", separators=(" ,\r\n ", " : "))
    return " \r\n\t" + text + "\n\n "


LAYOUTS: dict[str, Callable[[dict[str, Any]], str]] = {
    "compact": lambda d: json.dumps(d, separators=(",", ":")),
    "indent 0": lambda d: json.dumps(d, indent=0),
    "indent 4 unsorted": lambda d: json.dumps(d, indent=4, ensure_ascii=False),
    "ascii escapes": lambda d: json.dumps(d, ensure_ascii=True),
    "odd whitespace": spaced,
    "campaigns twice": lambda d: json.dumps(d)[:-1] + ', "campaigns": ' + json.dumps(
        d["campaigns"], indent=1) + "}",
    "campaigns first a list": lambda d: '{"campaigns": [1, {"a": 2}], ' + json.dumps(d)[1:],
    "campaigns first an object": lambda d: (
        '{"campaigns": {"autumn": {"name": "x"}, "other": {}}, ' + json.dumps(d)[1:]),
    "a campaign twice": lambda d: json.dumps(d).replace(
        '"campaigns": {', '"campaigns": {"autumn": {"name": "Old", "body": {"old": 1}}, ', 1),
    "empty pending": lambda d: json.dumps({**d, "pending": {}}),
    "no campaigns": lambda d: json.dumps({**d, "campaigns": {}}, indent=2),
}


@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_hand_edited_layouts_give_the_right_spans(tmp_path: Path,
                                                  layout: Callable[[dict[str, Any]], str]) -> None:
    backend = LocalBackend(tmp_path / "dev.json")
    backend.path.write_text(layout(sample().to_dict()), encoding="utf-8")
    full = backend.read()
    assert full is not None and len(full.campaigns) in (0, 3)
    for _ in ("miss", "hit"):
        assert_same(read_view(backend, tmp_path / "cache"), full)


def test_when_the_fast_walk_fails_json_loads_still_serves_the_view(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend, cache = saved(tmp_path)

    def fail(text: str) -> Any:
        raise ValueError("walk failed")

    monkeypatch.setattr(index, "_walk", fail)
    assert_same(read_view(backend, cache), backend.read())
    assert not cache.exists()   # no spans, so no index


def test_a_view_is_never_written(tmp_path: Path) -> None:
    backend, cache = saved(tmp_path)
    view = read_view(backend, cache)
    before = backend.path.read_bytes()
    with pytest.raises(TypeError, match="StateView is read-only"):
        backend.write(view)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="StateView is read-only"):
        LocalBackend(tmp_path / "other.json").import_state(view)  # type: ignore[arg-type]
    assert backend.path.read_bytes() == before and not (tmp_path / "other.json").exists()
    assert not hasattr(view, "to_dict")


def test_view_checks_its_target_and_finds_campaigns_like_the_state(tmp_path: Path) -> None:
    backend, cache = saved(tmp_path)
    view, full = read_view(backend, cache), backend.read()
    assert view is not None and full is not None
    view.check_target({**TARGET, "host": "https://a/"})
    other = {**TARGET, "accountId": "acc-2"}
    with pytest.raises(StateError) as from_state:
        full.check_target(other)
    with pytest.raises(StateError) as from_view:
        view.check_target(other)
    assert str(from_view.value) == str(from_state.value)
    assert "acc-2" in str(from_view.value) and str(backend.path) in str(from_view.value)
    assert view.campaign("SPRING sale") == view.campaigns["spring sale"]
    assert view.campaign("nothing") is None


def test_state_body_of_is_the_recorded_body() -> None:
    state = sample()
    assert state.body_of("autumn") == {"name": "Autumn", "empty": {}, "text": UNICODE}
    with pytest.raises(KeyError):
        state.body_of("nothing")


@pytest.mark.parametrize("content", [b'{\r "lineage": "x",\r "serial": 1 "x"}',
                                     b'{\r\n "lineage": "x",\r\n "serial": 1 "x"}'])
def test_error_positions_are_those_of_a_text_mode_read(tmp_path: Path, content: bytes) -> None:
    backend = LocalBackend(tmp_path / "dev.json")
    backend.path.write_bytes(content)
    with pytest.raises(json.JSONDecodeError) as text_mode:
        json.loads(backend.path.read_text(encoding="utf-8"))   # universal newlines
    where = f"(line {text_mode.value.lineno} column {text_mode.value.colno}: "
    assert where == "(line 3 column 14: "
    for read in (backend.read, lambda: read_view(backend, tmp_path / "cache")):
        with pytest.raises(StateError, match=re.escape(where)):
            read()


def test_a_stat_older_than_the_index_vouches_without_reading_the_state(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Like the spec cache: a matching stat, safely older than the index, spares reading
    and hashing the file; a body is then read from its own span only."""
    monkeypatch.setattr(index, "RACY_NS", 0)
    backend, cache = saved(tmp_path)
    full = backend.read()
    read_view(backend, cache)
    reads: list[Path] = []
    real = LocalBackend._read_bytes
    monkeypatch.setattr(LocalBackend, "_read_bytes",
                        lambda self, path: reads.append(path) or real(self, path))
    view = read_view(backend, cache)
    assert reads == []
    assert_same(view, full)   # every body from its span in the file, none from a whole read
    assert reads == []

    state = backend.read()
    assert state is not None
    state.record_campaign("Later", "cd-9", {"name": "Later"}, "sha256:dd")
    backend.write(state)   # new content: a new stat, so the file is read again
    reads.clear()
    view = read_view(backend, cache)
    assert reads == [backend.path]
    assert_same(view, backend.read())


def test_a_state_written_just_now_is_read_not_vouched_for_by_its_stat(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Within the racy window an edit could keep the recorded times: the bytes decide."""
    backend, cache = saved(tmp_path)
    read_view(backend, cache)
    reads: list[Path] = []
    real = LocalBackend._read_bytes
    monkeypatch.setattr(LocalBackend, "_read_bytes",
                        lambda self, path: reads.append(path) or real(self, path))
    assert_same(read_view(backend, cache), backend.read())
    assert reads[0] == backend.path


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_bodies_are_found_in_ascii_unicode_and_crlf_states(tmp_path: Path,
                                                           newline: str) -> None:
    backend, cache = saved(tmp_path)
    text = backend.path.read_text(encoding="utf-8")
    backend.path.write_bytes(text.replace("\n", newline).encode("utf-8"))
    full = backend.read()
    assert_same(read_view(backend, cache), full)
    assert_same(read_view(backend, cache), full)
