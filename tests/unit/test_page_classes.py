"""Every class the pages give an element is styled by a stylesheet the pages load, or is a known hook.

NiceGUI's in-page Tailwind compiler is off (see tools/tailwind/input.css): a Tailwind class added to a
page without `./dev css` would silently do nothing. This finds it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nicegui
from nicegui.elements.mixins.color_elements import TAILWIND_COLORS

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
    """Each whole class name written in a `.classes(...)` call (its strings, however joined, and the
    module's string constants it names) or a `class=` in `.props(...)` of the package, and where."""
    found: dict[str, str] = {}
    for path, tree in _modules():
        constants = _string_constants(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
            arguments = [*node.args, *(keyword.value for keyword in node.keywords)]
            if node.func.attr == "classes":
                names = [name for argument in arguments for name in _whole_names(argument, constants)]
            elif node.func.attr == "props":
                names = [name for argument in arguments for text in _whole_names(argument, constants)
                         for name in _props_classes(text)]
            else:
                continue
            for name in names:
                found.setdefault(name, where)
    return found


def colours_made_into_classes() -> dict[str, str]:
    """`color=` and `text_color=` arguments that NiceGUI turns into Tailwind classes at run time."""
    found: dict[str, str] = {}
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    value = keyword.value
                    if (keyword.arg in ("color", "text_color") and isinstance(value, ast.Constant)
                            and value.value in TAILWIND_COLORS):
                        found[f"{keyword.arg}={value.value!r}"] = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
    return found


def _modules() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(), str(path))) for path in sorted(PACKAGE.rglob("*.py"))]


def _string_constants(tree: ast.Module) -> dict[str, str]:
    """The module's top-level `NAME = "text"` assignments."""
    constants = {}
    for statement in tree.body:
        if (isinstance(statement, ast.Assign | ast.AnnAssign) and isinstance(statement.value, ast.Constant)
                and isinstance(statement.value.value, str)):
            for target in statement.targets if isinstance(statement, ast.Assign) else [statement.target]:
                if isinstance(target, ast.Name):
                    constants[target.id] = statement.value.value
    return constants


def _whole_names(node: ast.AST, constants: dict[str, str]) -> list[str]:
    """The class names in an expression's strings: every part of a join or a choice, each name whole."""
    if isinstance(node, ast.Constant):
        return node.value.split() if isinstance(node.value, str) else []
    if isinstance(node, ast.JoinedStr):  # f"bl-swatch-{name}": only the names no placeholder touches
        text = "".join(part.value if isinstance(part, ast.Constant) else "\0" for part in node.values)
        return [name for name in text.split() if "\0" not in name]
    if isinstance(node, ast.Name):
        return constants.get(node.id, "").split()
    return [name for child in ast.iter_child_nodes(node) for name in _whole_names(child, constants)]


def _props_classes(prop: str) -> list[str]:
    """The classes of a `class=...` in a props string ("flat class=a" or 'class="a b"')."""
    match = re.search(r"""(?:^|\s)class=(?:"([^"]*)"|'([^']*)'|(\S+))""", prop)
    return [] if match is None else " ".join(group or "" for group in match.groups()).split()


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


def test_no_colour_is_left_for_nicegui_to_make_into_a_class() -> None:
    found = colours_made_into_classes()
    assert not found, (f"NiceGUI makes these into Tailwind classes at run time, which `./dev css` cannot see: "
                       f"{found}; write the class instead (.classes('bg-…') or 'text-…')")


def test_the_finder_sees_classes_however_they_are_written() -> None:
    constants = {"CHOSEN": "text-lime-700 bl-chosen"}
    expression = ast.parse('("a " + "text-rose-900") if x else (CHOSEN + f"bl-x-{y} font-bold")', mode="eval").body
    assert set(_whole_names(expression, constants)) == {"a", "text-rose-900", "text-lime-700", "bl-chosen",
                                                        "font-bold"}
    assert _props_classes('flat class="text-rose-900 p-1" dense') == ["text-rose-900", "p-1"]
    assert _props_classes("flat dense") == []


def test_the_finder_sees_the_classes_of_the_page_frame() -> None:
    names = class_names_in_code()
    assert {"bg-slate-800", "w-full", "truncate", "bl-frame"} <= set(names)
    assert "bl-swatch" in names and not any(name.startswith("bl-swatch-") for name in names)


def test_a_tailwind_class_not_built_is_found() -> None:
    styled = styled_class_names()
    assert "text-slate-600" in styled and "w-1/3" in styled
    assert "text-rose-900" not in styled, "the built stylesheet holds only the classes the pages use"
