"""Every notebook in notebooks/ runs top to bottom without an error, and is saved as it runs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("*.ipynb"))


#: What an output shows, richest first: a plot, a table, text.
SHOWN = ("image/png", "text/html", "text/plain")


def output_kinds(notebook: nbformat.NotebookNode) -> list[list[str]]:
    """Per code cell, what each output shows: its stream's name, or its richest type."""
    return [
        [
            output.get("name") or next((m for m in SHOWN if m in output.get("data", {})), "")
            for output in cell.get("outputs", [])
        ]
        for cell in notebook.cells
        if cell.cell_type == "code"
    ]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_runs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    saved = output_kinds(notebook)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on failure
    # The saved outputs are what the notebook shows now (a plot still a plot, a table a table):
    # a reader of the saved file sees what running it gives.
    assert output_kinds(notebook) == saved, f"save it run: jupyter execute --inplace {path}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_is_saved_with_its_outputs_in_order(path: Path) -> None:
    cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    assert [cell.execution_count for cell in cells] == list(range(1, len(cells) + 1))
    assert not [o for c in cells for o in c.outputs if o.output_type == "error"]


def test_the_tuning_notebook_plots_and_shows_risk() -> None:
    (tuning,) = [path for path in NOTEBOOKS if path.stem == "tuning"]
    kinds = [kind for cell in output_kinds(nbformat.read(tuning, as_version=4)) for kind in cell]
    assert kinds.count("image/png") >= 3, "the sweep, F1 per typology and a ring are drawn"
    assert "nearest_known_bad" in tuning.read_text(encoding="utf-8")


def test_there_is_a_notebook_to_run() -> None:
    assert {"investigation", "tuning"} <= {path.stem for path in NOTEBOOKS}
