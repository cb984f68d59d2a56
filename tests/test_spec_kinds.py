"""Spec kinds (issue 16): `kind: ContactList` documents as their own objects, names unique
per kind, each `contactLists` entry of a campaign located (through the spec cache too), and
the references checked against declared lists and, when known, the tenant's. The library
and the real CLI (`validate` as a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from provisioner.body import digest
from provisioner.spec.load import ContactList, ListRef, SpecSet, load_specs
from provisioner.spec.record import Context
from provisioner.spec.references import NOT_CHECKED, check_references, dependents
from provisioner.speed.cache import SpecCache

ROOT = Path(__file__).resolve().parent.parent
SMS = (ROOT / "tests" / "examples" / "valid" / "simple-base64.yaml").read_text()


def campaign(name: str, lists: str = "[Customers, VIPs]", ensure: str = "") -> str:
    """An SMS campaign naming `lists` (a YAML flow list)."""
    text = SMS.replace("name: Base64 Message", f"name: {name}").replace(
        "contactLists: [Customers, VIPs]", f"contactLists: {lists}")
    return text + (f"ensure: {ensure}\n" if ensure else "")


def contact_list(name: str, extra: str = "") -> str:
    return f"kind: ContactList\nname: {name}\n{extra}"


def write(folder: Path, **files: str) -> Path:
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text)
    return folder


def errors(specs: SpecSet) -> list[tuple[int, int, str, str]]:
    return [(p.line, p.column, p.path, p.message) for p in specs.problems
            if p.severity == "error"]


# -- loading ------------------------------------------------------------------------------

def test_contact_lists_are_their_own_objects_in_normal_form(tmp_path: Path) -> None:
    write(tmp_path, a=contact_list("Customers", "description: Opted in.\n") + "---\n"
          + contact_list("VIPs", "allowDuplicates: true\nprotect: true\n"),
          b=campaign("Promo"))
    specs = load_specs([tmp_path])
    assert specs.ok, specs.problems
    customers, vips = specs.contact_lists
    assert [c.name for c in specs.campaigns] == ["Promo"]
    assert all(isinstance(cl, ContactList) for cl in specs.contact_lists)
    assert (customers.kind, specs.campaigns[0].kind) == ("ContactList", "Campaign")
    assert customers.body == {"name": "Customers", "description": "Opted in.",
                              "allowDuplicates": False}
    assert vips.body == {"name": "VIPs", "description": "", "allowDuplicates": True}
    assert vips.digest == digest(vips.body) and vips.protect and vips.lname == "vips"
    assert (vips.file, vips.line, vips.column, vips.ensure) == (
        (tmp_path / "a.yaml").as_posix(), 5, 1, "present")
    assert vips.ignore == () and vips.previous == ()


def test_an_unknown_kind_is_one_error_with_did_you_mean(tmp_path: Path) -> None:
    write(tmp_path, a="name: Customers\nkind: Contactlist\nallowDuplicates: true\n")
    specs = load_specs([tmp_path])
    assert errors(specs) == [(2, 7, "$.kind", "'Contactlist' is not one of Campaign, "
                                              "ContactList; did you mean 'ContactList'?")]
    assert not specs.campaigns and not specs.contact_lists


@pytest.mark.parametrize("extra,expected", [
    ("allowDuplicate: true\n", (3, 1, "$.allowDuplicate", "unknown key 'allowDuplicate'; "
                                                          "did you mean 'allowDuplicates'?")),
    ("priority: 3\n", (3, 1, "$.priority", "unknown key 'priority' (allowed: kind, name, "
                                           "description, allowDuplicates, ensure, "
                                           "previousNames, protect)")),
    ("allowDuplicates: yes please\n", (3, 18, "$.allowDuplicates",
                                       "expected true or false, got 'yes please'")),
    ("description: " + "x" * 257 + "\n", (3, 14, "$.description",
                                          "too long: 257 characters, at most 256")),
    ("ensure: gone\n", (3, 9, "$.ensure", "'gone' is not one of present, absent")),
], ids=["typo", "campaign-field", "not-boolean", "description-too-long", "ensure"])
def test_a_contact_list_takes_its_own_fields_only(tmp_path: Path, extra: str,
                                                  expected: tuple[int, int, str, str]) -> None:
    write(tmp_path, a=contact_list("Customers", extra))
    assert errors(load_specs([tmp_path])) == [expected]


@pytest.mark.parametrize("name,message", [
    ("'" + "n" * 49 + "'", "too long: 49 characters, at most 48"),
    ("'  '", "'  ' is blank: a name needs a visible character"),
    ("''", "must not be empty"),
])
def test_a_contact_list_name_is_checked_as_a_campaign_name(tmp_path: Path, name: str,
                                                           message: str) -> None:
    write(tmp_path, a=f"kind: ContactList\nname: {name}\n")
    assert errors(load_specs([tmp_path])) == [(2, 7, "$.name", message)]


def test_a_missing_name_is_required_of_every_kind(tmp_path: Path) -> None:
    write(tmp_path, a="kind: ContactList\ndescription: D\n")
    assert errors(load_specs([tmp_path])) == [(1, 1, "$", "missing required key 'name'")]


def test_names_are_unique_per_kind(tmp_path: Path) -> None:
    write(tmp_path, a=contact_list("Promo") + "---\n" + contact_list("PROMO"),
          b=campaign("Promo"))
    specs = load_specs([tmp_path])
    [(line, column, path, message)] = errors(specs)
    assert (line, column, path) == (5, 7, "$.name")
    assert message == (f"contact list name 'PROMO' is already used at {tmp_path.as_posix()}"
                       "/a.yaml:2:7 (names are compared case-insensitively)")
    assert [c.name for c in specs.campaigns] == ["Promo"]   # a campaign may share it
    assert [cl.name for cl in specs.contact_lists] == ["Promo"]


def test_a_previous_name_must_be_free_among_its_kind_only(tmp_path: Path) -> None:
    write(tmp_path, a=contact_list("Customers", "previousNames: [Promo, VIPs]\n") + "---\n"
          + contact_list("VIPs"), b=campaign("Promo"))
    specs = load_specs([tmp_path])
    [(line, column, path, message)] = errors(specs)
    assert (line, column, path) == (3, 24, "$.previousNames")
    assert message.startswith("'VIPs' is the name of the contact list at ")
    assert specs.contact_lists[0].previous == ("Promo", "VIPs")


def test_each_list_entry_is_located(tmp_path: Path) -> None:
    write(tmp_path, a=campaign("Flow", "[Customers, VIPs]"),
          b=campaign("Block", "\n  - Spring\n  - VIPs"))
    block, flow = sorted(load_specs([tmp_path]).campaigns, key=lambda c: c.name)
    assert flow.lists == (ListRef("Customers", 3, 16, "$.contactLists[0]"),
                          ListRef("VIPs", 3, 27, "$.contactLists[1]"))
    assert [(r.name, r.line, r.column, r.path) for r in block.lists] == [
        ("Spring", 4, 5, "$.contactLists[0]"), ("VIPs", 5, 5, "$.contactLists[1]")]


def test_the_cache_keeps_references_and_lists_without_analysing_again(tmp_path: Path) -> None:
    folder = tmp_path / "specs"
    folder.mkdir()
    write(folder, a=campaign("Promo", "[Customers,\n    VIPs]"),
          b=contact_list("Customers", "description: D\n"))
    first = load_specs([folder], cache=SpecCache(tmp_path / "cache"))
    again = load_specs([folder], cache=SpecCache(tmp_path / "cache"))
    [promo], [customers] = again.campaigns, again.contact_lists
    assert promo._body is None and customers._body is None   # from the summaries
    assert promo.lists == first.campaigns[0].lists == (
        ListRef("Customers", 3, 16, "$.contactLists[0]"), ListRef("VIPs", 4, 5,
                                                                 "$.contactLists[1]"))
    assert customers.digest == first.contact_lists[0].digest
    assert customers.body == {"name": "Customers", "description": "D", "allowDuplicates": False}
    assert again.contact_lists == first.contact_lists and again.campaigns == first.campaigns


def test_defaults_and_policy_are_for_campaigns_only(tmp_path: Path) -> None:
    """A _defaults.yaml holds campaign fields and a policy speaks of campaigns: a contact
    list below them takes neither. A list entry written in the defaults file is located
    there."""
    folder = tmp_path / "campaigns"
    folder.mkdir()
    write(folder, _defaults="priority: 3\ncontactLists: [Custmers]\n",
          a=contact_list("Customers"),
          b=campaign("Promo").replace("contactLists: [Customers, VIPs]\n", ""))
    context = Context("prod", ("prod",), {}, {}, {"requireDncList": True}, ())
    specs = load_specs([folder], context=context, root=folder)
    assert specs.ok, specs.problems
    [promo] = specs.campaigns
    assert promo.lists == (ListRef("Custmers", 2, 16, "$.contactLists[0]",
                                   (folder / "_defaults.yaml").as_posix()),)
    [problem] = check_references(specs.campaigns, specs.contact_lists, tenant=None)
    assert (problem.file, problem.line, problem.column, problem.path) == (
        (folder / "_defaults.yaml").as_posix(), 2, 16, "$.contactLists[0]")
    assert problem.message.endswith("(in campaign 'Promo')")


# -- references ---------------------------------------------------------------------------

@pytest.fixture()
def loaded(tmp_path: Path) -> SpecSet:
    write(tmp_path, lists=contact_list("Customers") + "---\n" + contact_list(
        "Retired", "ensure: absent\n"),
        a=campaign("Good", "[customers]"), b=campaign("Typo", "[Custmers, Console List]"),
        c=campaign("Gone", "[Retired]"), d=campaign("Old", "[Retired]", ensure="absent"))
    specs = load_specs([tmp_path])
    assert specs.ok, specs.problems
    return specs


def test_offline_an_undeclared_list_is_a_warning_that_says_the_tenant_was_not_checked(
        loaded: SpecSet) -> None:
    problems = check_references(loaded.campaigns, loaded.contact_lists, tenant=None)
    found = [(p.file.rsplit("/", 1)[1], p.line, p.column, p.path, p.severity, p.message)
             for p in problems]
    assert found == [
        ("b.yaml", 3, 16, "$.contactLists[0]", "warning", "contact list 'Custmers' is not "
         f"declared as a ContactList spec; did you mean 'Customers'? ({NOT_CHECKED})"),
        ("b.yaml", 3, 26, "$.contactLists[1]", "warning", "contact list 'Console List' is not "
         f"declared as a ContactList spec ({NOT_CHECKED})"),
        ("c.yaml", 3, 16, "$.contactLists[0]", "error", "contact list 'Retired' is to be "
         f"deleted (ensure: absent at {loaded.contact_lists[1].file}:4:1); a campaign cannot "
         "name it")]
    assert NOT_CHECKED == "tenant lists were not checked: run plan --refresh"


def test_online_an_undeclared_list_must_be_on_the_tenant(loaded: SpecSet) -> None:
    problems = check_references(loaded.campaigns, loaded.contact_lists,
                                tenant={"console list", "vips"})
    assert [(p.path, p.severity, p.message) for p in problems] == [
        ("$.contactLists[0]", "error", "contact list 'Custmers' is neither declared (kind: "
                                       "ContactList) nor on the tenant; did you mean "
                                       "'Customers'?"),
        ("$.contactLists[0]", "error", f"contact list 'Retired' is to be deleted (ensure: "
                                       f"absent at {loaded.contact_lists[1].file}:4:1); a "
                                       "campaign cannot name it")]
    assert check_references(loaded.campaigns[:1], loaded.contact_lists, tenant=set()) == []


def test_a_tenant_name_is_suggested_too(loaded: SpecSet) -> None:
    [typo] = [c for c in loaded.campaigns if c.name == "Typo"]
    problems = check_references([typo], [], tenant={"customers", "console lists"})
    assert [p.message.rsplit(";", 1)[1] for p in problems] == [
        " did you mean 'customers'?", " did you mean 'console lists'?"]


def test_dependents_name_the_present_campaigns_of_each_list(loaded: SpecSet) -> None:
    assert dependents(loaded.contact_lists, loaded.campaigns) == {
        "customers": ["Good"], "retired": ["Gone"], "custmers": ["Typo"],
        "console list": ["Typo"]}


# -- the CLI ------------------------------------------------------------------------------

def validate(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "provisioner", "validate", "--no-cache",
                           *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PROVISIONER_CONFIG": "no-such-config.yaml"})


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    return write(tmp_path, lists=contact_list("Customers") + "---\n" + contact_list(
        "Retired", "ensure: absent\n"), a=campaign("Good", "[customers, Console List]"))


def test_validate_says_once_that_the_tenant_was_not_checked_and_passes_strictly(
        folder: Path) -> None:
    """Lists made in the console are fine offline: one note, no warning, so --strict CI
    keeps passing."""
    write(folder, b=campaign("Other", "[Console List, Loyalty]"))
    result = validate("--strict", str(folder))
    assert result.returncode == 0 and result.stderr == "", result.stdout
    assert result.stdout.splitlines() == [
        "note: 2 contact list name(s) used by campaigns are not declared (kind: ContactList): "
        f"'Console List', 'Loyalty'; {NOT_CHECKED}",
        "2 valid campaign(s), 2 valid contact list(s) in 3 file(s); 0 error(s), 0 warning(s)"]
    github = validate("--format", "github", str(folder))
    assert github.stdout == ("::notice::2 contact list name(s) used by campaigns are not "
                             "declared (kind: ContactList): 'Console List', 'Loyalty'; "
                             f"{NOT_CHECKED}\n")
    assert validate("--format", "json", str(folder)).stdout == "[]\n"


def test_validate_warns_of_a_likely_typo_and_refuses_a_list_to_be_deleted(
        folder: Path) -> None:
    write(folder, b=campaign("Typo", "[Custmers]"), c=campaign("Gone", "[retired]"))
    result = validate(str(folder))
    shown = folder.as_posix()
    assert result.returncode == 1 and result.stderr == ""
    assert result.stdout.splitlines() == [
        f"{shown}/b.yaml:3:16: $.contactLists[0]: contact list 'Custmers' is not declared as a "
        f"ContactList spec; did you mean 'Customers'? ({NOT_CHECKED}) (warning)",
        f"{shown}/c.yaml:3:16: $.contactLists[0]: contact list 'retired' is to be deleted "
        f"(ensure: absent at {shown}/lists.yaml:4:1); a campaign cannot name it",
        "note: 2 contact list name(s) used by campaigns are not declared (kind: ContactList): "
        f"'Console List', 'Custmers'; {NOT_CHECKED}",
        "3 valid campaign(s), 2 valid contact list(s) in 4 file(s); 1 error(s), 1 warning(s)"]


def test_an_unknown_kind_through_the_cli(tmp_path: Path) -> None:
    write(tmp_path, a="kind: Campain\nname: X\n")
    result = validate(str(tmp_path))
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (
        f"{tmp_path.as_posix()}/a.yaml:1:7: $.kind: 'Campain' is not one of Campaign, "
        "ContactList; did you mean 'Campaign'?")


def test_render_shows_contact_lists_with_their_kind(folder: Path) -> None:
    (folder / "campaigns").mkdir()
    for name in ("lists.yaml", "a.yaml"):
        (folder / name).rename(folder / "campaigns" / name)
    result = subprocess.run(
        [sys.executable, "-m", "provisioner", "render", "--no-cache", "--format", "json"],
        cwd=folder, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PROVISIONER_CONFIG": "no-such-config.yaml"})
    assert result.returncode == 0, result.stderr
    import json

    document = json.loads(result.stdout)
    assert document["contact_lists"] == [{   # the list to be deleted is not sent
        "kind": "ContactList", "name": "Customers", "file": "campaigns/lists.yaml", "line": 1,
        "body": {"name": "Customers", "description": "", "allowDuplicates": False}}]
    [good] = document["campaigns"]
    assert (good["kind"], good["name"], good["body"]["contactLists"]) == (
        "Campaign", "Good", ["customers", "Console List"])
    text = subprocess.run(
        [sys.executable, "-m", "provisioner", "render", "--no-cache"], cwd=folder,
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "PROVISIONER_CONFIG": "no-such-config.yaml"}).stdout
    assert "---\n# contact list Customers (campaigns/lists.yaml:1)\nname: Customers\n" in text
