# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one merge of user overrides into built structures (private to this collection)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy


def _named_list(items):
    return all(isinstance(item, dict) and item.get("name") for item in items)


def _merge_named(base, extra):
    """Lists of named things (containers, volumes, env): same name -> deep merge, new names appended."""
    result = [copy.deepcopy(item) for item in base]
    for item in extra:
        for index, existing in enumerate(result):
            if existing.get("name") == item.get("name"):
                result[index] = deep_merge(existing, item)
                break
        else:
            result.append(copy.deepcopy(item))
    return result


def deep_merge(base, extra):
    """A copy of ``base`` with ``extra`` merged in: mappings recursively, lists of named mappings by name
    (the way Kubernetes merges containers and volumes), anything else replaced."""
    result = copy.deepcopy(base) if base else {}
    for key, value in (extra or {}).items():
        current = result.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            result[key] = deep_merge(current, value)
        elif value and isinstance(value, list) and isinstance(current, list) and _named_list(value + current):
            result[key] = _merge_named(current, value)
        else:
            result[key] = copy.deepcopy(value)
    return result
