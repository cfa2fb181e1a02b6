# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Google Cloud resource labels (clusters, buckets, Filestore instances): the rule every GCP API applies.

Keys: 1-63 characters, a lowercase letter first, then lowercase letters, digits, ``_`` and ``-``. Values: 0-63
characters of the same set. At most 64 labels per resource.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError

LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
MAX_LABELS = 64


def resource_label_problem(key, value):
    """What is wrong with one label, or None."""
    if not isinstance(key, str) or not LABEL_KEY.match(key):
        return ("key %r is not accepted; accepted: 1-63 lowercase letters, digits, _ and -, starting with a "
                "lowercase letter" % (key,))
    if value is None or not LABEL_VALUE.match(str(value)):
        return ("value %r of %s is not accepted; accepted: 0-63 lowercase letters, digits, _ and -"
                % (value, key))
    return None


def check_resource_labels(field, labels):
    """Refuse labels GCP would refuse, naming ``field``; return them with values as strings (or None)."""
    if labels is None:
        return None
    if not isinstance(labels, dict):
        raise InputError(field, "must be a mapping of label keys to values")
    if len(labels) > MAX_LABELS:
        raise InputError(field, "has %d labels; accepted: at most %d" % (len(labels), MAX_LABELS))
    for key, value in labels.items():
        problem = resource_label_problem(key, value)
        if problem:
            raise InputError(field, problem)
    return dict((key, str(value)) for key, value in labels.items())
