"""The copy-paste snippets hold the stream URL and are valid code (they are run for real in integration)."""

import ast

from dashboard.pages.snippets import curl_snippet, python_snippet

URL = "http://logs.example:8000/live/0b6d5f2a-8c1e-4d3b-9f7a-2e4c6a8b0d1f"


def test_python_snippet_is_valid_python_with_the_url() -> None:
    tree = ast.parse(python_snippet(URL))
    assert any(isinstance(node, ast.Constant) and node.value == URL for node in ast.walk(tree))


def test_curl_snippet_posts_to_the_url() -> None:
    snippet = curl_snippet(URL)
    assert snippet.startswith("curl -d message=") and snippet.rstrip().endswith(URL)
