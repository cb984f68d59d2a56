"""What the campaigns folder already says, for `provisioner export`: the names its specs
declare, by kind (so nothing is exported twice), and the refusal of an output folder under
a `_defaults.yaml` (whose fields would be merged into every exported spec)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provisioner.body import CAMPAIGN, CONTACT_LIST
from provisioner.commands._common import campaigns_dir, start_specs
from provisioner.commands._export_lists import Declared
from provisioner.errors import ERROR, ConfigError, SpecError
from provisioner.spec.files import DEFAULTS_FILE

if TYPE_CHECKING:
    from provisioner.config import Target

# What the specs declare, by kind: lname -> where.
Specs = dict[str, dict[str, Declared]]


def refuse_defaults(out: Path, folder: Path) -> None:
    """ConfigError when a `_defaults.yaml` would be merged under the files written to `out`:
    the specs would then not say what the tenant holds."""
    here, top = Path(os.path.realpath(out)), Path(os.path.realpath(folder))
    if not here.is_relative_to(top):
        return
    for parent in [here, *here.parents]:
        if (parent / DEFAULTS_FILE).exists():
            raise ConfigError(f"{parent / DEFAULTS_FILE} applies to every file written to "
                              f"{out}, so the exported specs would not resolve to what the "
                              "tenant holds; export to a folder with no _defaults.yaml above "
                              "it (--out)")
        if parent == top:
            return


def declared_names(args: argparse.Namespace, target: Target) -> Specs:
    """The names the specs declare, by kind: the valid campaigns and contact lists, and the
    names written in files with errors (no name is exported twice because its spec is
    broken)."""
    names: Specs = {CAMPAIGN: {}, CONTACT_LIST: {}}
    if not Path(campaigns_dir(args)).exists():
        return names
    specs = start_specs(args, target=target).result()
    for file in sorted({p.file for p in specs.problems if p.severity == ERROR}):
        for kind, name, line in _names_in(file):
            names.setdefault(kind, {})[name] = Declared(file, line, None)
    for resource in [*specs.campaigns, *specs.contact_lists]:
        names[resource.kind][resource.lname] = Declared(resource.file, resource.line,
                                                        resource.digest)
    return names


def _names_in(file: str) -> list[tuple[str, str, int]]:
    """The kinds and lowercased names a spec file with errors declares, with their
    documents' lines; SpecError when it cannot be read as YAML."""
    from provisioner.disk.yamlnodes import parse

    try:
        documents, issues = parse(Path(file).read_bytes())
    except OSError as exc:
        raise SpecError(f"{file}: cannot read it ({exc.strerror or exc})") from None
    if issues:
        raise SpecError(f"{file}: cannot tell which campaigns it declares ({issues[0].message}); "
                        "fix it first (`provisioner validate`)")
    return [(_kind(d.value), str(d.value["name"]).lower(), d.line) for d in documents
            if isinstance(d.value, dict) and isinstance(d.value.get("name"), str)]


def _kind(document: dict[str, Any]) -> str:
    """A document's kind as the loader reads it (a campaign unless it says ContactList)."""
    return CONTACT_LIST if document.get("kind") == CONTACT_LIST else CAMPAIGN
