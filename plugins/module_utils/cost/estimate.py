# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The monthly cost of an estate, pure: the estate's variables and the price table in, a breakdown out.

``estimate_cost(params)`` takes cost_estimate's options (the estate's ``accelci_cluster``, ``accelci_node_pools``,
``accelci_scale_sets`` and ``accelci_model_cache``, expected busy hours per pool or scale set, price overrides) and
returns, per month and side by side on-demand, spot and as configured (each part at the provisioning the estate
asks for):

- the fixed base: the GKE control plane, the system nodes, the model cache (GCS or Filestore), and the nodes any
  pool keeps running (its minimum);
- each pool's usage: busy slice-hours x VMs per slice x the machine's hourly price (a multi-host slice is billed for
  all its VMs), with the GitHub-hosted runner that stands in for it, where the price table names one;
- totals, optional usage scenarios (seed 000's light/medium/heavy rows), the price table's date and notes.

TPU and GPU pools are resolved through the catalog (``resolve_tpu``, ``resolve_gpu``). A machine type without a
price is an InputError naming the pool's field and the machine type, never a zero. No I/O.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from decimal import ROUND_HALF_UP, Decimal

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils._common.numbers import whole_number
from ansible_collections.accelci.runners.plugins.module_utils.cost.prices import (
    HOURS_PER_MONTH,
    control_plane_rate,
    github_equivalent,
    machine_key,
    node_rates,
    price_table,
    region_prices,
    storage_rate,
    to_decimal,
)
from ansible_collections.accelci.runners.plugins.module_utils.gcp.locations import check_location, region_of
from ansible_collections.accelci.runners.plugins.module_utils.gke.catalog import resolve_gpu, resolve_tpu
from ansible_collections.accelci.runners.plugins.module_utils.gke.cluster import SYSTEM_POOL_DEFAULTS
from ansible_collections.accelci.runners.plugins.module_utils.gke.slices import expand_slices

COLUMNS = ("on_demand", "spot", "configured")
_MONTH = Decimal(HOURS_PER_MONTH)
_GIB_PER_TIB = Decimal(1024)
# The storage role's Filestore share when accelci_model_cache.filestore leaves them out (as filestore_instance).
_FILESTORE_DEFAULTS = {"tier": "BASIC_HDD", "capacity_gb": 1024}


def cents(value):
    """A Decimal amount rounded half up to cents, as a float (None stays None)."""
    if value is None:
        return None
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _number(value):
    """A Decimal as an int when whole, else a float, for results."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _total(values):
    """The sum of amounts, or None when any is unknown (no price for that column)."""
    values = list(values)
    return None if any(v is None for v in values) else sum(values, Decimal(0))


def _line(columns, **fields):
    """A cost line: the fields, plus each column in cents (Decimal amounts are kept under _amounts for sums)."""
    fields.update((name, cents(columns.get(name))) for name in COLUMNS)
    fields["_amounts"] = dict((name, columns.get(name)) for name in COLUMNS)
    return fields


def _times(rate, quantity):
    return None if rate is None else rate * quantity


def _pool_shape(pool, field):
    """(kind, machine type, price key, VMs per slice) of a GKE node pool entry, through the catalog."""
    if pool.get("tpu") and pool.get("gpu"):
        raise InputError(field, "describes both tpu and gpu; give one")
    if pool.get("tpu"):
        tpu = pool["tpu"]
        try:
            shape = resolve_tpu(tpu.get("accelerator"), tpu.get("topology"), tpu.get("machine_type"))
        except InputError as exc:
            raise InputError(field + ".tpu", str(exc))
        return "tpu", shape["machine_type"], shape["machine_type"], shape["vms"]
    if pool.get("gpu"):
        gpu = pool["gpu"]
        try:
            spec = resolve_gpu(gpu.get("type"), gpu.get("count"), pool.get("machine_type") or gpu.get("machine_type"))
        except InputError as exc:
            raise InputError(field + ".gpu", str(exc))
        # GPUs attached to N1 machines are billed apart from the machine; the other families include them.
        if spec["machine_family"] == "n1":
            return "gpu", spec["machine_type"], machine_key(spec["machine_type"], spec["type"], spec["count"]), 1
        return "gpu", spec["machine_type"], spec["machine_type"], 1
    if pool.get("machine_type"):
        return "cpu", pool["machine_type"], str(pool["machine_type"]).strip().lower(), 1
    raise InputError(field, "a GKE node pool needs tpu, gpu or machine_type; pools off GKE say gke: false")


def _provisioning(pool):
    if pool.get("flex_start"):
        return "flex_start"
    return "spot" if pool.get("spot") else "on_demand"


def _configured_rate(rates, provisioning, key, region, field, notes):
    """The node-hour price the pool pays as configured; flex-start falls back to the spot price, said in notes."""
    if provisioning == "flex_start" and rates["flex_start"] is None and rates["spot"] is not None:
        notes.append("%s: flex-start priced at the spot rate of %s (the price table has no flex-start rate for it)"
                     % (field, key))
        return rates["spot"], "spot"
    rate = rates[provisioning]
    if rate is None:
        raise InputError(field + (".spot" if provisioning == "spot" else ""),
                         "no %s price for machine type %s in %s; add prices.regions.%s.machine_types.%s.%s"
                         % (provisioning.replace("_", "-"), key, region, region, key, provisioning), machine_type=key)
    return rate, provisioning


def _whole(field, value, default):
    return default if value is None else whole_number(field, value)


def _pool_sizes(pool, field, vms, slices):
    """(nodes always on, most slices busy at once or None): autoscaling limits and node_count are per zone and, for
    an entry of several multi-host slices, per slice pool."""
    locations = pool.get("locations") or []
    zones = len(locations) if isinstance(locations, list) and locations else 1
    autoscaling = pool.get("autoscaling")
    if autoscaling and autoscaling.get("enabled", True):
        low = _whole(field + ".autoscaling.min_nodes", autoscaling.get("min_nodes"), 0)
        high = _whole(field + ".autoscaling.max_nodes", autoscaling.get("max_nodes"), None)
    else:
        low = high = _whole(field + ".node_count", pool.get("node_count"), 0)
    return low * zones * slices, (high // vms * zones * slices) if high is not None else None


def _priced_pool(pool, slices, table, region, notes):
    name = pool["name"]
    field = "node_pools[%s]" % name
    kind, machine_type, key, vms = _pool_shape(pool, field)
    shape_field = field + (".%s" % kind if kind in ("tpu", "gpu") else ".machine_type")
    rates = node_rates(table, region, key, shape_field)
    provisioning = _provisioning(pool)
    rate, basis = _configured_rate(rates, provisioning, key, region, field, notes)
    always_on, max_slices = _pool_sizes(pool, field, vms, slices)
    runner, github = github_equivalent(table, key)
    return {"pool": name, "kind": kind, "machine_type": machine_type, "price_key": key, "vms_per_slice": vms,
            "slice_pools": slices, "provisioning": provisioning, "rate_basis": basis, "rates": rates,
            "configured_rate": rate, "always_on_nodes": always_on, "max_slices": max_slices,
            "github_runner": runner, "github": github}


def _off_gke(pool):
    return bool(pool.get("amd_gpu") or pool.get("nvidia_gpu") or pool.get("gke") is False)


def priced_pools(node_pools, table, region, notes):
    """(pools priced, pools left out with the reason): every GKE pool resolved and priced, or an InputError.

    An entry of ``slices: N`` multi-host slices (N GKE pools, ``gke.slices``) is priced as one, N slices at most.
    """
    priced, unpriced, slice_pools = [], [], {}
    for pool in expand_slices([entry for entry in node_pools if isinstance(entry, dict) and entry.get("name")]):
        if pool.get("slice_of"):
            slice_pools[pool["slice_of"]] = slice_pools.get(pool["slice_of"], 0) + 1
    for index, pool in enumerate(node_pools):
        if not isinstance(pool, dict) or not pool.get("name"):
            raise InputError("node_pools[%d]" % index, "each node pool entry needs a name")
        if _off_gke(pool):
            unpriced.append({"pool": pool["name"], "reason": "runs on nodes this estate does not create (off GKE)"})
            continue
        priced.append(_priced_pool(pool, slice_pools.get(pool["name"], 1), table, region, notes))
    return priced, unpriced


def _scale_set_pools(scale_sets):
    """Scale set name -> the node pool it runs on."""
    owners = {}
    for index, scale_set in enumerate(scale_sets):
        if not isinstance(scale_set, dict) or not scale_set.get("name") or not scale_set.get("node_pool"):
            raise InputError("scale_sets[%d]" % index, "each scale set entry needs name and node_pool")
        owners[scale_set["name"]] = scale_set["node_pool"]
    return owners


def usage_by_pool(hours, field, pools, unpriced, owners):
    """Busy slice-hours per priced pool from a mapping of pool or scale set names (scale sets add to their pool)."""
    if not isinstance(hours, dict):
        raise InputError(field, "must map node pool or scale set names to busy hours per month")
    by_name = dict((pool["pool"], pool) for pool in pools)
    off_gke = set(entry["pool"] for entry in unpriced)
    usage = {}
    for key, value in sorted(hours.items()):
        target = key if key in by_name or key in off_gke else owners.get(key)
        if target is None:
            known = set(by_name) | off_gke
            raise InputError("%s.%s" % (field, key), "is neither a node pool nor a scale set; accepted: %s" % ", ".join(
                sorted(known | set(name for name, pool in owners.items() if pool in known))))
        if target not in by_name and target not in off_gke:
            raise InputError("%s.%s" % (field, key), "scale set %s runs on node pool %s, which is not in node_pools"
                             % (key, target))
        if target in off_gke:
            raise InputError("%s.%s" % (field, key), "node pool %s runs off GKE and is not priced; leave it out"
                             % target)
        usage[target] = usage.get(target, Decimal(0)) + to_decimal("%s.%s" % (field, key), value)
    for name, busy in usage.items():
        limit = by_name[name]["max_slices"]
        if limit is not None and busy > limit * _MONTH:
            raise InputError("%s.%s" % (field, name), "%s busy slice-hours is more than node pool %s can run in a "
                             "month (%d slice(s) at once x %d h = %d); accepted: 0 to %d"
                             % (_number(busy), name, limit, HOURS_PER_MONTH, limit * HOURS_PER_MONTH,
                                limit * HOURS_PER_MONTH))
    return usage


def _github_line(pool, hours):
    if not pool["github"]:
        return None
    per_minute = to_decimal("prices.github_hosted.%s.per_minute" % pool["github_runner"], pool["github"]["per_minute"])
    minutes = hours * 60
    return {"runner": pool["github_runner"], "description": pool["github"].get("description"),
            "per_minute": _number(per_minute), "minutes": _number(minutes), "monthly": cents(per_minute * minutes),
            "_amount": per_minute * minutes}


def pool_usage_line(pool, hours):
    """One pool's usage for a month: busy slice-hours x VMs per slice x the hourly price, per column."""
    node_hours = hours * pool["vms_per_slice"]
    rates = pool["rates"]
    line = _line({"on_demand": _times(rates["on_demand"], node_hours), "spot": _times(rates["spot"], node_hours),
                  "configured": pool["configured_rate"] * node_hours},
                 pool=pool["pool"], kind=pool["kind"], machine_type=pool["machine_type"], price_key=pool["price_key"],
                 vms_per_slice=pool["vms_per_slice"], provisioning=pool["provisioning"],
                 rate_basis=pool["rate_basis"], usage_hours=_number(hours), node_hours=_number(node_hours),
                 source=rates["source"],
                 slice_rates=dict((name, _number(_times(rates[name], pool["vms_per_slice"])))
                                  for name in ("on_demand", "spot", "flex_start")))
    line["github_hosted"] = _github_line(pool, hours)
    return line


def _system_nodes_line(params, table, region):
    given = params["cluster"].get("system_pool") or {}
    system = dict(SYSTEM_POOL_DEFAULTS, **dict((k, v) for k, v in given.items() if v is not None))
    nodes = _whole("system_nodes", params.get("system_nodes"), None)
    if nodes is None:
        nodes = _whole("cluster.system_pool.min_nodes", system["min_nodes"], 1)
    key = str(system["machine_type"]).strip().lower()
    rates = node_rates(table, region, key, "cluster.system_pool.machine_type")
    provisioning = "spot" if system.get("spot") else "on_demand"
    rate, _basis = _configured_rate(rates, provisioning, key, region, "cluster.system_pool", [])
    node_hours = _MONTH * nodes
    detail = "%s x %d, %d h each%s" % (key, nodes, HOURS_PER_MONTH, ", spot" if system.get("spot") else "")
    return _line({"on_demand": _times(rates["on_demand"], node_hours), "spot": _times(rates["spot"], node_hours),
                  "configured": rate * node_hours},
                 item="system_nodes", detail=detail, machine_type=key, nodes=nodes, provisioning=provisioning,
                 source=rates["source"])


def _model_cache_line(params, table, region):
    cache = params.get("model_cache") or {}
    backend = cache.get("backend", "none")
    if backend in (None, "none"):
        return None
    if backend == "filestore":
        share = dict(_FILESTORE_DEFAULTS, **dict((k, v) for k, v in (cache.get("filestore") or {}).items()
                                                 if v is not None))
        tier = str(share["tier"]).upper()
        tib = to_decimal("model_cache.filestore.capacity_gb", share["capacity_gb"]) / _GIB_PER_TIB
        rate, source = storage_rate(table, region, "filestore", tier, "model_cache.filestore.tier")
        detail = "Filestore %s, %s TiB provisioned" % (tier, _number(tib))
    elif backend == "gcs":
        if params.get("storage_tib") is None:
            raise InputError("storage_tib", "a gcs model cache is billed for what it stores: give the size of the "
                             "staged models in TiB (for example 0.1 for about 100 GiB)")
        tib = to_decimal("storage_tib", params["storage_tib"])
        storage_class = str(params.get("storage_class") or "STANDARD").upper()
        rate, source = storage_rate(table, region, "gcs", storage_class, "storage_class")
        detail = "GCS %s, %s TiB stored" % (storage_class, _number(tib))
    else:
        raise InputError("model_cache.backend", "%r is not accepted; accepted: gcs, filestore, none" % (backend,))
    amount = rate * tib
    return _line({"on_demand": amount, "spot": amount, "configured": amount},
                 item="model_cache", detail=detail, backend=backend, size_tib=_number(tib), source=source)


def base_lines(params, table, region, pools):
    """The fixed monthly base: control plane, system nodes, model cache, and each pool's always-on nodes."""
    lines = []
    if params.get("cluster"):
        monthly, source = control_plane_rate(table, region)
        lines.append(_line({"on_demand": monthly, "spot": monthly, "configured": monthly}, item="control_plane",
                           detail="GKE Standard cluster %s" % params["cluster"].get("name", ""), source=source))
        lines.append(_system_nodes_line(params, table, region))
    cache = _model_cache_line(params, table, region)
    if cache:
        lines.append(cache)
    for pool in pools:
        if pool["always_on_nodes"]:
            node_hours = _MONTH * pool["always_on_nodes"]
            rates = pool["rates"]
            lines.append(_line({"on_demand": _times(rates["on_demand"], node_hours),
                                "spot": _times(rates["spot"], node_hours),
                                "configured": pool["configured_rate"] * node_hours},
                               item="pool_minimum", pool=pool["pool"], machine_type=pool["machine_type"],
                               price_key=pool["price_key"],
                               detail="pool %s keeps %d x %s running"
                               % (pool["pool"], pool["always_on_nodes"], pool["price_key"]),
                               nodes=pool["always_on_nodes"], provisioning=pool["provisioning"]))
    return lines


def column_totals(lines):
    return dict((name, _total(line["_amounts"][name] for line in lines)) for name in COLUMNS)


def _github_totals(lines):
    hosted = [line for line in lines if line.get("github_hosted")]
    if not hosted:
        return None
    return {"pools": [line["pool"] for line in hosted],
            "monthly": cents(_total(line["github_hosted"]["_amount"] for line in hosted)),
            "self_hosted_configured": cents(_total(line["_amounts"]["configured"] for line in hosted))}


def _public(line):
    """A line without its internal Decimal amounts, for results."""
    clean = dict((k, v) for k, v in line.items() if k != "_amounts")
    if clean.get("github_hosted"):
        clean["github_hosted"] = dict((k, v) for k, v in clean["github_hosted"].items() if k != "_amount")
    return clean


def _totals(base, usage):
    base_totals, usage_totals = column_totals(base), column_totals(usage)
    monthly = dict((name, _total((base_totals[name], usage_totals[name]))) for name in COLUMNS)
    return {"base": dict((k, cents(v)) for k, v in base_totals.items()),
            "usage": dict((k, cents(v)) for k, v in usage_totals.items()),
            "monthly": dict((k, cents(v)) for k, v in monthly.items()),
            "github_hosted": _github_totals(usage)}


def _scenarios(params, pools, unpriced, owners, base):
    scenarios = params.get("usage_scenarios") or {}
    if not isinstance(scenarios, dict):
        raise InputError("usage_scenarios", "must map scenario names to {pool or scale set: busy hours per month}")
    results = []
    for name, hours in scenarios.items():
        usage = usage_by_pool(hours, "usage_scenarios.%s" % name, pools, unpriced, owners)
        lines = [pool_usage_line(pool, usage[pool["pool"]]) for pool in pools if pool["pool"] in usage]
        results.append(dict(name=str(name), pools=[_public(line) for line in lines], **_totals(base, lines)))
    return results


def _price_info(table, region, price_region):
    return {"as_of": table["as_of"], "currency": table["currency"], "hours_per_month": HOURS_PER_MONTH,
            "region": price_region, "overrides_as_of": table["overrides_as_of"], "overridden": table["overridden"],
            "estate_region": region}


def _needs_prices(params):
    cache = params.get("model_cache") or {}
    return bool(params.get("cluster") or cache.get("backend", "none") not in (None, "none")
                or any(isinstance(pool, dict) and not _off_gke(pool) for pool in params.get("node_pools") or []))


def _regions(params, table):
    """(estate region or None, region whose prices are used, notes); an estate with nothing on GKE needs neither."""
    location = params.get("location")
    region = region_of(check_location("location", str(location).strip())) if location else None
    price_region = params.get("price_region") or region
    notes = []
    if price_region is None:
        if _needs_prices(params):
            raise InputError("location", "is needed to pick the prices of the estate's region; accepted: a zone such "
                             "as us-central1-b or a region (or give price_region)")
        return region, price_region, notes
    region_prices(table, price_region)
    if region and price_region != region:
        notes.append("prices of %s used for an estate in %s" % (price_region, region))
    if location and region == str(location).strip():
        notes.append("regional location %s: node counts are per zone and counted for one zone unless a pool lists "
                     "its zones in locations; give system_nodes as the total" % location)
    return region, price_region, notes


def _missing_price_notes(lines, notes):
    for line in lines:
        for column in ("on_demand", "spot"):
            note = "%s: no %s price for %s; %s totals are not given" % (
                line.get("pool") or line.get("item"), column.replace("_", "-"),
                line.get("price_key") or line.get("machine_type"), column.replace("_", "-"))
            if line["_amounts"][column] is None and note not in notes:
                notes.append(note)


def estimate_cost(params):
    """The monthly cost of an estate (cost_estimate's options as a dict); see the module docstring.

    Returns a dict: ``prices`` (table date, region, overrides), ``base`` and ``pools`` (lines with on_demand, spot
    and configured amounts), ``unpriced`` (pools left out and why), ``totals`` (base, usage, monthly, github_hosted),
    ``scenarios`` and ``notes``. Raises InputError naming the option at fault before anything is computed.
    """
    table = price_table(params.get("prices"))
    region, price_region, notes = _regions(params, table)
    pools, unpriced = priced_pools(params.get("node_pools") or [], table, price_region, notes)
    owners = _scale_set_pools(params.get("scale_sets") or [])
    usage = usage_by_pool(params.get("usage_hours") or {}, "usage_hours", pools, unpriced, owners)
    base = base_lines(params, table, price_region, pools)
    lines = [pool_usage_line(pool, usage.get(pool["pool"], Decimal(0))) for pool in pools]
    _missing_price_notes(base + lines, notes)
    return {"prices": _price_info(table, region, price_region),
            "base": [_public(line) for line in base],
            "pools": [_public(line) for line in lines],
            "unpriced": unpriced,
            "totals": _totals(base, lines),
            "scenarios": _scenarios(params, pools, unpriced, owners, base),
            "notes": notes}
