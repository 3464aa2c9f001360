"""Lint (ruff) and types (mypy), as configured in pyproject.toml; bench and the harness stay out of tests."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_tool(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_finds_nothing() -> None:
    result = run_tool("ruff", "check", "dashboard", "harness", "bench", "tests", "docs")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing() -> None:
    result = run_tool("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def imported_modules(folder: str) -> set[str]:
    """The top-level name of every module that the Python files under `folder` import."""
    names = set()
    for path in (ROOT / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def test_bench_and_the_harness_import_nothing_from_the_tests() -> None:
    assert "tests" not in imported_modules("bench") | imported_modules("harness") | imported_modules("docs")
    assert "pytest" not in imported_modules("harness"), "the harness serves the benchmarks too"
