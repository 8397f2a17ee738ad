"""The import layering ``api -> loaders | algorithms -> graphfraud`` cannot rot."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What each package may import from the project; graphfraud.cli is the composition root.
ALLOWED = {
    "graphfraud": {"graphfraud"},
    "loaders": {"graphfraud", "loaders"},
    "algorithms": {"graphfraud", "algorithms"},
    "api": {"graphfraud", "loaders", "algorithms", "api"},
}


def project_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & ALLOWED.keys()


def modules() -> list[Path]:
    return sorted(
        path
        for package in ALLOWED
        for path in (ROOT / package).rglob("*.py")
        if path != ROOT / "graphfraud" / "cli.py"
    )


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_imports_only_lower_layers(path: Path) -> None:
    package = path.relative_to(ROOT).parts[0]
    forbidden = project_imports(path) - ALLOWED[package]
    assert not forbidden, f"{package} must not import {sorted(forbidden)}"


def test_the_check_sees_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from api.app import create_app\nimport loaders\n")
    assert project_imports(bad) == {"api", "loaders"}
