"""The campaign schema file and the plain-words mapping of its errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from provisioner.spec import schema
from provisioner.spec.schema import Finding, check, load_schema, suggest

VALID = {
    "name": "N", "description": "D", "priority": "3", "contactLists": ["C"],
    "format": "advanced", "experienceFlowName": "F",
    "dialingStrategy": {"callerId": {"phoneNumber": "+14155550123"}, "callingHours": {
        "frequency": "WEEKLY", "timezone": "UTC",
        "days": [{"day": "MO", "start": "9:00 AM", "end": "6:00 PM"}]}},
}


def kind_branches() -> list[dict[str, Any]]:
    """The schema of each kind (`then` of the root's kind conditions): the field definitions."""
    return [branch["then"] for branch in load_schema()["allOf"]]


def definitions() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every field definition: the root's (kind) and each kind's, with their JSON paths."""
    yield from subschemas(load_schema())
    for branch in kind_branches():
        yield from subschemas(branch)


def subschemas(node: dict[str, Any], where: str = "$") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every property schema (with its JSON path) below `node`."""
    for name, sub in node.get("properties", {}).items():
        yield f"{where}.{name}", sub
        yield from subschemas(sub, f"{where}.{name}")
    if isinstance(node.get("items"), dict):
        yield f"{where}[]", node["items"]
        yield from subschemas(node["items"], f"{where}[]")


def test_schema_is_draft_2020_12() -> None:
    Draft202012Validator.check_schema(load_schema())
    assert load_schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("where,sub", list(definitions()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_field_is_documented_and_closed(where: str, sub: dict[str, Any]) -> None:
    assert sub.get("title") and sub.get("description") and sub.get("examples"), where
    if sub.get("type") == "object":
        assert sub.get("additionalProperties") is False, where
    validator = Draft202012Validator(sub)
    for example in sub["examples"]:
        assert validator.is_valid(example), (where, example)


def test_each_kind_is_closed_and_the_root_examples_are_valid() -> None:
    root = load_schema()
    assert [b["additionalProperties"] for b in kind_branches()] == [False, False]
    assert all(schema.validator().is_valid(example) for example in root["examples"])
    assert {example.get("kind", "Campaign") for example in root["examples"]} == {
        "Campaign", "ContactList"}


def test_validator_is_created_once() -> None:
    assert schema.validator() is schema.validator()


def test_valid_document_has_no_finding() -> None:
    assert check(VALID) == []


def test_priority_accepts_string_and_integer_forms_only_in_range() -> None:
    assert check({**VALID, "priority": "1"}) == [] and check({**VALID, "priority": 5}) == []
    [finding] = check({**VALID, "priority": 0})
    assert finding.path == ("priority",) and finding.message.startswith("0 is not a priority")


def test_unknown_keys_are_reported_on_the_key_with_a_suggestion() -> None:
    findings = check({**VALID, "experienceFlow": "x", "zzz": 1})
    assert Finding(("experienceFlow",), "unknown key 'experienceFlow'; did you mean "
                   "'experienceFlowName'?", on_key=True) in findings
    [other] = [f for f in findings if f.path == ("zzz",)]
    assert "(allowed: name, description," in other.message


def test_conditional_requirement_says_why() -> None:
    [finding] = check({**VALID, "format": "simple", "experienceFlowName": "F"})
    assert finding == Finding((), "missing required key 'message' (needed when format is 'simple')")


def test_absent_campaign_needs_only_a_name() -> None:
    assert check({"name": "Gone", "ensure": "absent"}) == []
    assert [f.message for f in check({"ensure": "absent"})] == ["missing required key 'name'"]


def test_type_errors_hint_at_yaml_quoting() -> None:
    [finding] = check({**VALID, "name": True})
    assert finding.message == ("expected a string, got true (quote it: unquoted YAML reads it "
                               "as a boolean)")


def test_duplicate_list_item_points_at_the_second() -> None:
    [finding] = check({**VALID, "contactLists": ["A", "B", "A"]})
    assert finding.path == ("contactLists", 2) and "first at [0]" in finding.message


def test_suggest_is_case_insensitive_and_quiet_without_a_match() -> None:
    assert suggest("weekly", ["WEEKLY", "DAILY"]) == "; did you mean 'WEEKLY'?"
    assert suggest("xyz", ["WEEKLY", "DAILY"]) == ""


def _documents() -> list[Any]:
    from pathlib import Path

    from provisioner.disk.yamlnodes import parse
    found = []
    for path in sorted(Path(__file__).parent.glob("examples/*/*.yaml")):
        found += [doc.value for doc in parse(path.read_bytes())[0] if doc.value is not None]
    return found


@pytest.mark.parametrize("decider", ["jsonschema-rs", "compiled"])
def test_fast_path_never_accepts_what_jsonschema_rejects(decider: str) -> None:
    documents = _documents() + [
        {**VALID, "priority": True}, {**VALID, "priority": 5.0}, {**VALID, "contactLists": [1, 1]},
        {**VALID, "dncLists": {"name": ""}}, {**VALID, "ensure": "absent", "format": "x"},
    ]
    fast = schema.fast_check() if decider == "jsonschema-rs" else schema.compiled_check()
    slow = schema.validator()
    verdicts = [(bool(fast(doc)), slow.is_valid(doc)) for doc in documents]
    assert all(slow_ok for fast_ok, slow_ok in verdicts if fast_ok)
    assert sum(fast_ok for fast_ok, _ in verdicts) >= 10   # it does accept valid documents


def test_fast_path_defers_on_unknown_keywords() -> None:
    check_ = schema.compile_schema({"type": "string", "format": "email"})
    assert check_("a@b.c") is False


@pytest.mark.parametrize("decider", ["jsonschema-rs", "compiled"])
def test_fast_path_accepts_every_kind_and_campaign_type(decider: str) -> None:
    """A valid voice campaign or contact list never falls back to jsonschema (the slow path
    that explains failures)."""
    fast = schema.fast_check() if decider == "jsonschema-rs" else schema.compiled_check()
    examples = load_schema()["examples"]
    assert {(e.get("kind", "Campaign"), e.get("campaignType", "sms")) for e in examples} >= {
        ("Campaign", "sms"), ("Campaign", "voice"), ("ContactList", "sms")}
    assert all(fast(example) for example in examples)


def test_a_contact_list_branch_explains_in_plain_words() -> None:
    findings = check({"kind": "ContactList", "name": "L", "format": "simple"})
    assert findings == [Finding(("format",), "unknown key 'format' (allowed: kind, name, "
                                "description, allowDuplicates, ensure, previousNames, "
                                "protect)", on_key=True)]
    [finding] = check({"kind": "Contact", "name": "L", "format": "simple"})
    assert finding.message == ("'Contact' is not one of Campaign, ContactList; did you mean "
                               "'ContactList'?")
