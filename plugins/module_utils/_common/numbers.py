# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one check of a whole number from the estate (private to this collection)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError

_WHOLE_TEXT = re.compile(r"^\s*[+-]?[0-9]+\s*$")


def whole_number(field, value, low=0, high=None, error=InputError):
    """``value`` as an int in [low, high] (no upper bound when high is None). An int or its text ("7", as
    templating yields it) is accepted; True, 7.5, "many" are not. Raises ``error`` naming ``field`` and the range."""
    accepted = ("%d or more" % low) if high is None else ("a whole number from %d to %d" % (low, high))
    if isinstance(value, str) and _WHOLE_TEXT.match(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise error(field, "%r is not a whole number; accepted: %s" % (value, accepted))
    if value < low:
        raise error(field, "%d is %s; accepted: %s" % (value, "negative" if value < 0 else "too small", accepted))
    if high is not None and value > high:
        raise error(field, "%d is too large; accepted: %s" % (value, accepted))
    return value
