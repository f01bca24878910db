"""No message text of the provider reads as markup in Airflow's command-line tables.

Airflow's CLI prints tables with Rich, which takes ``[word]`` for a style tag and drops it: a
message saying "<family><generation>[variant].<size>" reached users as
"<family><generation>.<size>". Every string literal of the package (docstrings and regular
expressions aside) is scanned for such a tag, so the next one is caught here, not by a user.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import airflow_provider_cloudos

PACKAGE = Path(airflow_provider_cloudos.__file__).parent
#: What Rich reads as a tag: an opening bracket, then a lower-case letter, ``#``, ``/`` or ``@``.
RICH_TAG = re.compile(r"\[[a-z#/@][^\[\]]*\]")
#: Python 3.12+ gives an f-string's text parts as tokens of their own; 3.11 the whole f-string.
_TEXT_TOKENS = {tokenize.STRING} | (
    {tokenize.FSTRING_MIDDLE} if hasattr(tokenize, "FSTRING_MIDDLE") else set()
)


def _without_fields(text: str) -> str:
    """An f-string without its replacement fields (``{values[0]}`` is code, not text)."""
    kept, depth, index = [], 0, 0
    while index < len(text):
        pair = text[index : index + 2]
        if depth == 0 and pair in ("{{", "}}"):
            kept.append(pair[0])
            index += 2
            continue
        char = text[index]
        if char == "{":
            depth += 1
        elif char == "}" and depth:
            depth -= 1
        elif depth == 0:
            kept.append(char)
        index += 1
    return "".join(kept)


def _literals(path: Path) -> list[tuple[int, str]]:
    """(line, text) of each string literal that is neither a docstring nor a raw string."""
    tokens = list(tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline))
    found = []
    for index, token in enumerate(tokens):
        if token.type not in _TEXT_TOKENS:
            continue
        previous = tokens[index - 1] if index else None
        standalone = previous is None or previous.type in (tokenize.INDENT, tokenize.NEWLINE, tokenize.DEDENT)
        if token.type != tokenize.STRING:  # the text part of an f-string (Python 3.12+)
            found.append((token.start[0], token.string))
            continue
        prefix = token.string[: len(token.string) - len(token.string.lstrip("rbfuRBFU"))].lower()
        if standalone or "r" in prefix:
            continue  # a docstring, or a regular expression
        text = _without_fields(token.string) if "f" in prefix else token.string
        found.append((token.start[0], text))
    return found


def test_no_string_of_the_package_contains_a_rich_style_tag():
    offenders = [
        f"{path.relative_to(PACKAGE)}:{line}: {text}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line, text in _literals(path)
        if RICH_TAG.search(text)
    ]
    assert offenders == []


def test_the_scan_catches_a_bracketed_word_and_not_code(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def f(names, i):\n"
        '    """A docstring may say [anything]."""\n'
        '    pattern = r"[a-z]+"\n'
        '    raise ValueError(f"{names[i]} is not <family><generation>[variant].<size>")\n',
        encoding="utf-8",
    )
    flagged = [text for _, text in _literals(sample) if RICH_TAG.search(text)]
    assert len(flagged) == 1
    assert "[variant]" in flagged[0]
    assert "names" not in flagged[0]
