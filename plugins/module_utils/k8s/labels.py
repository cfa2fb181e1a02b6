# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Kubernetes label syntax (object labels, node labels of a GKE pool, node selectors).

A key is an optional DNS-subdomain prefix (at most 253 characters) and ``/``, then a name of at most 63 characters:
alphanumerics, ``-``, ``_`` and ``.``, alphanumeric at both ends. A value is empty or such a name.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError

_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$")
_PREFIX = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


def label_problem(key, value):
    """What is wrong with one Kubernetes label, or None."""
    text = key if isinstance(key, str) else ""
    prefix, _sep, name = text.rpartition("/")
    if not _NAME.match(name) or (prefix and (len(prefix) > 253 or not _PREFIX.match(prefix))):
        return ("key %r is not a Kubernetes label key; accepted: an optional DNS prefix and /, then 1-63 letters, "
                "digits, -, _ and . starting and ending with a letter or digit" % (key,))
    text = "" if value is None else str(value)
    if text and not _NAME.match(text):
        return ("value %r of %s is not a Kubernetes label value; accepted: empty, or 1-63 letters, digits, -, _ "
                "and . starting and ending with a letter or digit" % (value, key))
    return None


def check_labels(field, labels):
    """Refuse Kubernetes labels the API server would refuse, naming ``field``; return them (or None)."""
    if labels is None:
        return None
    if not isinstance(labels, dict):
        raise InputError(field, "must be a mapping of label keys to values")
    for key, value in labels.items():
        problem = label_problem(key, value)
        if problem:
            raise InputError(field, problem)
    return labels
