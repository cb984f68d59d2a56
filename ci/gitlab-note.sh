#!/bin/sh
# Post or update the merge-request note whose first line is the plan's marker
# (`<!-- provisioner-plan:<env> -->`), so each environment keeps one note per merge request.
#
# Usage: sh ci/gitlab-note.sh PLAN.md
# Needs CI_API_V4_URL, CI_PROJECT_ID, CI_MERGE_REQUEST_IID (GitLab sets them in merge-request
# pipelines) and PROVISIONER_NOTE_TOKEN (a project access token with the `api` scope).
# Without the token (merge requests from forks get no variables) it posts nothing: the plan
# stays in the job log and artifacts.
set -eu

plan="$1"
if [ -z "${PROVISIONER_NOTE_TOKEN:-}" ]; then
  echo "PROVISIONER_NOTE_TOKEN is not set: no merge-request note (the plan is in the artifacts)"
  exit 0
fi
marker=$(head -n 1 "$plan")
case "$marker" in
  "<!-- provisioner-plan:"*) ;;
  *) echo "$plan: the first line is not a provisioner plan marker" >&2; exit 1 ;;
esac

api="$CI_API_V4_URL/projects/$CI_PROJECT_ID/merge_requests/$CI_MERGE_REQUEST_IID/notes"
auth="PRIVATE-TOKEN: $PROVISIONER_NOTE_TOKEN"
payload=$(mktemp)
trap 'rm -f "$payload"' EXIT

# Find our note: page through the notes (100 a page) until one starts with the marker.
note_id=""
page=1
while [ -z "$note_id" ]; do
  notes=$(curl --fail --silent --show-error --header "$auth" \
    "$api?per_page=100&page=$page&sort=asc&order_by=created_at")
  [ "$notes" = "[]" ] && break
  note_id=$(printf '%s' "$notes" | python3 -c '
import json, sys
marker = sys.argv[1]
print(next((str(n["id"]) for n in json.load(sys.stdin)
            if (n.get("body") or "").startswith(marker)), ""))' "$marker")
  page=$((page + 1))
done

python3 -c '
import json, sys
with open(sys.argv[1], encoding="utf-8") as f:
    json.dump({"body": f.read()}, sys.stdout)' "$plan" > "$payload"

if [ -n "$note_id" ]; then
  curl --fail --silent --show-error --output /dev/null --request PUT --header "$auth" \
    --header "Content-Type: application/json" --data-binary "@$payload" "$api/$note_id"
  echo "updated merge-request note $note_id"
else
  curl --fail --silent --show-error --output /dev/null --request POST --header "$auth" \
    --header "Content-Type: application/json" --data-binary "@$payload" "$api"
  echo "created a merge-request note"
fi
