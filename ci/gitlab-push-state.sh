#!/bin/sh
# Commit the state file an apply wrote and push it to the default branch, so the next
# merge request plans against what was really done (docs/gitops.md, "How state is kept").
#
# Usage: sh ci/gitlab-push-state.sh state/<env>.json
# Needs PROVISIONER_PUSH_TOKEN (project access token, `write_repository`, a role allowed to
# push to the protected default branch). Does nothing when state lives in PostgreSQL
# (PROVISIONER_STATE set) or the file did not change.
set -eu

state="$1"
if [ -n "${PROVISIONER_STATE:-}" ] || [ ! -f "$state" ]; then
  echo "state is not a committed file here; nothing to push"
  exit 0
fi
git add -- "$state"
if git diff --cached --quiet; then
  echo "$state unchanged"
  exit 0
fi
if [ -z "${PROVISIONER_PUSH_TOKEN:-}" ]; then
  echo "error: $state changed but PROVISIONER_PUSH_TOKEN is not set; take it from the job" \
       "artifacts and commit it by hand before the next apply" >&2
  exit 1
fi
# An identity for the commit and for the rebase below (a runner has none configured).
export GIT_AUTHOR_NAME="provisioner-bot" GIT_AUTHOR_EMAIL="provisioner-bot@noreply.invalid"
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"
git commit --quiet -m "state: record apply of ${CI_COMMIT_SHORT_SHA:-a pipeline} [skip ci]"
remote="${CI_SERVER_URL%%://*}://oauth2:${PROVISIONER_PUSH_TOKEN}@${CI_SERVER_URL#*://}/${CI_PROJECT_PATH}.git"
for attempt in 1 2 3; do
  # Merges that landed meanwhile never touch state files, so a rebase cannot conflict.
  if git pull --quiet --rebase "$remote" "$CI_DEFAULT_BRANCH" \
     && git push --quiet -o ci.skip "$remote" "HEAD:$CI_DEFAULT_BRANCH"; then
    echo "pushed $state"
    exit 0
  fi
  sleep $((attempt * 5))
done
echo "error: could not push $state; it is in the job artifacts (docs/gitops.md, recovery)" >&2
exit 1
