"""`provisioner render [--env E] [--format yaml|json]`: each contact list and each campaign
resolved for one environment (shared defaults, its overrides and variables applied) in the
normal form create or update sends: the API's body, the message Base64-encoded; a contact
list's {name, description, allowDuplicates} (create adds `source`). Nothing remote or
recorded is read; invalid specs are reported and exit 1, as for plan."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from provisioner.body import CONTACT_LIST
from provisioner.commands._common import add_cache_option, add_config_option, load_valid_specs
from provisioner.config import load_target
from provisioner.spec.printable import escape

if TYPE_CHECKING:
    from provisioner.spec.load import Resource, SpecSet

FORMAT_VERSION = 1


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("render", help="print each contact list and campaign as it "
                                             "would be sent to one environment")
    p.add_argument("--env", help="environment in the config (default: the only one, or the "
                                 "one marked default)")
    p.add_argument("--campaigns", metavar="DIR",
                   help="spec folder (env PROVISIONER_CAMPAIGNS, default campaigns/)")
    p.add_argument("--format", choices=("yaml", "json"), default="yaml")
    add_config_option(p)
    add_cache_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    target = load_target(args.env, config_path=Path(args.config))
    specs = load_valid_specs(args, target=target)
    document = rendered(specs, target.env)
    (_json if args.format == "json" else _yaml)(document, sys.stdout)
    return 0


def rendered(specs: SpecSet, env: str) -> dict[str, Any]:
    """The render document: every contact list and campaign that would be sent (not
    `ensure: absent`), lists first (a campaign names them), each with its kind."""
    return {"format_version": FORMAT_VERSION, "env": env,
            "contact_lists": _entries(specs.contact_lists),
            "campaigns": _entries(specs.campaigns)}


def _entries(resources: Sequence[Resource]) -> list[dict[str, Any]]:
    return [{"kind": r.kind, "name": r.name, "file": r.file, "line": r.line, "body": r.body}
            for r in resources if r.ensure != "absent"]


def _json(document: dict[str, Any], out: TextIO) -> None:
    out.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def _yaml(document: dict[str, Any], out: TextIO) -> None:
    """One YAML document per resource, its source named in a comment (a contact list's
    with its kind)."""
    import yaml

    out.write(f"# environment: {document['env']}\n")
    for entry in [*document["contact_lists"], *document["campaigns"]]:
        where = f"{escape(entry['file'])}:{entry['line']}"
        kind = "contact list " if entry["kind"] == CONTACT_LIST else ""
        out.write(f"---\n# {kind}{escape(entry['name'])} ({where})\n")
        out.write(yaml.safe_dump(entry["body"], sort_keys=False, allow_unicode=True))
