"""The analysis of one spec file as plain data (lists and tuples of plain values), so worker
processes send it marshalled and the spec cache stores it as it is. This module owns the
layout; the others read and write it through these names.

    Analysis  [file problems, documents]
    document  [problems, name, name line, name column, resource or None, kind, clock]
              kind: its `kind:` ("Campaign" when absent; as written when unknown): names
              are unique per kind
              clock: what the rules that read the current time judge on every load (never
              their verdict: provisioner/spec/runstate.py), or None: for a present
              campaign whose schedule is enabled with two real dates, (time zone or "",
              startDateTime, endDateTime, where the start was written, where the end was),
              each place a problem with an empty message, (line, column, path, suffix,
              severity[, file]), the suffix what a message there ends with
    resource  (name, body, line, column, ensure, protect, digest, previous, ignore, kind,
               lists, run, rerun)   a valid campaign or contact list (kind says which)
              previous: [(name, line, column)] of its `previousNames` (issue 15 renames)
              ignore: [JSON path] of its `ignoreChanges` (fields the console owns)
              lists: a campaign's `contactLists` entries, [(name, line, column, file)],
              file "" when written in the campaign's own file (else a _defaults.yaml or the
              config, for a value from a variable)
              run, rerun: a campaign's `run` and `rerun` (the tool's own keys), or None
    problem   (line, column, path, message, severity[, file])  file: where it was written
              when that is not the analysed file (a _defaults.yaml, the config's variable)
"""

from __future__ import annotations

from typing import Any, NamedTuple

Analysis = list[Any]
FILE_PROBLEMS, DOCUMENTS = 0, 1
DOC_PROBLEMS, DOC_NAME, DOC_LINE, DOC_COLUMN, DOC_CAMPAIGN, DOC_KIND, DOC_CLOCK = range(7)
(C_NAME, C_BODY, C_LINE, C_COLUMN, C_ENSURE, C_PROTECT, C_DIGEST, C_PREVIOUS, C_IGNORE, C_KIND,
 C_LISTS, C_RUN, C_RERUN) = range(13)


def campaign_body(analysis: Analysis, index: int) -> dict[str, Any]:
    """The API body of document `index`'s resource (a campaign or a contact list)."""
    body: dict[str, Any] = analysis[DOCUMENTS][index][DOC_CAMPAIGN][C_BODY]
    return body


def without_bodies(analysis: Analysis) -> Analysis:
    """The analysis with every resource's body replaced by None (its digest stays): what
    the spec cache's index keeps of a file."""
    problems, documents = analysis
    return [problems, [[*doc[:DOC_CAMPAIGN], None if doc[DOC_CAMPAIGN] is None else
                        (*doc[DOC_CAMPAIGN][:C_BODY], None, *doc[DOC_CAMPAIGN][C_BODY + 1:]),
                        *doc[DOC_CAMPAIGN + 1:]]
                       for doc in documents]]


def well_formed(analysis: object) -> bool:
    """Whether `analysis` has the outline above (a cache record is trusted only then)."""
    return (isinstance(analysis, list) and len(analysis) == 2
            and isinstance(analysis[FILE_PROBLEMS], list)
            and isinstance(analysis[DOCUMENTS], list)
            and all(isinstance(doc, list) and len(doc) == 7 for doc in analysis[DOCUMENTS]))


class Context(NamedTuple):
    """What resolving depends on besides the campaign file (marshal-friendly: it is sent to
    worker processes and hashed into the cache key)."""

    env: str
    envs: tuple[str, ...]                          # every environment the config names
    vars: dict[str, Any]
    var_places: dict[str, tuple[str, int, int]]    # NAME -> (config file, line, column)
    policy: dict[str, Any]
    defaults: tuple[tuple[str, bytes], ...]        # (shown path, bytes), farthest first


class FileContext(NamedTuple):
    """One spec file's analysis context: its Context, the Context's digest (part of the
    cache key), and whether the file is a `_defaults.yaml` (analysed as one)."""

    context: Context
    digest: str
    defaults_file: bool = False
