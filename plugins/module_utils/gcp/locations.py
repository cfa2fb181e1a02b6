# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Google Cloud location names: regions (``us-central1``) and zones (``us-central1-a``).

The one home of their spelling. A name that is well formed may still not exist; the API has the last word.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError

_REGION = r"[a-z]+-[a-z]+[0-9]{1,2}"
REGION_RE = re.compile(r"^%s$" % _REGION)
ZONE_RE = re.compile(r"^%s-[a-z]$" % _REGION)


def is_zone(location):
    return bool(ZONE_RE.match(str(location or "")))


def is_region(location):
    return bool(REGION_RE.match(str(location or "")))


def region_of(location):
    """The region of a zone (``us-central1-a`` -> ``us-central1``); a region is its own."""
    return location.rsplit("-", 1)[0] if is_zone(location) else location


def check_location(field, location, zones=True, regions=True):
    """Refuse a location that is not spelled like a GCP zone or region; return it. Raises InputError naming field."""
    if (zones and is_zone(location)) or (regions and is_region(location)):
        return location
    accepted = " or ".join(kind for kind, wanted in (("a region like us-central1", regions),
                                                     ("a zone like us-central1-a", zones)) if wanted)
    raise InputError(field, "%r is not a Google Cloud location; accepted: %s" % (location, accepted))
