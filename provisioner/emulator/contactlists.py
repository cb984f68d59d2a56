"""The documented contact-list operations (koreai-campaign-apis.md section 1.10;
create-contact-list-v2, get-all-contact-lists-v2, get-contact-list-details-v2,
update-contact-list-v2, delete-contact-list-details-v2). Each returns `(status, body)` or
raises `Reject`; `gate(op)` runs right before the commit (or the read), as in api.py.

Shapes follow the samples: a list document carries `_id` (`cl-...`), `isActive`, `name`,
`description`, `totalRecordCount: 0`, `status: "Ready"`, `mapping` (the passive-API
sample's mapping), `isListInUse`, `listType: "call"`, `isGlobalDNC: false`, `isDefault`,
`campaignInUse` (`[{id, name}]` of the campaigns naming it), `source: "passiveApi"`,
`apiConfigurations`, `columns`, `files`, `createdAt`, `updatedAt`, `allowDuplicates`.
Choices the docs leave open, strict where they can be:
- body problems answer 400 with one entry per problem (the lead's contract for update;
  create follows it): create takes exactly name (1-48, not blank), description (required,
  a string of at most 256), source (required, "passiveApi") and allowDuplicates (optional
  boolean); update takes only name and/or description, at least one;
- names may repeat on the tenant (the docs do not say they are unique), and campaigns name
  lists case-insensitively: `campaignInUse` and the in-use refusal of a delete (400
  `Contact list X is in use by campaign(s): A, B`) compare names that way;
- a rename leaves campaigns naming the old name as they are (they store names): such a
  campaign then names a list the tenant lacks, and its next PUT must name the new one;
- the listing answers every list at once and ignores paging (GET, or POST with any JSON
  body); its `type` query parameter, when given, must be `call`; its items have the
  sample's fields only (no `allowDuplicates`, `isGlobalDNC`, `createdAt`: a get has them);
  `data` is `{results, hasMore: false, totalResults}` (the lead's contract), or the bare
  array of the sample with the `contact_lists_as_array` setting;
- `apiConfigurations.dataSyncMode` is "allowDuplicates" when duplicates are allowed; with
  `allowDuplicates: false` the object is left out (no sample shows that case);
- get answers `message: ""` as its sample; update answers `{contactListId, body}` with the
  sent fields and the sample's request context (scope, orgId, iId, listType, accountId,
  updatedBy).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from provisioner.emulator.reply import Reject, not_found
from provisioner.emulator.store import Store
from provisioner.emulator.validation import check_description, check_name, unknown_keys

if TYPE_CHECKING:
    from provisioner.emulator.faults import FaultConfig

CREATE_FIELDS = ("name", "description", "source", "allowDuplicates")
UPDATE_FIELDS = ("name", "description")
MAPPING = {"firstName": "firstName", "lastName": "lastName", "phoneNumber": "phoneNumber",
           "timeZone": "timeZone", "uniqueId": "uniqueId", "contactPriority": "contactPriority"}
DOC_ORDER = ("_id", "isActive", "name", "description", "totalRecordCount", "status",
             "createdBy", "updatedBy", "mapping", "isListInUse", "listType", "isGlobalDNC",
             "isDefault", "campaignInUse", "source", "apiConfigurations", "columns", "files",
             "createdAt", "updatedAt", "allowDuplicates")
ITEM_FIELDS = ("_id", "name", "description", "totalRecordCount", "status", "mapping",
               "isListInUse", "listType", "campaignInUse", "source", "apiConfigurations",
               "columns", "files", "updatedAt")
IDS = uuid.UUID("3d0c9f8e-1b2a-4c5d-8e7f-a1b2c3d4e5f6")

Query = dict[str, list[str]]
Gate = Callable[[str], None]


def validate_create(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return ["body must be a JSON object"]
    problems = unknown_keys(body, CREATE_FIELDS, "$")
    problems += [f"$.{key} is required" for key in ("name", "description", "source")
                 if key not in body]
    problems += _field_problems(body)
    if "source" in body and body["source"] != "passiveApi":
        problems.append('$.source must be "passiveApi"')
    if "allowDuplicates" in body and not isinstance(body["allowDuplicates"], bool):
        problems.append("$.allowDuplicates must be a boolean")
    return problems


def validate_update(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return ["body must be a JSON object"]
    problems = unknown_keys(body, UPDATE_FIELDS, "$")
    if not any(key in body for key in UPDATE_FIELDS):
        problems.append("body must change name or description")
    return problems + _field_problems(body)


def _field_problems(body: dict[str, Any]) -> list[str]:
    problems = check_name(body["name"], "$.name") if "name" in body else []
    if "description" in body:
        problems += check_description(body["description"], "$.description")
    return problems


class ContactListApi:
    def __init__(self, store: Store, *, settings: Callable[[], FaultConfig],
                 account_id: str, stream_id: str) -> None:
        self.store = store
        self._settings = settings
        self.account_id, self.stream_id = account_id, stream_id
        self.user_id = f"u-{uuid.uuid5(IDS, 'user:' + account_id)}"
        self.org_id = f"o-{uuid.uuid5(IDS, 'org:' + account_id)}"

    def create(self, body: Any, gate: Gate) -> tuple[int, dict[str, Any]]:
        problems = validate_create(body)
        if problems:
            raise Reject(400, problems)
        gate("list_create")
        doc = self.add(body["name"], body["description"], body.get("allowDuplicates", False))
        return _success(f"Contact list {doc['name']} created successfully", doc)

    def add(self, name: str, description: str, allow_duplicates: bool) -> dict[str, Any]:
        """Store a new list (a validated create, a seed or an admin call); its answer form."""
        fields: dict[str, Any] = {
            "isActive": True, "name": name, "description": description, "totalRecordCount": 0,
            "status": "Ready", "createdBy": self.user_id, "updatedBy": self.user_id,
            "mapping": dict(MAPPING), "listType": "call", "isGlobalDNC": False,
            "isDefault": False, "source": "passiveApi", "columns": [], "files": [],
            "allowDuplicates": allow_duplicates}
        if allow_duplicates:
            fields["apiConfigurations"] = {"dataSyncMode": "allowDuplicates"}
        return self.answered(self.store.list_create(fields))

    def list_all(self, query: Query, gate: Gate) -> tuple[int, dict[str, Any]]:
        if query.get("type", ["call"]) != ["call"]:
            raise Reject(400, "type query parameter must be call")
        gate("list_list")
        items = [{key: doc[key] for key in ITEM_FIELDS if key in doc}
                 for doc in self.all_answered()]
        data: Any = items if self._settings().contact_lists_as_array else {
            "results": items, "hasMore": False, "totalResults": len(items)}
        return 200, {"status": "success", "message": "", "data": data}

    def get(self, list_id: str, gate: Gate) -> tuple[int, dict[str, Any]]:
        gate("list_get")
        return _success("", self._existing(list_id))

    def update(self, list_id: str, body: Any, gate: Gate) -> tuple[int, dict[str, Any]]:
        self._existing(list_id)
        problems = validate_update(body)
        if problems:
            raise Reject(400, problems)
        gate("list_update")
        new = self.store.list_update(list_id, {**body, "updatedBy": self.user_id})
        if new is None:
            raise not_found(f"Contact list {list_id} not found")
        context = {"scope": ["campaign_management"], "orgId": self.org_id,
                   "iId": self.stream_id, "listType": "call", "accountId": self.account_id,
                   "updatedBy": self.user_id}
        return _success(f"Contact list {new['name']} updated successfully",
                        {"contactListId": list_id, "body": {**body, **context}})

    def delete(self, list_id: str, gate: Gate) -> tuple[int, dict[str, Any]]:
        doc = self._existing(list_id)
        users = [use["name"] for use in doc["campaignInUse"]]
        if users:
            raise Reject(400, f"Contact list {doc['name']} is in use by campaign(s): "
                              f"{', '.join(users)}")
        gate("list_delete")
        if self.store.list_delete(list_id) is None:
            raise not_found(f"Contact list {list_id} not found")
        return _success(f"Contact list {doc['name']} deleted successfully", doc)

    # -- answer forms --------------------------------------------------------------------
    def answered(self, doc: dict[str, Any]) -> dict[str, Any]:
        """A stored list with what depends on the campaigns: `campaignInUse`, `isListInUse`."""
        return self._with_use(doc, self._users())

    def all_answered(self) -> list[dict[str, Any]]:
        users = self._users()
        return [self._with_use(doc, users) for doc in self.store.lists()]

    def _users(self) -> dict[str, list[dict[str, str]]]:
        """Lowercased list name -> `[{id, name}]` of the campaigns naming it, oldest first."""
        users: dict[str, list[dict[str, str]]] = {}
        for campaign in self.store.all():
            for name in {str(n).lower() for n in campaign.get("contactLists") or []}:
                users.setdefault(name, []).append({"id": campaign["_id"], "name": campaign["name"]})
        return users

    def _with_use(self, doc: dict[str, Any], users: dict[str, list[dict[str, str]]]) -> dict[str, Any]:
        in_use = users.get(doc["name"].lower(), [])
        doc = doc | {"campaignInUse": in_use, "isListInUse": bool(in_use)}
        head = {key: doc[key] for key in DOC_ORDER if key in doc}
        return head | {key: value for key, value in doc.items() if key not in head}

    def _existing(self, list_id: str) -> dict[str, Any]:
        doc = self.store.list_get(list_id)
        if doc is None:
            raise not_found(f"Contact list {list_id} not found")
        return self.answered(doc)


def _success(message: str, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return 200, {"status": "success", "message": message, "data": data}
