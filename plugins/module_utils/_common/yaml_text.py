# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one YAML style of everything this collection writes (private to this collection).

Block style with keys sorted, as ``kubectl get -o yaml`` and ``helm get values`` print them, so a rendered tree
reads the same everywhere and re-renders are byte-stable.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

try:
    import yaml

    HAS_YAML = True
    YAML_IMP_ERR = None
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    HAS_YAML = False
    YAML_IMP_ERR = traceback.format_exc()


def dump_yaml(data):
    """YAML text of ``data``: block style, keys sorted, unicode kept."""
    return yaml.safe_dump(data, default_flow_style=False, sort_keys=True, allow_unicode=True)


def load_yaml(text):
    """One YAML document (None for empty text). Raises yaml.YAMLError on invalid YAML."""
    return yaml.safe_load(text) if text else None


def load_yaml_all(text):
    """Every non-empty document of a YAML text."""
    return [doc for doc in yaml.safe_load_all(text or "") if doc is not None]


YAMLError = yaml.YAMLError if HAS_YAML else Exception
