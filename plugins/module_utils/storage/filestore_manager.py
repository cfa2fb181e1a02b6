# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Filestore share's manager: creates, grows, relabels or deletes an instance through a GcpModule for
'filestore', waiting for the operation when asked, and never mutates in check mode. What to send is decided in
``storage.filestore``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import AccelciError, ApiError, InputError
from ansible_collections.accelci.runners.plugins.module_utils.storage.filestore import (
    HAS_FILESTORE,
    TRANSIENT_STATES,
    build_instance,
    desired_instance,
    enum_name,
    filestore_input_errors,
    instance_changes,
    instance_path,
    instance_view,
    patch_instance,
    updated_view,
    volume_handle,
)

try:
    from google.api_core import exceptions as gexc
    from google.protobuf import field_mask_pb2
except ImportError:  # HAS_FILESTORE is False then; run() says what to install
    pass


class FilestoreManager(object):
    """Converge one Filestore instance through a GcpModule for 'filestore'. ``run()`` returns the result."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.path = instance_path(self.params["project"], self.params["location"], self.params["name"])

    def read(self):
        """The live instance, or None."""
        return self.module.call("read Filestore instance %s" % self.path, self.module.client.get_instance,
                                name=self.path, not_found_ok=True)

    def wait_operation(self, operation, action):
        """Wait for a long-running operation (api_core future) within wait_timeout; raise its error."""
        if not self.params.get("wait"):
            return None
        timeout = self.params["wait_timeout"]
        try:
            return operation.result(timeout=timeout)
        except gexc.GoogleAPIError as exc:
            raise self.module.api_error(action, exc)
        except Exception as exc:  # TimeoutError, or concurrent.futures.TimeoutError before 3.11
            if isinstance(exc, TimeoutError) or type(exc).__name__ == "TimeoutError":
                raise ApiError("Timeout trying to %s after %s seconds; the operation continues in the background, "
                               "run again to pick it up" % (action, timeout), retries=self.module.retry_log)
            raise

    def wait_ready(self, instance):
        """An instance still CREATING (an earlier run that did not wait): poll until READY when waiting."""
        deadline = time.monotonic() + self.params["wait_timeout"]
        while self.params.get("wait") and enum_name(instance.state) in TRANSIENT_STATES:
            if time.monotonic() > deadline:
                raise ApiError("Timeout trying to wait for Filestore instance %s to be READY (state %s)"
                               % (self.path, enum_name(instance.state)))
            time.sleep(max(0, self.params.get("poll_interval", 10)))
            instance = self.read()
        return instance

    def run(self):
        """Check every option, then converge the instance to present or absent."""
        if not HAS_FILESTORE:
            raise AccelciError(missing_required_lib("google-cloud-filestore"))
        errors = filestore_input_errors(self.params)
        if errors:
            messages = [message for _option, message in errors]
            raise InputError(errors[0][0], "Invalid filestore_instance options: %s" % "; ".join(messages),
                             errors=messages)
        if self.params["state"] == "absent":
            return self.absent()
        return self.present()

    def _view(self):
        return instance_view(self.read(), self.params["location"])

    def create(self, desired):
        """Create the instance (outside check mode) and return the result."""
        after = dict(desired, ip_address=None, state="CREATING",
                     volume_handle=volume_handle(desired["location"], desired["name"], desired["share_name"]))
        if not self.module.check_mode:
            operation = self.module.call(
                "create Filestore instance %s" % self.path, self.module.client.create_instance,
                parent="projects/%s/locations/%s" % (self.params["project"], self.params["location"]),
                instance_id=self.params["name"], instance=build_instance(desired))
            self.wait_operation(operation, "create Filestore instance %s" % self.path)
            if self.params.get("wait"):
                after = self._view()
        return dict(changed=True, changes=["(new instance)"], instance=after, diff=dict(before=None, after=after))

    def present(self):
        """Create the instance, or update what can change in place; refuse create-time-only differences."""
        desired = desired_instance(self.params)
        instance = self.read()
        if instance is None:
            return self.create(desired)
        before = instance_view(self.wait_ready(instance), self.params["location"])
        updates, fixed = instance_changes(desired, before)
        if fixed:
            raise InputError(fixed[0][0], "Filestore instance %s cannot change in place: %s. Create a new instance "
                                          "(another name) and move the models; this module never deletes a share "
                                          "that holds data on its own."
                             % (self.path, "; ".join(message for _option, message in fixed)), instance=before)
        after = updated_view(before, desired, updates)
        if updates and not self.module.check_mode:
            operation = self.module.call(
                "update Filestore instance %s (%s)" % (self.path, ", ".join(updates)),
                self.module.client.update_instance, instance=patch_instance(self.path, before, after),
                update_mask=field_mask_pb2.FieldMask(paths=updates))
            self.wait_operation(operation, "update Filestore instance %s" % self.path)
            if self.params.get("wait"):
                after = self._view()
        return dict(changed=bool(updates), changes=updates, instance=after, diff=dict(before=before, after=after))

    def absent(self):
        """Delete the instance (and every file on it)."""
        instance = self.read()
        if instance is None:
            return dict(changed=False, changes=[], instance=None, diff=dict(before=None, after=None))
        before = instance_view(instance, self.params["location"])
        if not self.module.check_mode:
            operation = self.module.call("delete Filestore instance %s" % self.path,
                                         self.module.client.delete_instance, name=self.path)
            self.wait_operation(operation, "delete Filestore instance %s" % self.path)
        return dict(changed=True, changes=["(deleted)"], instance=None, diff=dict(before=before, after=None))
