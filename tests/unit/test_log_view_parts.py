"""The log view's browser half: each part is a dependency NiceGUI serves, and each is imported by name."""

from __future__ import annotations

import re
from pathlib import Path

from dashboard.elements.log_view import LogView
from dashboard.elements.rows_feed import RowsFeed

# An ES module import of a bare name, which the page's import map resolves to a dependency's URL, or
# such a name resolved to its URL (a worker's script).
_IMPORT = re.compile(r'^import \{[^}]*\} from "([^"./][^"]*)";$', re.MULTILINE)
_RESOLVE = re.compile(r'import\.meta\.resolve\("([^"./][^"]*)"\)')


def _imports(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    return set(_IMPORT.findall(text)) | set(_RESOLVE.findall(text))


def test_the_parts_import_exactly_the_dependencies_of_the_element() -> None:
    assert LogView.component is not None
    parts = {library.name: library.path for library in LogView.exposed_libraries}
    imported = _imports(LogView.component.path).union(*(_imports(path) for path in parts.values()))
    assert imported == set(parts)


def test_the_rows_feed_is_a_pair_of_files_side_by_side() -> None:
    assert RowsFeed.script.is_file()
    assert RowsFeed.script in [library.path for library in LogView.exposed_libraries]

