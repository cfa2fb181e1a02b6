# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Checks of the staged models as the cache holds them, without the Hub: each model's stable path points at the
commit its pointer publishes, that revision is complete (its manifest exists) and every file the manifest lists is
stored with its size (and, on GCS, the sha256 recorded when it was verified). Reads only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.accelci.runners.plugins.module_utils._common.checks import failed, outcome
from ansible_collections.accelci.runners.plugins.module_utils.models.layout import COMMIT_RE, ModelLayout

STAGE_FIX = "stage it again: ansible-playbook playbooks/models.yml (it verifies every file and republishes)"


def _stored_problems(entries, stored):
    """The manifest entries the store does not hold as recorded."""
    problems = []
    for entry in entries:
        found = stored.get(entry["path"])
        if found is None:
            problems.append("%s is missing or has the wrong size" % entry["path"])
        elif found.get("size") is not None and int(found["size"]) != int(entry["size"]):
            problems.append("%s is %s bytes, the manifest says %s" % (entry["path"], found["size"], entry["size"]))
        elif found.get("sha256") and entry.get("sha256") and found["sha256"] != entry["sha256"]:
            problems.append("%s has sha256 %s, the manifest says %s" % (entry["path"], found["sha256"][:12],
                                                                        entry["sha256"][:12]))
    return problems


def check_model(store, model):
    """One model ({repo, repo_type, revision}): its stable path resolves to a complete revision."""
    layout = ModelLayout(model["repo"], model.get("repo_type") or "model")
    where = store.describe(layout.stable)
    check = "model %s@%s at %s resolves to a complete revision" % (model["repo"], model.get("revision") or "main", where)
    pointer = store.read_pointer(layout)
    commit = (pointer or {}).get("commit")
    if not commit or not COMMIT_RE.match(commit):
        return failed(check, "model not found: nothing is published for it (no %s)" % store.describe(layout.pointer),
                      STAGE_FIX)
    problems = []
    revision = model.get("revision") or "main"
    if COMMIT_RE.match(revision) and revision != commit:
        problems.append("the published commit is %s, the estate pins %s" % (commit, revision))
    target = store.stable_target(layout)
    if target != layout.link_target(commit):
        problems.append("the stable path points at %s, not at the published commit %s"
                        % (target or "nothing", commit[:12]))
    manifest = store.read_manifest(layout, commit)
    if manifest is None:
        problems.append("revision %s has no manifest: it is incomplete" % commit[:12])
        return outcome(check, problems, "", STAGE_FIX)
    entries = manifest.get("files") or []
    problems.extend(_stored_problems(entries, store.revision_files(layout, commit)))
    total = sum(int(e.get("size") or 0) for e in entries)
    return outcome(check, problems, "commit %s, %d files, %d bytes, every size as the manifest records"
                   % (commit, len(entries), total), STAGE_FIX)


def check_models(store, models):
    """One check per model, in the estate's order."""
    return [check_model(store, model) for model in models]
