# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""How model staging fails: the errors the Hub client, the stores and the stager raise.

Each is an ``AccelciError`` whose details land in the failed task's result: ``kind`` says how it failed (gated,
repo_not_found, revision_not_found, entry_not_found, http, network, corrupt, no_space, write, dest,
stable_conflict, empty, store, unsafe_path) and ``files`` names the files concerned.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError, ApiError


class StageError(AccelciError):
    """Staging failed; ``files`` names the files concerned, ``kind`` says how."""

    def __init__(self, message, kind="error", files=None, **details):
        files = list(files or [])
        super(StageError, self).__init__(message, kind=kind, files=files, **details)
        self.kind = kind
        self.files = files


class HubError(ApiError):
    """A Hub failure with a kind (gated, repo_not_found, revision_not_found, entry_not_found, http, network) and a
    message that says what to do; ``path`` is the file concerned, if any."""

    def __init__(self, kind, message, path=None):
        super(HubError, self).__init__(message, kind=kind, files=[path] if path else [])
        self.kind = kind
        self.path = path


class DigestMismatch(AccelciError):
    """Bytes received do not match what the Hub lists for the file."""

    def __init__(self, message):
        super(DigestMismatch, self).__init__(message, kind="corrupt")
