"""cost.report: the estimate as Markdown tables that also read well in a terminal."""

from ansible_collections.accelci.runners.plugins.module_utils.cost.estimate import estimate_cost
from ansible_collections.accelci.runners.plugins.module_utils.cost.report import markdown_report, money, table
from tests.unit.plugins.module_utils.cost.test_estimate import T4_POOL, seed_000


def rows_of(text, first_cell):
    """The cells of the table rows whose first cell is first_cell."""
    found = []
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == first_cell:
            found.append(cells)
    return found


def test_seed_000_tables():
    text = markdown_report(estimate_cost(seed_000()), title="sglang-arc-runners")
    assert text.startswith("# Monthly cost estimate: sglang-arc-runners\n")
    assert "price table of 2026-01 for us-central1" in text
    assert rows_of(text, "System nodes")[0][2:] == ["$97.00", "$29.00", "$97.00"]
    assert rows_of(text, "**Base**")[0][2:] == ["**$374.00**", "**$306.00**", "**$374.00**"]
    assert [row[:4] for row in rows_of(text, "light") + rows_of(text, "medium") + rows_of(text, "heavy")] == [
        ["light", "tpu-v6e-4 5 h", "$64.40", "$19.30"], ["medium", "tpu-v6e-4 25 h", "$322.00", "$96.50"],
        ["heavy", "tpu-v6e-4 50 h", "$644.00", "$193.00"]]


def test_tables_are_padded_and_well_formed():
    text = markdown_report(estimate_cost(seed_000(node_pools=[T4_POOL], usage_hours={"gpu-t4": 30})))
    blocks, current = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    assert len(blocks) == 3
    for block in blocks:
        assert len(set(len(line) for line in block)) == 1, block
        assert len(set(line.count("|") for line in block)) == 1, block
        assert set(block[1]) <= set("|-:")
    # No spot price for the T4 node: shown as n/a, never $0.00.
    assert rows_of(text, "gpu-t4")[0][5] == "n/a" and rows_of(text, "**Total**")[0][2] == "**n/a**"
    assert "$126.00 (linux-gpu-t4-4-core x $0.07/min)" in text
    assert "- gpu-t4: no spot price for n1-standard-4+1xnvidia-tesla-t4; spot totals are not given" in text


def test_money_and_table_helpers():
    assert money(1234.5) == "$1,234.50" and money(None) == "n/a" and money(0.0) == "$0.00"
    assert table(["a", "b"], [["x", "1"]], right=(1,)) == ["| a   |   b |", "|-----|----:|", "| x   |   1 |"]
