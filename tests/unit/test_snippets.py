"""The copy-paste snippets hold the stream URL and are valid code (they are run for real in integration)."""

import ast
import shlex

import pytest

from dashboard.pages import snippets
from dashboard.pages.snippets import curl_snippet, install_command, python_snippet, shell_snippet

URL = "http://logs.example:8000/live/0b6d5f2a-8c1e-4d3b-9f7a-2e4c6a8b0d1f"


def test_python_snippet_is_valid_python_that_uses_the_handler_with_the_url() -> None:
    tree = ast.parse(python_snippet(URL))
    assert any(isinstance(node, ast.Constant) and node.value == URL for node in ast.walk(tree))
    assert any(isinstance(node, ast.ImportFrom) and node.module == "dashboard.client"
               and [alias.name for alias in node.names] == ["BunnyLogsHandler"] for node in ast.walk(tree))


def test_curl_snippet_posts_to_the_url() -> None:
    snippet = curl_snippet(URL)
    assert snippet.startswith("curl -d message=") and snippet.rstrip().endswith(URL)


def test_shell_snippet_pipes_and_tails_the_url() -> None:
    commands = [shlex.split(line) for line in shell_snippet(URL).splitlines()]
    assert any(words[words.index("|") + 1:][:3] == ["bunnylogs", "pipe", URL] for words in commands if "|" in words)
    assert ["bunnylogs", "tail", URL] in [words[:3] for words in commands]


def test_install_command_never_names_the_other_bunnylogs_on_pypi() -> None:
    # `bunnylogs` on PyPI is the original service's client, a different program.
    words = shlex.split(install_command(), comments=True)
    assert words[:4] == ["pip", "install", "--no-deps", words[3]] and words[3].startswith("bunnylogs @ ")
    assert shlex.split(install_command("bunnylogs @ git+https://git.example/bl"), comments=True) == [
        "pip", "install", "--no-deps", "bunnylogs @ git+https://git.example/bl"]


def test_a_local_install_path_says_it_is_the_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snippets, "_installed_from", lambda: "bunnylogs @ file:///srv/bunnylogs")
    assert "a path on the server's machine" in install_command()
    assert "a path on the server's machine" not in install_command("bunnylogs @ file:///opt/x")
