"""Run state and schedules in the spec (issue 17): the tool's own keys `run` and `rerun` (never
sent, outside the body and its digest, kept through the spec cache), the rules of an enabled
schedule, and the rules that read the clock (an end in the past is an error, a start in the
past a warning, in the campaign's time zone), judged on every load and never cached. The
library, the real CLI (`validate` as a subprocess) and, for the body, the bundled emulator
over loopback HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from provisioner import body as bodies
from provisioner.spec import schema
from provisioner.spec.load import Campaign, SpecSet, load_specs
from provisioner.spec.runstate import clock_problems
from provisioner.speed.cache import SpecCache

ROOT = Path(__file__).resolve().parent.parent
SMS = (ROOT / "tests" / "examples" / "valid" / "simple-base64.yaml").read_text()
ZONE = "Europe/London"   # simple-base64.yaml's callingHours timezone
FORMAT = "%Y-%m-%d %H:%M:%S"
WEEKLY = "{recurType: Weekly, weeklyDetails: {onceEveryNweeks: 1, whichDays: [Mon, Fri]}}"
DAILY = "{recurType: Daily, dailyDetails: {onceEveryNdays: 2}}"


def campaign(name: str = "Promo", extra: str = "", zone: str = ZONE) -> str:
    """The SMS example renamed, in `zone`, with `extra` YAML after it."""
    return (SMS.replace("name: Base64 Message", f"name: {name}")
            .replace(f"timezone: {ZONE}", f"timezone: {zone}") + extra)


def scheduled(start: str, end: str, recurrence: str = WEEKLY, more: str = "") -> str:
    return (f"schedule:\n  isSchedulingEnabled: true\n  startDateTime: {start}\n"
            f"  endDateTime: {end}\n  recurrenceObject: {recurrence}\n{more}")


def local(zone: str = ZONE, **delta: float) -> str:
    """The wall-clock time in `zone` now, moved by `delta`, as a schedule writes it."""
    return (datetime.now(ZoneInfo(zone)) + timedelta(**delta)).strftime(FORMAT)


def write(folder: Path, **files: str) -> Path:
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text)
    return folder


def problems(specs: SpecSet, severity: str = "error") -> list[tuple[int, int, str, str]]:
    return [(p.line, p.column, p.path, p.message) for p in specs.problems
            if p.severity == severity]


# line of the first key after the SMS example (its 21 lines)
AFTER = SMS.count("\n") + 1


# -- run and rerun -------------------------------------------------------------------------

def test_run_and_rerun_are_attributes_never_in_the_body_or_its_digest(tmp_path: Path) -> None:
    write(tmp_path, a=campaign("Plain"), b=campaign("Started", "run: active\nrerun: 'spring #2'\n"),
          c=campaign("Halted", "run: stopped\n"))
    specs = load_specs([tmp_path])
    assert specs.ok and not specs.problems, specs.problems
    plain, started, halted = specs.campaigns
    assert (plain.run, plain.rerun) == (None, None)
    assert (started.run, started.rerun) == ("active", "spring #2")
    assert (halted.run, halted.rerun) == ("stopped", None)
    assert "run" not in started.body and "rerun" not in started.body
    assert {**started.body, "name": "Plain"} == plain.body
    assert bodies.digest({**started.body, "name": "Plain"}) == plain.digest
    other = Campaign(started.name, started.body, started.file, started.line, started.column,
                     run="stopped", rerun=started.rerun)
    assert other != started   # compared by value, run state included


def test_run_and_rerun_survive_the_spec_cache(tmp_path: Path) -> None:
    folder = tmp_path / "specs"
    folder.mkdir()
    write(folder, a=campaign("Started", "run: active\nrerun: r1\n"))
    first = load_specs([folder], cache=SpecCache(tmp_path / "cache"))
    again = load_specs([folder], cache=SpecCache(tmp_path / "cache"))
    [started] = again.campaigns
    assert started._body is None   # from the index's summary: nothing analysed again
    assert (started.run, started.rerun) == ("active", "r1")
    assert again.campaigns == first.campaigns


@pytest.mark.parametrize("extra,expected", [
    ("run: Active\n", (AFTER, 6, "$.run", "'Active' is not one of active, stopped; did you "
                                          "mean 'active'?")),
    ("run: stoped\n", (AFTER, 6, "$.run", "'stoped' is not one of active, stopped; did you "
                                          "mean 'stopped'?")),
    ("run: true\n", (AFTER, 6, "$.run", "expected a string, got true (quote it: unquoted YAML "
                                        "reads it as a boolean)")),
    ("run: active\nrerun: ''\n", (AFTER + 1, 8, "$.rerun", "must not be empty")),
    ("run: active\nrerun: '  '\n", (AFTER + 1, 8, "$.rerun", "'  ' is blank: a rerun token "
                                                             "needs a visible character")),
    ("run: active\nrerun: '" + "x" * 101 + "'\n",
     (AFTER + 1, 8, "$.rerun", "too long: 101 characters, at most 100")),
    ("run: active\nrerun: 7\n", (AFTER + 1, 8, "$.rerun", "expected a string, got 7 (quote it: "
                                                          "unquoted YAML reads it as a number)")),
    ("runs: active\n", (AFTER, 1, "$.runs", "unknown key 'runs'; did you mean 'run'?")),
], ids=["enum-case", "enum-typo", "boolean", "rerun-empty", "rerun-blank", "rerun-long",
        "rerun-number", "key-typo"])
def test_run_and_rerun_errors_are_located(tmp_path: Path, extra: str,
                                          expected: tuple[int, int, str, str]) -> None:
    write(tmp_path, a=campaign(extra=extra))
    specs = load_specs([tmp_path])
    assert problems(specs) == [expected] and not specs.campaigns


def test_a_rerun_without_run_active_is_a_warning(tmp_path: Path) -> None:
    write(tmp_path, a=campaign("A", "rerun: r1\n"), b=campaign("B", "run: stopped\nrerun: r1\n"),
          c=campaign("C", "run: active\nrerun: '" + "x" * 100 + "'\n"))
    specs = load_specs([tmp_path])
    assert specs.ok and [c.rerun for c in specs.campaigns] == ["r1", "r1", "x" * 100]
    message = ("rerun has an effect only with run: active (a Completed campaign is started "
               "again once per new token)")
    assert [(Path(p.file).name, p.line, p.column, p.path, p.message) for p in specs.problems
            if p.severity == "warning"] == [("a.yaml", AFTER, 1, "$.rerun", message),
                                            ("b.yaml", AFTER + 1, 1, "$.rerun", message)]


def test_run_on_a_campaign_to_be_deleted_is_a_warning(tmp_path: Path) -> None:
    write(tmp_path, a="name: Gone\nensure: absent\nrun: active\n")
    specs = load_specs([tmp_path])
    assert specs.ok and specs.campaigns[0].run == "active"
    assert problems(specs, "warning") == [(3, 1, "$.run", "run has no effect on a campaign to "
                                                          "be deleted (ensure: absent)")]


def test_a_contact_list_refuses_run_and_rerun(tmp_path: Path) -> None:
    write(tmp_path, a="kind: ContactList\nname: L\nrun: active\nrerun: r1\n")
    allowed = ("(allowed: kind, name, description, allowDuplicates, ensure, previousNames, "
               "protect)")
    specs = load_specs([tmp_path])
    assert problems(specs) == [(3, 1, "$.run", f"unknown key 'run' {allowed}"),
                               (4, 1, "$.rerun", f"unknown key 'rerun' {allowed}")]
    assert not specs.contact_lists


# -- schedule rules that do not read the clock ----------------------------------------------

FAR = ("2098-01-05 09:00:00", "2099-12-31 18:00:00")


@pytest.mark.parametrize("schedule,expected", [
    ("schedule:\n  isSchedulingEnabled: true\n",
     [(AFTER + 1, 3, "$.schedule", f"missing required key '{key}' (needed when "
                                   "isSchedulingEnabled is true)")
      for key in ("startDateTime", "endDateTime", "recurrenceObject")]),
    (scheduled(*FAR, "{recurType: daily, dailyDetails: {onceEveryNdays: 1}}"),
     [(AFTER + 4, 33, "$.schedule.recurrenceObject.recurType",
       "'daily' is not one of Daily, Weekly; did you mean 'Daily'?")]),
    (scheduled(*FAR, "{recurType: Daily}"),
     [(AFTER + 4, 21, "$.schedule.recurrenceObject",
       "missing required key 'dailyDetails' (needed when recurType is 'Daily')")]),
    (scheduled(*FAR, "{dailyDetails: {onceEveryNdays: 1}}"),
     [(AFTER + 4, 21, "$.schedule.recurrenceObject", "missing required key 'recurType'")]),
    (scheduled(*FAR, "{recurType: Weekly, dailyDetails: {onceEveryNdays: 1}}"),
     [(AFTER + 4, 21, "$.schedule.recurrenceObject",
       "missing required key 'weeklyDetails' (needed when recurType is 'Weekly')"),
      (AFTER + 4, 41, "$.schedule.recurrenceObject.dailyDetails",
       "'dailyDetails' is only for recurType Daily (this schedule recurs weekly: give "
       "weeklyDetails)")]),
    (scheduled(*FAR, "{recurType: Daily, dailyDetails: {onceEveryNdays: 0}}"),
     [(AFTER + 4, 71, "$.schedule.recurrenceObject.dailyDetails.onceEveryNdays",
       "too low: 0, at least 1")]),
    (scheduled(*FAR, "{recurType: Daily, dailyDetails: {onceEveryNdays: 1.5}}"),
     [(AFTER + 4, 71, "$.schedule.recurrenceObject.dailyDetails.onceEveryNdays",
       "expected an integer, got 1.5")]),
    (scheduled(*FAR, "{recurType: Weekly, weeklyDetails: {onceEveryNweeks: 1, whichDays: []}}"),
     [(AFTER + 4, 88, "$.schedule.recurrenceObject.weeklyDetails.whichDays",
       "must list at least 1 item")]),
    (scheduled(*FAR, "{recurType: Weekly, weeklyDetails: {onceEveryNweeks: 1, whichDays: "
                     "[Mon, MO, Mon]}}"),
     [(AFTER + 4, 94, "$.schedule.recurrenceObject.weeklyDetails.whichDays[1]",
       "'MO' is not one of Mon, Tue, Wed, Thu, Fri, Sat, Sun; did you mean 'Mon'?"),
      (AFTER + 4, 98, "$.schedule.recurrenceObject.weeklyDetails.whichDays[2]",
       "'Mon' is listed twice (first at [0])")]),
    (scheduled(*FAR, "{recurType: Weekly, weeklyDetails: {whichDays: [Mon]}}"),
     [(AFTER + 4, 56, "$.schedule.recurrenceObject.weeklyDetails",
       "missing required key 'onceEveryNweeks'")]),
    (scheduled("2098-02-30 09:00:00", FAR[1]),
     [(AFTER + 2, 18, "$.schedule.startDateTime", "'2098-02-30 09:00:00' is not a real date "
                                                  "and time")]),
    (scheduled("'2098-01-05T09:00:00'", FAR[1]),
     [(AFTER + 2, 18, "$.schedule.startDateTime", "'2098-01-05T09:00:00' is not a date and "
                                                  "time like 2026-01-27 18:29:00 "
                                                  "(YYYY-MM-DD HH:mm:ss)")]),
    (scheduled(FAR[1], FAR[0]),
     [(AFTER + 3, 16, "$.schedule.endDateTime", f"endDateTime '{FAR[0]}' is not after "
                                                f"startDateTime '{FAR[1]}'")]),
    (scheduled(*FAR, more="  isRecurrenceEnabled: false\n"),
     [(AFTER + 5, 24, "$.schedule.isRecurrenceEnabled",
       "a scheduled campaign always recurs (the schedule API requires recurrenceObject): "
       "write true or leave isRecurrenceEnabled out")]),
    (scheduled(*FAR, more="  startTime: x\n"),
     [(AFTER + 5, 3, "$.schedule.startTime", "unknown key 'startTime'; did you mean "
                                             "'startDateTime'?")]),
], ids=["no-dates", "recur-type", "daily-without-details", "no-recur-type", "weekly-with-daily",
        "every-0-days", "every-1.5-days", "no-days", "bad-days", "weekly-without-count",
        "no-such-day", "iso-format", "end-before-start", "no-recurrence", "unknown-key"])
def test_schedule_rules_are_located(tmp_path: Path, schedule: str,
                                    expected: list[tuple[int, int, str, str]]) -> None:
    write(tmp_path, a=campaign(extra=schedule))
    specs = load_specs([tmp_path])
    assert problems(specs) == expected and not specs.campaigns
    assert problems(specs, "warning") == []


def test_the_fast_schema_paths_accept_a_schedule_and_never_one_without_dates() -> None:
    """A valid schedule is decided by the fast paths (never the slow one that explains), and
    neither accepts an enabled schedule without its dates (`const: true` in an `if`)."""
    from provisioner.disk.yamlnodes import parse

    good = parse(campaign(extra=scheduled(*FAR, DAILY)).encode())[0][0].value
    bad = parse(campaign(extra="schedule: {isSchedulingEnabled: true}\n").encode())[0][0].value
    for fast in (schema.fast_check(), schema.compiled_check()):
        assert fast(good) and not fast(bad)
    assert schema.validator().is_valid(good) and not schema.validator().is_valid(bad)


def test_one_digit_month_day_and_hour_are_accepted_and_sent_as_two(tmp_path: Path) -> None:
    write(tmp_path, a=campaign(extra=scheduled("2098-1-5 9:00:00", "'2099-2-3 18:05:09'", DAILY)))
    specs = load_specs([tmp_path])
    assert specs.ok and not specs.problems, specs.problems
    [promo] = specs.campaigns
    assert promo.body["schedule"] == {
        "isSchedulingEnabled": True, "isRecurrenceEnabled": True,
        "startDateTime": "2098-01-05 09:00:00", "endDateTime": "2099-02-03 18:05:09",
        "recurrenceObject": {"recurType": "Daily", "dailyDetails": {"onceEveryNdays": 2}}}
    two_digit = tmp_path / "two"
    two_digit.mkdir()
    write(two_digit, a=campaign(extra=scheduled("2098-01-05 09:00:00", "2099-02-03 18:05:09",
                                                DAILY)))
    assert load_specs([two_digit]).campaigns[0].digest == promo.digest


def test_a_schedule_that_is_off_sends_no_dates_and_says_so(tmp_path: Path) -> None:
    off = ("schedule:\n  isSchedulingEnabled: false\n  isRecurrenceEnabled: true\n"
           f"  startDateTime: 2020-01-01 00:00:00\n  recurrenceObject: {DAILY}\n")
    write(tmp_path, a=campaign(extra=off), b=campaign("Plain", "schedule:\n  "
                                                                "isSchedulingEnabled: false\n"))
    specs = load_specs([tmp_path])
    assert specs.ok   # no clock rule either: the dates of a schedule that is off are not sent
    promo, plain = specs.campaigns
    assert promo.body["schedule"] == {"isSchedulingEnabled": False}
    assert promo.digest == bodies.digest({**plain.body, "name": "Promo"})
    assert [(p.line, p.path, p.message) for p in specs.problems] == [
        (AFTER + row, f"$.schedule.{key}", f"'{key}' is not sent while isSchedulingEnabled is "
                                          "not true (the schedule is off)")
        for row, key in ((2, "isRecurrenceEnabled"), (3, "startDateTime"),
                         (4, "recurrenceObject"))]


# -- the clock -----------------------------------------------------------------------------

def test_an_end_in_the_past_is_an_error_and_a_start_in_the_past_a_warning(tmp_path: Path) -> None:
    write(tmp_path, a=campaign(extra=scheduled("2020-01-01 00:00:00", "'2021-06-30 23:59:59'")),
          b=campaign("Running", scheduled("2020-1-1 0:00:00", FAR[1])))
    specs = load_specs([tmp_path])
    [error] = [p for p in specs.problems if p.severity == "error"]
    warnings = [p for p in specs.problems if p.severity == "warning"]
    assert (Path(error.file).name, error.line, error.column, error.path) == (
        "a.yaml", AFTER + 3, 16, "$.schedule.endDateTime")
    assert error.message.startswith("endDateTime '2021-06-30 23:59:59' is in the past (now ")
    assert error.message.endswith(f" {ZONE}): a schedule that has ended cannot be enabled "
                                  "(move it later, or turn isSchedulingEnabled off)")
    assert [(Path(p.file).name, p.line, p.column, p.path) for p in warnings] == [
        ("a.yaml", AFTER + 2, 18, "$.schedule.startDateTime"),
        ("b.yaml", AFTER + 2, 18, "$.schedule.startDateTime")]
    assert warnings[1].message.startswith("startDateTime '2020-1-1 0:00:00' is in the past (now ")
    # a campaign whose schedule has ended is not valid: only the running one is loaded
    assert [c.name for c in specs.campaigns] == ["Running"]


def test_the_clock_is_read_in_the_campaigns_time_zone(tmp_path: Path) -> None:
    """One end, two zones 25 hours apart: already past where the day is furthest ahead, still
    to come where it is furthest behind."""
    end = local("UTC", hours=2)
    schedule = scheduled("2020-01-01 00:00:00", f"'{end}'", DAILY)
    write(tmp_path, ahead=campaign("Ahead", schedule, zone="Pacific/Kiritimati"),
          behind=campaign("Behind", schedule, zone="Pacific/Pago_Pago"))
    specs = load_specs([tmp_path])
    [error] = problems(specs)
    assert error[2] == "$.schedule.endDateTime" and "Pacific/Kiritimati" in error[3]
    assert [c.name for c in specs.campaigns] == ["Behind"]


def test_the_clock_falls_back_to_utc_without_a_usable_zone() -> None:
    place = (3, 4, "$.schedule.endDateTime", "", "error")
    past = (datetime.now(timezone.utc) - timedelta(minutes=5)).strftime(FORMAT)
    for zone in ("", "Not/AZone"):
        [(line, column, path, message, severity)] = clock_problems(
            (zone, FAR[0], past, place, place), time.time())
        assert (line, column, path, severity) == (3, 4, "$.schedule.endDateTime", "error")
        assert message.endswith(" UTC): a schedule that has ended cannot be enabled (move it "
                                "later, or turn isSchedulingEnabled off)")


def test_the_cache_never_keeps_a_verdict_of_the_clock(tmp_path: Path) -> None:
    """A schedule ending in a few seconds is valid; once that moment has passed, the same
    cached analysis (the file's other campaign is served from the index without being
    analysed again) reports the end as past."""
    folder = tmp_path / "specs"
    folder.mkdir()
    end = local(seconds=3)
    write(folder, a=campaign("Soon", scheduled("2020-01-01 00:00:00", f"'{end}'", DAILY))
          + "---\n" + campaign("Other"))
    first = load_specs([folder], cache=SpecCache(tmp_path / "cache"))
    assert first.ok and [c.name for c in first.campaigns] == ["Soon", "Other"]
    while local() <= end:
        time.sleep(0.2)
    again = load_specs([folder], cache=SpecCache(tmp_path / "cache"))
    [other] = again.campaigns
    assert other.name == "Other" and other._body is None   # the cached analysis
    [(line, column, path, message)] = problems(again)
    assert path == "$.schedule.endDateTime" and message.startswith(f"endDateTime '{end}' is in "
                                                                   "the past (now ")


# -- the CLI -------------------------------------------------------------------------------

def validate(*args: str, cache: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROVISIONER_CONFIG": "no-such-config.yaml"}
    if cache is not None:
        env["PROVISIONER_CACHE_DIR"] = str(cache)
    return subprocess.run([sys.executable, "-m", "provisioner", "validate",
                           *(() if cache else ("--no-cache",)), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env=env)


def test_validate_reports_run_state_and_schedule_problems(tmp_path: Path) -> None:
    write(tmp_path, a=campaign("A", "run: Actve\n"),
          b=campaign("B", "rerun: r1\n" + scheduled("2020-1-1 9:00:00", FAR[1], WEEKLY)),
          c=campaign("C", "run: active\n" + scheduled("2020-01-01 00:00:00",
                                                      "2020-12-31 00:00:00", WEEKLY)))
    result = validate(str(tmp_path))
    shown = tmp_path.as_posix()
    assert result.returncode == 1 and result.stderr == "", result.stderr
    lines = [line for line in result.stdout.splitlines() if not line.startswith("note:")]
    assert lines[:3] == [
        f"{shown}/a.yaml:{AFTER}:6: $.run: 'Actve' is not one of active, stopped; did you mean "
        "'active'?",
        f"{shown}/b.yaml:{AFTER}:1: $.rerun: rerun has an effect only with run: active (a "
        "Completed campaign is started again once per new token) (warning)",
        f"{shown}/b.yaml:{AFTER + 3}:18: $.schedule.startDateTime: startDateTime "
        "'2020-1-1 9:00:00' is in the past (now " + lines[2].split("(now ")[1]]
    assert lines[2].endswith(f" {ZONE}) (warning)")
    assert lines[3].startswith(f"{shown}/c.yaml:{AFTER + 3}:18: $.schedule.startDateTime: ")
    assert lines[4].startswith(f"{shown}/c.yaml:{AFTER + 4}:16: $.schedule.endDateTime: "
                               "endDateTime '2020-12-31 00:00:00' is in the past (now ")
    assert lines[5:] == ["1 valid campaign(s) in 3 file(s); 2 error(s), 3 warning(s)"]


def test_validate_with_its_cache_judges_the_clock_on_every_run(tmp_path: Path) -> None:
    folder = tmp_path / "specs"
    folder.mkdir()
    end = local(seconds=4)
    write(folder, a=campaign("Soon", scheduled("2020-01-01 00:00:00", f"'{end}'", DAILY)))
    before = validate(str(folder), cache=tmp_path / "cache")
    assert before.returncode == 0 and "1 valid campaign(s)" in before.stdout, before.stdout
    assert (tmp_path / "cache" / "specs.idx").is_file()
    while local() <= end:
        time.sleep(0.2)
    after = validate(str(folder), cache=tmp_path / "cache")
    assert after.returncode == 1
    assert f"$.schedule.endDateTime: endDateTime '{end}' is in the past" in after.stdout


# -- the body: create, update and the schedule endpoint ------------------------------------

def test_schedule_call_and_sent_body() -> None:
    plain = {"name": "N", "schedule": {"isSchedulingEnabled": False}}
    assert bodies.schedule_call(plain) is None and bodies.sent_body(plain) is plain
    assert bodies.schedule_call({"name": "N"}) is None
    body: dict[str, Any] = {"name": "N", "schedule": bodies.normal_schedule({
        "isSchedulingEnabled": True, "startDateTime": "2098-1-5 9:00:00",
        "endDateTime": "2099-12-31 18:00:00",
        "recurrenceObject": {"recurType": "Weekly", "weeklyDetails": {
            "onceEveryNweeks": 1.0, "whichDays": ["Mon"]}}})}
    call = bodies.schedule_call(body)
    assert call == {"startDateTime": "2098-01-05 09:00:00", "endDateTime": "2099-12-31 18:00:00",
                    "recurrenceObject": {"recurType": "Weekly", "weeklyDetails": {
                        "onceEveryNweeks": 1, "whichDays": ["Mon"]}}}
    assert call is not None
    call["recurrenceObject"]["weeklyDetails"]["whichDays"].append("Tue")   # a copy
    assert body["schedule"]["recurrenceObject"]["weeklyDetails"]["whichDays"] == ["Mon"]
    assert bodies.sent_body(body) == {"name": "N", "schedule": {
        "isSchedulingEnabled": True, "isRecurrenceEnabled": True}}


@pytest.fixture()
def emulated() -> Iterator[Any]:
    from provisioner.emulator import start_emulator

    with start_emulator(stream_id="st-emu", account_id="acc-emu", client_id="cs-emu",
                        client_secret="emu-secret-run-state-spec-0123456789",
                        rate_limit_per_minute=0, contact_lists=["Customers", "VIPs"]) as emu:
        yield emu


def client_of(emu: Any) -> Any:
    from provisioner.remote.auth import KoreJWTAuth
    from provisioner.remote.client import ApiTarget, KoreClient
    from provisioner.remote.ratelimit import RateLimiter

    return KoreClient(ApiTarget(emu.url, "st-emu", "acc-emu", "st-emu"),
                      KoreJWTAuth("cs-emu", "emu-secret-run-state-spec-0123456789"),
                      limiter=RateLimiter(0), max_retries=0, backoff_base=0.01)


def test_a_schedule_applied_by_its_calls_reads_back_as_the_spec(tmp_path: Path,
                                                                emulated: Any) -> None:
    """Create sends `sent_body`, the schedule endpoint `schedule_call`; the campaign read back
    is the spec's body (no drift), and with the schedule off again, the plain spec's."""
    write(tmp_path, a=campaign(extra=scheduled("2098-1-5 9:00:00", FAR[1], WEEKLY)),
          b=campaign("Unscheduled"))
    scheduled_spec, plain = load_specs([tmp_path]).campaigns
    client = client_of(emulated)
    made = client.create(bodies.sent_body(scheduled_spec.body))
    call = bodies.schedule_call(scheduled_spec.body)
    assert call is not None
    client.enable_schedule(scheduled_spec.name, call)
    read = client.get(made["_id"])
    assert read["status"] == "Scheduled"
    assert bodies.digest(bodies.normalise_remote(read)) == scheduled_spec.digest
    client.disable_schedule(scheduled_spec.name)
    off = bodies.normalise_remote(client.get(made["_id"]))
    assert bodies.digest({**off, "name": "Unscheduled"}) == plain.digest
