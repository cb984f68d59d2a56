"""A strict, bundled emulator of Kore.ai's documented campaign API (SMS and voice campaigns,
contact lists), on loopback only.

Python API (tests and `make demo`):

    from provisioner.emulator import start_emulator, FaultConfig

    with start_emulator(client_secret="s3cret", rate_limit_per_minute=0,
                        contact_lists=["Customers"]) as emu:
        emu.url                  # "http://127.0.0.1:PORT" (base URL; no path)
        emu.store.all()          # every campaign document, oldest first (deep copies)
        emu.store.lists()        # every contact list document (stored form)
        emu.lists.add("VIPs", "", False)   # out-of-band contact list; answer form back
        emu.store.get(id)        # one document or None; .find_by_name(name); len(emu.store)
        emu.store.update(id, {"description": "edited"})   # out-of-band edit, bumps updatedAt
        emu.store.delete(id)     # out-of-band delete
        emu.requests.entries()   # request log: method, path, query, headers (no `auth`),
                                 # jwt_claims, body, op, status (None if dropped), dropped, time
        emu.requests.counts()    # {"total", "by_op", "by_status"}
        emu.set_faults(fail_next=1, ops=["create"])       # see faults.py for every setting
        emu.set_faults(no_data_next=1, ops=["update"])    # commit, then answer a bare
                                 # 200 {"status": "success"} without `data`
        emu.reset()              # empty store and log, rate window, jti cache, faults;
                                 # the start-time contact lists come back
        emu.set_faults(voice_preparing_seconds=0, active_seconds=5)   # tenant timings

`start_emulator(*, stream_id="st-demo", account_id="acc-demo", client_id="cs-demo",
client_secret=DEMO_SECRET, rate_limit_per_minute=60, host="127.0.0.1", port=0,
persist=None, faults=None, reject_duplicate_names=False, contact_lists=()) -> Emulator`
starts it in a background thread; `.stop()` (or leaving the `with`) shuts it down. `faults`
is a `FaultConfig` or a dict of its fields (the tenant's timings `voice_preparing_seconds`
and `active_seconds` are set there too); `rate_limit_per_minute` and
`reject_duplicate_names` override the same fields of it. `persist` names a JSON file
(campaigns and contact lists), loaded at start and rewritten atomically after every change.
`contact_lists` names lists the tenant has from the start (and again after a reset): a
campaign may only name lists the tenant has.

A test in another process uses the admin API under `/_emulator/` (no auth, not rate
limited, not logged): see `provisioner/emulator/admin.py` for the full table.

Strictness and documented choices: see `auth.py` (JWT, headers), `validation.py` (bodies:
a blank name, contact list, DNC list or flow name is refused, as is a message that encodes
blank text; times and phone numbers must match in full, so "9:00 AM\n" is not a time),
`voice.py` (voice bodies and answers), `listing.py` (paging, `MAX_PAGE_SIZE`), `api.py`
(response shapes, campaign types, Active and Preparing refusals, contact lists that must
exist), `contactlists.py` (contact lists), `runstate.py` (start, stop, status, schedule),
`store.py` (status changes over time), `faults.py` (faults, settings, rate-limit window).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from provisioner.emulator.faults import FaultConfig
from provisioner.emulator.listing import MAX_PAGE_SIZE
from provisioner.emulator.server import Emulator
from provisioner.emulator.validation import check_name

# A well-known, non-secret value for demos and tests only; never a real credential.
DEMO_SECRET = "demo-client-secret-not-for-production"

__all__ = ["DEMO_SECRET", "MAX_PAGE_SIZE", "Emulator", "FaultConfig", "start_emulator"]


def start_emulator(*, stream_id: str = "st-demo", account_id: str = "acc-demo",
                   client_id: str = "cs-demo", client_secret: str = DEMO_SECRET,
                   rate_limit_per_minute: int = 60, host: str = "127.0.0.1", port: int = 0,
                   persist: str | None = None,
                   faults: FaultConfig | dict[str, Any] | None = None,
                   reject_duplicate_names: bool = False,
                   contact_lists: Iterable[str] = ()) -> Emulator:
    """Start an emulator in a background thread and return it (already listening).

    Raises ConfigError for a non-loopback host, ValueError for bad fault settings or a
    contact list name the API would refuse (blank, longer than 48).
    """
    config = faults if isinstance(faults, FaultConfig) else FaultConfig().merged(faults or {})
    config = replace(config, rate_limit_per_minute=rate_limit_per_minute,
                     reject_duplicate_names=reject_duplicate_names or config.reject_duplicate_names)
    lists = tuple(contact_lists)
    problems = config.problems() + [f"contact list {name!r}: {problem[len('$ '):]}"
                                    for name in lists for problem in check_name(name, "$")]
    if problems:
        raise ValueError("; ".join(problems))
    emulator = Emulator(stream_id=stream_id, account_id=account_id, client_id=client_id,
                        client_secret=client_secret, host=host, port=port,
                        persist=str(persist) if persist else None, faults=config,
                        contact_lists=lists)
    return emulator.start()
