"""`provisioner render [--env E] [--format yaml|json]`: each campaign resolved for one
environment (shared defaults, its overrides and variables applied) exactly as create or
update would send it: the API's body, the message Base64-encoded. Nothing remote or
recorded is read; invalid specs are reported and exit 1, as for plan."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from provisioner.commands._common import add_cache_option, add_config_option, load_valid_specs
from provisioner.config import load_target
from provisioner.spec.load import SpecSet
from provisioner.spec.printable import escape

FORMAT_VERSION = 1


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("render", help="print each campaign as it would be sent to one "
                                             "environment")
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
    """The render document: every campaign that would be sent (not `ensure: absent`)."""
    return {"format_version": FORMAT_VERSION, "env": env, "campaigns": [
        {"name": c.name, "file": c.file, "line": c.line, "body": c.body}
        for c in specs.campaigns if c.ensure != "absent"]}


def _json(document: dict[str, Any], out: TextIO) -> None:
    out.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def _yaml(document: dict[str, Any], out: TextIO) -> None:
    """One YAML document per campaign, its source named in a comment."""
    import yaml

    out.write(f"# environment: {document['env']}\n")
    for campaign in document["campaigns"]:
        where = f"{escape(campaign['file'])}:{campaign['line']}"
        out.write(f"---\n# {escape(campaign['name'])} ({where})\n")
        out.write(yaml.safe_dump(campaign["body"], sort_keys=False, allow_unicode=True))
