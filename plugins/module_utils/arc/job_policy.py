# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The job-start policy of a runner scale set (seed 003's trust tiers), as an ACTIONS_RUNNER_HOOK_JOB_STARTED script.

The runner runs the hook before every job; a non-zero exit fails the job before any of its steps run. The script
reads what the runner exports (GITHUB_EVENT_NAME, GITHUB_REPOSITORY, GITHUB_REF, GITHUB_EVENT_PATH) and refuses a
job by event name, repository, ref, or a pull request whose head lives in another repository (a fork). It fails
closed: when it must read the event payload and cannot, the job is refused.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError

POLICY_KEYS = ("allowed_events", "denied_events", "allowed_repositories", "allowed_refs", "deny_fork_pull_requests")
EVENT_NAME = re.compile(r"^[a-z_]+$")
REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/(\*|[A-Za-z0-9_.*-]+)$")
# Shell glob characters are allowed in refs; quotes, backslashes, $ and backticks are not (the values are embedded
# in a single-quoted shell array).
SAFE_PATTERN = re.compile(r"^[A-Za-z0-9_.*?/\[\]{}@+=:,-]+$")
PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment")


class JobPolicyError(InputError):
    """A job policy that cannot be enforced as written; ``field`` is the policy key at fault."""


def normalize_policy(policy):
    """Check a job_policy mapping and return it with defaults; raise JobPolicyError naming the field."""
    policy = dict(policy or {})
    unknown = sorted(set(policy) - set(POLICY_KEYS))
    if unknown:
        raise JobPolicyError("job_policy", "unknown keys %s; accepted: %s" % (", ".join(unknown), ", ".join(POLICY_KEYS)))
    result = {}
    for key in ("allowed_events", "denied_events", "allowed_repositories", "allowed_refs"):
        values = policy.get(key) or []
        if isinstance(values, str):
            raise JobPolicyError("job_policy.%s" % key, "must be a list of strings, got the string %r" % (values,))
        values = [str(v) for v in values]
        for value in values:
            if key.endswith("events") and not EVENT_NAME.match(value):
                raise JobPolicyError("job_policy.%s" % key, "%r is not a GitHub event name (lowercase letters and '_', "
                                     "e.g. push, pull_request, workflow_dispatch)" % (value,))
            if key == "allowed_repositories" and not REPOSITORY.match(value):
                raise JobPolicyError("job_policy.allowed_repositories", "%r is not OWNER/REPO (OWNER/* allows an "
                                     "owner's repositories)" % value)
            if key == "allowed_refs" and not SAFE_PATTERN.match(value):
                raise JobPolicyError("job_policy.allowed_refs", "%r must be a ref or glob such as refs/heads/main or "
                                     "refs/tags/v* (no quotes, spaces, '$' or backslashes)" % value)
        result[key] = values
    overlap = sorted(set(result["allowed_events"]) & set(result["denied_events"]))
    if overlap:
        raise JobPolicyError("job_policy", "events %s are both allowed and denied" % ", ".join(overlap))
    deny_forks = policy.get("deny_fork_pull_requests")
    result["deny_fork_pull_requests"] = True if deny_forks is None else bool(deny_forks)
    return result


def policy_is_empty(policy):
    """True when the policy refuses nothing (no hook needed)."""
    policy = normalize_policy(policy)
    return not (policy["allowed_events"] or policy["denied_events"] or policy["allowed_repositories"]
                or policy["allowed_refs"] or policy["deny_fork_pull_requests"])


def _shell_array(values):
    return "(" + " ".join("'%s'" % v for v in values) + ")"


# The hook; %(...)s are filled from the normalized policy (values are single-quoted shell words).
_HOOK_SCRIPT = """#!/bin/bash
# Job-start policy of runner scale set %(name)s (rendered by accelci.runners; edit the scale set's job_policy).
# The runner runs this before each job: a non-zero exit fails the job before any step runs.
set -u
ALLOWED_EVENTS=%(allowed_events)s
DENIED_EVENTS=%(denied_events)s
ALLOWED_REPOSITORIES=%(allowed_repositories)s
ALLOWED_REFS=%(allowed_refs)s
DENY_FORK_PULL_REQUESTS=%(deny_forks)s
PULL_REQUEST_EVENTS=%(pr_events)s

refuse() {
  echo "accelci job policy (%(name)s): refusing this job: $*" >&2
  echo "::error title=Job refused by runner policy::$*"
  exit 1
}

contains() {
  local needle="$1"; shift
  local item
  for item in "$@"; do [ "$item" = "$needle" ] && return 0; done
  return 1
}

matches_glob() {
  local value="$1"; shift
  local pattern
  for pattern in "$@"; do
    # shellcheck disable=SC2053
    [[ "$value" == $pattern ]] && return 0
  done
  return 1
}

event="${GITHUB_EVENT_NAME:-}"
repository="${GITHUB_REPOSITORY:-}"
ref="${GITHUB_REF:-}"
[ -n "$event" ] || refuse "GITHUB_EVENT_NAME is not set"

if [ ${#DENIED_EVENTS[@]} -gt 0 ] && contains "$event" "${DENIED_EVENTS[@]}"; then
  refuse "event '$event' is denied on this runner"
fi
if [ ${#ALLOWED_EVENTS[@]} -gt 0 ] && ! contains "$event" "${ALLOWED_EVENTS[@]}"; then
  refuse "event '$event' is not allowed on this runner (allowed: ${ALLOWED_EVENTS[*]})"
fi
if [ ${#ALLOWED_REPOSITORIES[@]} -gt 0 ] && ! matches_glob "$repository" "${ALLOWED_REPOSITORIES[@]}"; then
  refuse "repository '$repository' is not allowed on this runner"
fi
if [ ${#ALLOWED_REFS[@]} -gt 0 ] && ! matches_glob "$ref" "${ALLOWED_REFS[@]}"; then
  refuse "ref '$ref' is not allowed on this runner"
fi

if [ "$DENY_FORK_PULL_REQUESTS" = "true" ] && contains "$event" "${PULL_REQUEST_EVENTS[@]}"; then
  payload="${GITHUB_EVENT_PATH:-}"
  [ -n "$payload" ] && [ -r "$payload" ] || refuse "cannot read the event payload to check the pull request's origin"
  head_repo=""
  if command -v jq >/dev/null 2>&1; then
    head_repo="$(jq -r '.pull_request.head.repo.full_name // empty' "$payload" 2>/dev/null)"
  else
    node_bin="$(ls -d /home/runner/externals/node*/bin/node 2>/dev/null | sort -V | tail -n 1)"
    [ -n "$node_bin" ] || node_bin="$(command -v node || true)"
    [ -n "$node_bin" ] || refuse "neither jq nor node is available to read the event payload"
    read_head='const e = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const head = (e.pull_request || {}).head || {};
process.stdout.write(head.repo ? head.repo.full_name || "" : "");'
    head_repo="$("$node_bin" -e "$read_head" "$payload" 2>/dev/null)"
  fi
  # A deleted fork has no head repository: treat it as a fork.
  if [ -z "$head_repo" ] || [ "$head_repo" != "$repository" ]; then
    refuse "pull request from '${head_repo:-a deleted fork}' into '$repository': pull requests from forks are not run on this runner"
  fi
fi
exit 0
"""


def job_started_script(policy, scale_set_name):
    """The bash hook enforcing the policy. Every refusal prints one line naming the rule and exits 1."""
    policy = normalize_policy(policy)
    return _HOOK_SCRIPT % dict(
        name=scale_set_name,
        allowed_events=_shell_array(policy["allowed_events"]),
        denied_events=_shell_array(policy["denied_events"]),
        allowed_repositories=_shell_array(policy["allowed_repositories"]),
        allowed_refs=_shell_array(policy["allowed_refs"]),
        deny_forks="true" if policy["deny_fork_pull_requests"] else "false",
        pr_events=_shell_array(PULL_REQUEST_EVENTS),
    )
