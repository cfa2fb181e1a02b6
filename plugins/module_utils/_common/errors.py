# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one error contract of this collection (private to the collection).

module_utils never call ``fail_json``: they raise an ``AccelciError`` carrying the message, the option to fix
(``field``) and details for the task result (accepted values, an API status, the operations made so far). Each
module's ``main()`` turns it into ``fail_json`` in one place::

    try:
        result = run_thing(module)
    except AccelciError as exc:
        module.fail_json(**exc.fail_json_kwargs())
    module.exit_json(**result)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class AccelciError(Exception):
    """Something this collection cannot do, said so a user can fix it.

    ``message`` says what failed and why; ``field`` names the option at fault (or None); ``details`` are extra
    keys for the failed task's result (``accepted``, ``status``, ``operations``, ``rc``/``stdout``/``stderr``...).
    """

    def __init__(self, message, field=None, **details):
        super(AccelciError, self).__init__(message)
        self.message = message
        self.field = field
        self.details = details

    def __str__(self):
        return "%s: %s" % (self.field, self.message) if self.field else str(self.message)

    def fail_json_kwargs(self):
        """Keyword arguments for ``module.fail_json``: ``msg``, ``field`` (when known) and the details."""
        kwargs = dict(self.details)
        kwargs["msg"] = str(self)
        if self.field:
            kwargs["field"] = self.field
        return kwargs


class InputError(AccelciError, ValueError):
    """Input that GKE, Kubernetes, GitHub or a chart would refuse, found before anything is touched.

    ``field`` is required: the message must say which option to change and what is accepted.
    """

    def __init__(self, field, message, **details):
        super(InputError, self).__init__(message, field=field, **details)


class ApiError(AccelciError):
    """A remote API, a cluster or a tool refused or failed; ``details`` carry its status or output."""
