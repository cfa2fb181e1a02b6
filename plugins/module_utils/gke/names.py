# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The name rule GKE applies to clusters and node pools, checked in one place (the ``gke_name`` test too)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError

_NAME_RE = re.compile(r"^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$")
_NAME_RULE = "1-40 characters, lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen"


def is_valid_name(value):
    """True when ``value`` is a name GKE accepts for a cluster or a node pool."""
    return isinstance(value, str) and bool(_NAME_RE.match(value))


def validate_name(field, value):
    """Return ``value`` when GKE accepts it as a cluster or node pool name; else raise InputError for ``field``."""
    if not is_valid_name(value):
        raise InputError(field, "%r is not a valid GKE name: %s" % (value, _NAME_RULE))
    return value
