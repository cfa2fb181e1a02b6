# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The price table: what the parts of an estate cost, dated, in one home. Pure data and lookups, no I/O.

``PRICE_TABLE`` holds the prices the source documents give (early 2026): seed 000 (RFC-009's cost analysis, region
us-central1), seed 002 (the GPU runner scaler) and seed 001 (the ARC GPU blog, for GitHub-hosted runners). Prices
change, differ by region and leave out discounts, taxes and network traffic: users override or extend any entry per
region with cost_estimate's ``prices`` option, which has the same shape as ``PRICE_TABLE``::

    prices:
      as_of: "2026-03"                                  # the date of your figures (shown next to the table's)
      regions:
        us-central1:
          machine_types:
            g2-standard-8: {on_demand: 0.85, spot: 0.34, source: "our bill, March 2026"}
          filestore: {BASIC_SSD: {tib_monthly: 300}}
      github_hosted:
        linux-gpu-t4-4-core: {per_minute: 0.07}

Keys: a machine type prices one node per hour (``on_demand``, ``spot``, ``flex_start``); machine types that take
attached GPUs (N1 with T4) are priced with their GPUs as ``<machine type>+<count>x<gpu type>``
(``n1-standard-4+1xnvidia-tesla-t4``). A machine type the table does not hold is an error naming it
(``price_table`` and ``node_rate``), never a zero.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from decimal import Decimal, InvalidOperation

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils._common.merge import deep_merge

# Google's price pages turn hourly prices into monthly ones with a 730-hour month (24 x 365 / 12).
HOURS_PER_MONTH = 730
PRICES_AS_OF = "2026-01"
CURRENCY = "USD"
PROVISIONINGS = ("on_demand", "spot", "flex_start")

_SEED_000 = "seed 000 (RFC-009 cost analysis, us-central1)"
_SEED_001 = "seed 001 (ARC GPU runners blog: GitHub-hosted Linux 4-core GPU runner)"
_SEED_002 = ("seed 002 (GPU runner scaler: n1-standard-4 + T4, Linux, ~$0.70/hour; zones in us-east1, us-central1, "
             "us-west1)")


def _node_hour(monthly, nodes):
    """The hourly price of one node from a monthly figure for several nodes running 730 hours."""
    return monthly / (nodes * HOURS_PER_MONTH)


PRICE_TABLE = {
    "as_of": PRICES_AS_OF,
    "currency": CURRENCY,
    "regions": {
        # Seed 000's region (REGION=us-central1, ZONE=us-central1-b).
        "us-central1": {
            "gke_control_plane": {"monthly": 73.0, "source": _SEED_000},
            "machine_types": {
                # Seed 000 prices the system pool per month for two nodes: $97 on-demand, $29 spot. One node-hour is
                # that over 2 x 730 hours, so two nodes for a month give back exactly $97 and $29.
                "e2-standard-4": {"on_demand": _node_hour(97.0, 2), "spot": _node_hour(29.0, 2),
                                  "source": _SEED_000 + ": e2-standard-4 x 2, $97 / $29 per month"},
                "ct6e-standard-1t": {"on_demand": 3.22, "spot": 0.97, "source": _SEED_000},
                "ct6e-standard-4t": {"on_demand": 12.88, "spot": 3.86, "source": _SEED_000},
                # No spot price in the source: a spot T4 pool is an error until one is given.
                "n1-standard-4+1xnvidia-tesla-t4": {"on_demand": 0.70, "source": _SEED_002},
            },
            "filestore": {"BASIC_HDD": {"tib_monthly": 204.0, "source": _SEED_000 + ": 1 TB Basic HDD, $204"}},
            "gcs": {"STANDARD": {"tib_monthly": 26.0, "source": _SEED_000 + ": about $26/TB/month"}},
        },
    },
    # GitHub-hosted runners priced per minute, with the node price keys they stand in for.
    "github_hosted": {
        "linux-gpu-t4-4-core": {
            "description": "GitHub-hosted Linux GPU runner, 4 cores, NVIDIA T4",
            "per_minute": 0.07,
            "equivalent_of": ["n1-standard-4+1xnvidia-tesla-t4"],
            "source": _SEED_001,
        },
    },
}

_TOP_KEYS = ("as_of", "currency", "regions", "github_hosted")
_REGION_KEYS = ("gke_control_plane", "machine_types", "filestore", "gcs")
_MACHINE_KEYS = PROVISIONINGS + ("source",)
_STORAGE_KEYS = ("tib_monthly", "source")
_GITHUB_KEYS = ("description", "per_minute", "equivalent_of", "source")


def to_decimal(field, value):
    """A price or quantity as a Decimal: a number or a numeric string, not negative (InputError naming field)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise InputError(field, "%r is not a number; accepted: a number of %s, 0 or more" % (value, CURRENCY))
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise InputError(field, "%r is not a number; accepted: a number of %s, 0 or more" % (value, CURRENCY))
    if not number.is_finite() or number < 0:
        raise InputError(field, "%s is not accepted; accepted: a finite number, 0 or more" % value)
    return number


def _check_keys(field, entry, accepted):
    if not isinstance(entry, dict):
        raise InputError(field, "must be a mapping with %s" % ", ".join(accepted))
    unknown = sorted(str(key) for key in entry if key not in accepted)
    if unknown:
        raise InputError("%s.%s" % (field, unknown[0]), "is not a price field; accepted: %s" % ", ".join(accepted))


def _check_machine(field, entry):
    _check_keys(field, entry, _MACHINE_KEYS)
    prices = [key for key in PROVISIONINGS if entry.get(key) is not None]
    if not prices:
        raise InputError(field, "gives no price; accepted: at least one of %s (per node-hour)"
                         % ", ".join(PROVISIONINGS))
    for key in prices:
        to_decimal("%s.%s" % (field, key), entry[key])


def _check_storage(field, entry):
    _check_keys(field, entry, _STORAGE_KEYS)
    if entry.get("tib_monthly") is None:
        raise InputError(field, "needs tib_monthly (the price of one TiB for a month)")
    to_decimal(field + ".tib_monthly", entry["tib_monthly"])


def _check_region(field, region):
    _check_keys(field, region, _REGION_KEYS)
    plane = region.get("gke_control_plane")
    if plane is not None:
        _check_keys(field + ".gke_control_plane", plane, ("monthly", "source"))
        to_decimal(field + ".gke_control_plane.monthly", plane.get("monthly"))
    for key, entry in (region.get("machine_types") or {}).items():
        _check_machine("%s.machine_types.%s" % (field, key), entry)
    for group in ("filestore", "gcs"):
        for key, entry in (region.get(group) or {}).items():
            _check_storage("%s.%s.%s" % (field, group, key), entry)


def _check_github(field, entry):
    _check_keys(field, entry, _GITHUB_KEYS)
    to_decimal(field + ".per_minute", entry.get("per_minute"))
    equivalents = entry.get("equivalent_of") or []
    if not isinstance(equivalents, list) or not all(isinstance(key, str) for key in equivalents):
        raise InputError(field + ".equivalent_of", "must be a list of node price keys (machine types, or "
                         "<machine type>+<count>x<gpu type>)")


def _overridden(overrides):
    """The entries an override touches, as dotted paths (regions.us-central1.machine_types.g2-standard-8)."""
    paths = []
    for region, groups in sorted((overrides.get("regions") or {}).items()):
        for group, entries in sorted((groups or {}).items()):
            if group == "gke_control_plane":
                paths.append("regions.%s.%s" % (region, group))
            else:
                paths.extend("regions.%s.%s.%s" % (region, group, key) for key in sorted(entries or {}))
    paths.extend("github_hosted.%s" % key for key in sorted(overrides.get("github_hosted") or {}))
    return paths


def price_table(overrides=None):
    """The shipped table with ``overrides`` merged in (entry fields replaced one by one), checked.

    Returns a new dict: the table plus ``overridden`` (dotted paths of the entries the overrides touched) and
    ``overrides_as_of`` (their date, or None). Raises InputError naming ``prices.<path>`` for anything malformed.
    """
    overrides = overrides or {}
    _check_keys("prices", overrides, _TOP_KEYS)
    if "currency" in overrides and overrides["currency"] != CURRENCY:
        raise InputError("prices.currency", "the table is in %s; accepted: %s" % (CURRENCY, CURRENCY))
    for key in ("regions", "github_hosted"):
        if overrides.get(key) is not None and not isinstance(overrides[key], dict):
            raise InputError("prices.%s" % key, "must be a mapping")
    shipped = dict((k, v) for k, v in PRICE_TABLE.items() if k != "as_of")
    table = deep_merge(shipped, dict((k, v) for k, v in overrides.items() if k != "as_of"))
    for region, entry in table["regions"].items():
        _check_region("prices.regions.%s" % region, entry or {})
    for name, entry in table["github_hosted"].items():
        _check_github("prices.github_hosted.%s" % name, entry)
    table["as_of"] = PRICES_AS_OF
    table["overrides_as_of"] = str(overrides["as_of"]) if overrides.get("as_of") else None
    table["overridden"] = _overridden(overrides)
    return table


def region_prices(table, region, field="price_region"):
    """The prices of one region; InputError naming ``field`` when the table has none for it."""
    prices = table["regions"].get(region)
    if not prices:
        raise InputError(field, "the price table (%s) has no prices for region %s; priced regions: %s; add "
                         "prices.regions.%s, or set price_region to a priced region to use its prices"
                         % (table["as_of"], region, ", ".join(sorted(table["regions"])), region))
    return prices


def machine_key(machine_type, gpu_type=None, gpu_count=None):
    """The price key of a node: its machine type, with attached GPUs when they are billed apart (N1 + T4)."""
    if gpu_type:
        return "%s+%dx%s" % (machine_type, gpu_count, gpu_type)
    return machine_type


def node_rates(table, region, key, field):
    """Hourly prices of one node (``on_demand``, ``spot``, ``flex_start``: Decimal or None) and the entry's source.

    Raises InputError naming ``field`` and the machine type when the region's table does not price it.
    """
    entries = region_prices(table, region).get("machine_types") or {}
    entry = entries.get(key)
    if entry is None:
        raise InputError(field, "no price for machine type %s in %s (price table of %s); priced: %s; add "
                         "prices.regions.%s.machine_types.%s with on_demand and spot per node-hour"
                         % (key, region, table["as_of"], ", ".join(sorted(entries)) or "none", region, key),
                         machine_type=key)
    rates = dict((name, to_decimal(field, entry[name]) if entry.get(name) is not None else None)
                 for name in PROVISIONINGS)
    rates["source"] = entry.get("source")
    return rates


def storage_rate(table, region, group, key, field):
    """The monthly price of one TiB of Filestore (``group`` filestore, key the tier) or GCS (gcs, the class)."""
    entries = region_prices(table, region).get(group) or {}
    entry = entries.get(key)
    if entry is None:
        raise InputError(field, "no %s price for %s in %s (price table of %s); priced: %s; add "
                         "prices.regions.%s.%s.%s.tib_monthly"
                         % (group, key, region, table["as_of"], ", ".join(sorted(entries)) or "none", region, group,
                            key))
    return to_decimal(field, entry["tib_monthly"]), entry.get("source")


def control_plane_rate(table, region, field="cluster"):
    """The monthly price of a GKE Standard control plane in the region."""
    entry = region_prices(table, region).get("gke_control_plane")
    if not entry:
        raise InputError(field, "no GKE control plane price in %s; add prices.regions.%s.gke_control_plane.monthly"
                         % (region, region))
    return to_decimal(field, entry["monthly"]), entry.get("source")


def github_equivalent(table, key):
    """(name, entry) of the GitHub-hosted runner that stands in for a node price key, or (None, None)."""
    for name, entry in sorted(table["github_hosted"].items()):
        if key in (entry.get("equivalent_of") or []):
            return name, entry
    return None, None
