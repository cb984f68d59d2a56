"""Which documented operation a method + path names (koreai-campaign-apis.md section 1).

Both prefixes `/api/v2/public` and `/campaign/api/v2/public` are accepted for every
operation: the create page uses the first, every other v2 page the second, and the digest
reads them as gateway aliases (section 0.1). The stop path keeps the doc's double slash
(`campaign//trigger/{id}`); a single slash is accepted too. Contact lists live under
`campaign/contactList/` (section 1.10); their listing answers GET (the sample) and POST (the
method column).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PREFIX = r"^(?:/campaign)?/api/v2/public/(?P<sid>[^/]+)/campaign"
_ID = r"(?P<id>[^/]+)"
_LIST = "/contactList"

# (method, pattern, operation); the first match wins, so specific paths come first.
ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (method, re.compile(_PREFIX + tail + "$"), op) for method, tail, op in (
        ("POST", _LIST + "/createContactList", "list_create"),
        ("GET", _LIST + "/getAllListDetails", "list_list"),
        ("POST", _LIST + "/getAllListDetails", "list_list"),
        ("GET", _LIST + "/" + _ID, "list_get"),
        ("PUT", _LIST + "/" + _ID, "list_update"),
        ("DELETE", _LIST + "/" + _ID, "list_delete"),
        ("POST", "/schedule", "schedule"),
        ("POST", "", "create"),
        ("POST", "/getAllCampaignDetails", "list"),
        ("POST", "//?trigger/" + _ID, "trigger"),
        ("POST", "/" + _ID + "/status", "status"),
        ("POST", "/" + _ID, "trigger"),
        ("GET", "/" + _ID, "get"),
        ("PUT", "/" + _ID, "update"),
        ("DELETE", "/" + _ID, "delete"),
    )
)


@dataclass(frozen=True)
class Route:
    op: str
    stream_id: str
    campaign_id: str | None   # the campaign's id, or the contact list's for list_* ops


def match(method: str, path: str) -> Route | None:
    """The route for `method` and `path` (no query string), or None when undocumented."""
    for route_method, pattern, op in ROUTES:
        found = pattern.match(path)
        if route_method == method and found:
            return Route(op, found["sid"], found.groupdict().get("id"))
    return None
