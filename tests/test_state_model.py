"""The pure State model: shape validation, target binding, intents, campaigns, digests."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from provisioner.errors import StaleStateError, StateError
from provisioner.state.document import dump_document, next_serial
from provisioner.state.model import State

TARGET = {"host": "https://a", "streamId": "st-1", "accountId": "acc-1"}
BODY = {"name": "Spring Sale", "priority": "3"}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def sample() -> State:
    state = State.new(TARGET)
    state.record_campaign("Spring Sale", "cd-1", BODY, "sha256:aa",
                          {"status": "Ready", "createdAt": "c1", "updatedAt": "u1"})
    state.record_intent("Autumn", {"name": "Autumn"}, "sha256:bb")
    return state


def test_new_state_has_a_fresh_uuid4_lineage_and_serial_zero() -> None:
    first, second = State.new(TARGET), State.new(TARGET)
    assert uuid.UUID(first.lineage).version == 4
    assert first.lineage != second.lineage
    assert (first.serial, first.target, first.campaigns, first.pending) == (0, TARGET, {}, {})


def test_new_state_needs_every_target_key() -> None:
    with pytest.raises(StateError, match="accountId"):
        State.new({"host": "https://a", "streamId": "st-1"})


def test_round_trip_through_dict_keeps_everything() -> None:
    state = sample()
    again = State.from_dict(state.to_dict())
    assert again == state
    assert again.to_dict()["format_version"] == 2


def test_dump_document_is_sorted_indented_with_trailing_newline() -> None:
    text = dump_document(sample())
    assert text.endswith("}\n") and '\n  "campaigns": {' in text
    assert text.index('"campaigns"') < text.index('"format_version"') < text.index('"target"')


def _doc(**changes: Any) -> dict[str, Any]:
    doc = sample().to_dict()
    doc.update(changes)
    return doc


@pytest.mark.parametrize(("document", "fragment"), [
    ([], "expected a JSON object, found list"),
    (_doc(format_version=3), "format_version 3 is not supported"),
    (_doc(contactLists={"x": {"name": "x", "id": 5, "body": {}, "digest": "d"}}),
     "contactLists['x'].id must be a str"),
    (_doc(lineage=""), "lineage must be a non-empty string"),
    (_doc(serial=-1), "serial must be a non-negative integer"),
    (_doc(serial=True), "serial must be a non-negative integer"),
    (_doc(target={"host": "h"}), "target must be an object"),
    (_doc(campaigns=[]), "campaigns must be an object"),
    (_doc(campaigns={"x": {"name": "x", "id": 5, "body": {}, "digest": "d"}}),
     "campaigns['x'].id must be a str"),
    (_doc(campaigns={"x": {"name": "Y", "id": "5", "body": {}, "digest": "d"}}),
     "keyed differently"),
    (_doc(pending={"a": {"op": "create", "name": "A"}}), "pending['a'].digest must be a str"),
])
def test_malformed_documents_are_refused_with_one_line(document: Any, fragment: str) -> None:
    with pytest.raises(StateError) as caught:
        State.from_dict(document, location="state/dev.json")
    message = str(caught.value)
    assert message.startswith("state state/dev.json is malformed: ")
    assert fragment in message and "\n" not in message


def test_check_target_names_both_targets() -> None:
    state = State.from_dict(sample().to_dict(), location="state/dev.json")
    state.check_target({**TARGET, "host": "https://a/"})  # same tenant
    other = {"host": "https://b", "streamId": "st-2", "accountId": "acc-2"}
    with pytest.raises(StateError) as caught:
        state.check_target(other)
    assert str(caught.value) == ("state state/dev.json belongs to https://a / st-1 / acc-1, "
                                 "not https://b / st-2 / acc-2")


def test_record_campaign_clears_the_intent_and_keeps_remote_fields() -> None:
    state = State.new(TARGET)
    state.record_intent("Spring Sale", BODY, "sha256:aa")
    assert state.pending["spring sale"]["op"] == "create"
    assert ISO.match(state.pending["spring sale"]["since"])
    state.record_campaign("Spring Sale", "cd-1", BODY, "sha256:aa",
                          {"status": "Ready", "createdAt": "c1", "updatedAt": "u1", "x": 1})
    entry = state.campaign("SPRING sale")
    assert state.pending == {}
    assert entry is not None
    assert {k: entry[k] for k in ("name", "lname", "id", "digest", "status", "createdAt")} == {
        "name": "Spring Sale", "lname": "spring sale", "id": "cd-1", "digest": "sha256:aa",
        "status": "Ready", "createdAt": "c1"}
    assert "x" not in entry and ISO.match(entry["appliedAt"])


def test_record_campaign_without_remote_keeps_previous_remote_fields() -> None:
    state = sample()
    state.record_campaign("Spring Sale", "cd-1", {"name": "Spring Sale"}, "sha256:cc")
    entry = state.campaigns["spring sale"]
    assert (entry["status"], entry["updatedAt"], entry["digest"]) == ("Ready", "u1", "sha256:cc")


def test_forget_returns_the_record_and_drops_the_intent() -> None:
    state = sample()
    state.record_intent("Spring Sale", BODY, "sha256:dd", op="update")
    forgotten = state.forget("Spring SALE")
    assert forgotten is not None and forgotten["id"] == "cd-1"
    assert "spring sale" not in state.campaigns and "spring sale" not in state.pending
    assert state.forget("spring sale") is None
    state.clear_intent("AUTUMN")
    assert state.pending == {}


def test_content_digest_ignores_serial_but_not_content() -> None:
    state = sample()
    before = state.content_digest()
    state.serial += 5
    assert state.content_digest() == before
    state.forget("spring sale")
    assert state.content_digest() != before


def test_next_serial_decides_compare_and_swap() -> None:
    stored = sample()
    stored.serial = 4
    same = State.from_dict(stored.to_dict())
    assert next_serial(stored, same, "s") is None
    same.forget("spring sale")
    assert next_serial(stored, same, "s") == 5
    assert next_serial(None, State.new(TARGET), "s") == 1
    with pytest.raises(StaleStateError, match="serial 4 but this write was based on serial 3"):
        next_serial(stored, State.from_dict({**same.to_dict(), "serial": 3}), "s")
    with pytest.raises(StaleStateError, match="removed since it was read at serial 4"):
        next_serial(None, same, "s")
    with pytest.raises(StaleStateError, match="lineage"):
        next_serial(stored, State.new(TARGET), "s")
