"""Every class the pages give an element is styled by a stylesheet the pages load, or is a known hook.

NiceGUI's in-page Tailwind compiler is off (see tools/tailwind/input.css): a Tailwind class added to a
page without `./dev css` would silently do nothing. This finds it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nicegui

PACKAGE = Path(__file__).parents[2] / "dashboard"
STATIC = PACKAGE / "static"
NICEGUI_STATIC = Path(nicegui.__file__).parent / "static"
STYLESHEETS = [STATIC / "tailwind.css", STATIC / "bunnylogs.css", NICEGUI_STATIC / "quasar.unimportant.prod.css",
               NICEGUI_STATIC / "quasar.important.prod.css", NICEGUI_STATIC / "nicegui.css"]
# Names for tests and scripts to find elements by; no stylesheet needs to know them. Names starting
# with `bl-` are the pages' own (bunnylogs.css, or hooks): never a Tailwind class.
HOOKS = {"stream-log", "snippet", "new-stream", "read-only-badge", "access-row", "ingest-url", "read-only-url",
         "send-panel", "send-warning"}


def class_names_in_code() -> dict[str, str]:
    """Each whole class name written in a `.classes(...)` call of the package, and where."""
    found: dict[str, str] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "classes"):
                continue
            for argument in [*node.args, *(keyword.value for keyword in node.keywords)]:
                for name in _whole_names(argument):
                    found.setdefault(name, f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    return found


def _whole_names(argument: ast.expr) -> list[str]:
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return argument.value.split()
    if isinstance(argument, ast.JoinedStr):  # f"bl-swatch-{name}": only the names no placeholder touches
        text = "".join(part.value if isinstance(part, ast.Constant) else "\0" for part in argument.values)
        return [name for name in text.split() if "\0" not in name]
    return []


def styled_class_names() -> set[str]:
    names: set[str] = set()
    for sheet in STYLESHEETS:
        for escaped in re.findall(r"\.((?:[\w-]|\\.)+)", sheet.read_text()):
            names.add(re.sub(r"\\(.)", r"\1", escaped))
    return names


def test_every_class_the_pages_use_is_styled_or_a_hook() -> None:
    styled = styled_class_names()
    missing = {name: where for name, where in class_names_in_code().items()
               if name not in styled and name not in HOOKS and not name.startswith("bl-")}
    assert not missing, (f"classes no stylesheet defines: {missing}. A Tailwind class: run `./dev css`; "
                         "a name only for tests to find an element: add it to HOOKS")


def test_the_finder_sees_the_classes_of_the_page_frame() -> None:
    names = class_names_in_code()
    assert {"bg-slate-800", "w-full", "truncate", "bl-frame"} <= set(names)
    assert "bl-swatch" in names and not any(name.startswith("bl-swatch-") for name in names)


def test_a_tailwind_class_not_built_is_found() -> None:
    styled = styled_class_names()
    assert "text-slate-600" in styled and "w-1/3" in styled
    assert "text-rose-900" not in styled, "the built stylesheet holds only the classes the pages use"
