# -*- coding: utf-8 -*-
# Copyright: contributors to accelci.runners
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A cost estimate (``estimate.estimate_cost``) as a Markdown report whose tables also read well in a terminal
(cells padded to their column's width). Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

_ITEM_NAMES = {"control_plane": "GKE control plane", "system_nodes": "System nodes", "model_cache": "Model cache",
               "pool_minimum": "Pool minimum"}
_PROVISIONING = {"on_demand": "on-demand", "spot": "spot", "flex_start": "flex-start"}


def money(amount):
    """$1,234.56, or n/a when the amount is unknown (no price for that column)."""
    return "n/a" if amount is None else "${:,.2f}".format(amount)


def _rate(amount):
    """An hourly price with 2 to 4 decimals ($3.86, $0.0664)."""
    if amount is None:
        return "n/a"
    text = "{:,.4f}".format(amount)
    return "$" + (text[:-2] + text[-2:].rstrip("0") if text.endswith("0") else text)


def _bold(text):
    return "**%s**" % text if text else text


def table(headers, rows, right=()):
    """A Markdown table with cells padded to their column's width; columns in ``right`` are right-aligned."""
    rows = [[str(cell) for cell in row] for row in rows]
    widths = [max([len(headers[i])] + [len(row[i]) for row in rows] + [3]) for i in range(len(headers))]

    def render(cells):
        padded = [cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(cells)]
        return "| " + " | ".join(padded) + " |"

    rule = ["-" * (widths[i] + 1) + ":" if i in right else "-" * (widths[i] + 2) for i in range(len(headers))]
    return [render(headers), "|" + "|".join(rule) + "|"] + [render(row) for row in rows]


def _columns(amounts, bold=False):
    cells = [money(amounts.get(name)) for name in ("on_demand", "spot", "configured")]
    return [_bold(cell) for cell in cells] if bold else cells


def _base_section(estimate):
    rows = [[_ITEM_NAMES.get(line["item"], line["item"]), line["detail"]] + _columns(line)
            for line in estimate["base"]]
    rows.append([_bold("Base"), ""] + _columns(estimate["totals"]["base"], bold=True))
    headers = ["item", "detail", "on-demand", "spot", "as configured"]
    return ["## Fixed base", ""] + table(headers, rows, right=(2, 3, 4))


def _github_cell(line):
    hosted = line.get("github_hosted")
    if not hosted:
        return "-"
    return "%s (%s x $%s/min)" % (money(hosted["monthly"]), hosted["runner"], hosted["per_minute"])


def _pools_section(estimate):
    if not estimate["pools"]:
        return []
    rows = []
    for line in estimate["pools"]:
        rates = line["slice_rates"]
        rows.append([line["pool"], "%s x %d" % (line["price_key"], line["vms_per_slice"]),
                     _PROVISIONING[line["provisioning"]], line["usage_hours"], _rate(rates["on_demand"]),
                     _rate(rates["spot"])] + _columns(line) + [_github_cell(line)])
    hosted = estimate["totals"]["github_hosted"]
    rows.append([_bold("Usage"), "", "", "", "", ""] + _columns(estimate["totals"]["usage"], bold=True)
                + [_bold(money(hosted["monthly"])) if hosted else "-"])
    headers = ["pool", "machine x VMs per slice", "provisioning", "busy hours", "slice $/h on-demand",
               "slice $/h spot", "on-demand", "spot", "as configured", "GitHub-hosted, same hours"]
    return ["", "## Accelerator pools (busy slice-hours per month)", ""] + table(headers, rows,
                                                                                 right=(3, 4, 5, 6, 7, 8))


def _totals_section(estimate):
    totals = estimate["totals"]
    rows = [["Base"] + _columns(totals["base"]), ["Usage"] + _columns(totals["usage"]),
            [_bold("Total")] + _columns(totals["monthly"], bold=True)]
    lines = ["", "## Total per month", ""] + table(["", "on-demand", "spot", "as configured"], rows, right=(1, 2, 3))
    hosted = totals["github_hosted"]
    if hosted:
        lines += ["", "The same busy hours on GitHub-hosted runners: %s a month (pools %s), against %s self-hosted "
                  "as configured." % (money(hosted["monthly"]), ", ".join(hosted["pools"]),
                                      money(hosted["self_hosted_configured"]))]
    return lines


def _scenarios_section(estimate):
    if not estimate["scenarios"]:
        return []
    rows = []
    for scenario in estimate["scenarios"]:
        hours = ", ".join("%s %s h" % (line["pool"], line["usage_hours"]) for line in scenario["pools"]) or "none"
        rows.append([scenario["name"], hours] + _columns(scenario["usage"]) + _columns(scenario["monthly"]))
    headers = ["scenario", "busy hours", "usage on-demand", "usage spot", "usage as configured", "total on-demand",
               "total spot", "total as configured"]
    return ["", "## Usage scenarios", ""] + table(headers, rows, right=(2, 3, 4, 5, 6, 7))


def markdown_report(estimate, title=None):
    """The estimate as Markdown text: base, pools, totals, scenarios, pools not priced, notes."""
    prices = estimate["prices"]
    overrides = ""
    if prices["overridden"]:
        overrides = "; overridden: %s%s" % (", ".join(prices["overridden"]),
                                            " (as of %s)" % prices["overrides_as_of"] if prices["overrides_as_of"]
                                            else "")
    lines = ["# Monthly cost estimate%s" % (": %s" % title if title else ""), "",
             "Prices in %s from the price table of %s for %s%s; a month is %d hours. As configured: each part at "
             "the provisioning the estate asks for (spot, flex-start or on-demand)."
             % (prices["currency"], prices["as_of"], prices["region"] or "no region (nothing here runs on GKE)",
                overrides, prices["hours_per_month"]), ""]
    lines += _base_section(estimate) + _pools_section(estimate) + _totals_section(estimate)
    lines += _scenarios_section(estimate)
    if estimate["unpriced"]:
        lines += ["", "## Not priced", ""] + ["- %s: %s" % (e["pool"], e["reason"]) for e in estimate["unpriced"]]
    if estimate["notes"]:
        lines += ["", "## Notes", ""] + ["- %s" % note for note in estimate["notes"]]
    return "\n".join(lines) + "\n"
