"""The validation boundary: every file, stream or text a user hands us is bounded here first.

Case files, share-link payloads, uploads, priors TOML and FHIR bundles all pass through these
readers before any parser sees them, so that

* a file is **size-bounded before it is read** (``/dev/zero`` or a 50 MB upload is refused
  after ``limit + 1`` bytes, never read whole);
* parsed data is **depth-bounded** (``[[[[...`` a hundred thousand levels deep is a clear
  error, not a ``RecursionError``);
* numbers are **finite and of sane size** (a 400-digit integer is read as a float that the
  field check then refuses as not finite, instead of an ``OverflowError``);
* every failure is the project's :class:`~model.exceptions.InputError` (or the subclass the
  caller names) with the field, the value, what is allowed and the fix.

The path ``-`` means standard input wherever a file is read.

It also holds the two output guards for user text: :func:`terminal_safe` (no ANSI escape or
CR/LF from a case id reaches the terminal) and :func:`strict_json` (no ``NaN``/``Infinity`` in
JSON output, which RFC 8259 forbids).
"""

from __future__ import annotations

import json
import math
import re
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from model.exceptions import InputError

STDIO = "-"
"""The conventional name for standard input (when reading) or standard output (writing)."""

MAX_DEPTH = 32
"""Deepest nesting accepted in a case or priors file. A case is 3 levels deep (case ->
findings -> vegf), a priors file about 5; 32 leaves room for any honest file."""

MAX_INT_DIGITS = 30
"""Integers longer than this are read as floats (which the field check bounds); Python would
otherwise raise on 4,300+ digits or overflow converting 310+ digits to float."""


def read_bounded(
    source: str | Path,
    limit: int,
    *,
    what: str,
    allowed: str = "a readable file",
    hint: str = "",
    error: type[InputError] = InputError,
    stdin: IO[bytes] | None = None,
) -> bytes:
    """Read at most ``limit`` bytes from a file (or standard input for ``-``).

    Reads ``limit + 1`` bytes at most, so a device, pipe or huge file is refused without
    being read whole. ``what`` names the input in the message ("case file", "priors file").
    """
    name = str(source)
    try:
        if name == STDIO:
            stream = stdin if stdin is not None else sys.stdin.buffer
            data = stream.read(limit + 1)
        else:
            path = Path(source)
            if path.is_dir():
                raise error(what, name, allowed, "This is a folder; name a file inside it.")
            with path.open("rb") as handle:
                data = handle.read(limit + 1)
    except OSError as err:
        raise error(what, name, allowed, err.strerror or str(err)) from None
    if len(data) > limit:
        raise error(
            f"{what} size",
            f"more than {limit} bytes",
            f"at most {limit} bytes",
            hint or "Check the path: this is not the file you meant.",
            where="" if name == STDIO else name,
        )
    return data


def decode_utf8(data: bytes, *, what: str, where: str, error: type[InputError]) -> str:
    """UTF-8 text (a leading byte-order mark is dropped, as Excel and Notepad write one)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise error(
            f"{what} encoding",
            f"byte {err.start}",
            "UTF-8",
            "Save the file as UTF-8 (in Excel: 'CSV UTF-8'; in an editor: 'UTF-8').",
            where=where,
        ) from None
    return text.removeprefix("\ufeff")


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """JSON object hook: a key given twice is an error, not a silent overwrite."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(key)
        out[key] = value
    return out


class HugeNumber(float):
    """An integer too long to be a measurement, kept as ``inf`` (so every field check refuses
    it as not finite) but shown in messages by its length, not as ``inf``."""

    digits: int

    def __new__(cls, text: str) -> HugeNumber:
        number = super().__new__(cls, float(text))
        number.digits = len(text.lstrip("+-"))
        return number

    def __repr__(self) -> str:
        return f"a {self.digits}-digit number"

    __str__ = __repr__


def _bounded_int(text: str) -> int | float:
    return int(text) if len(text) <= MAX_INT_DIGITS else HugeNumber(text)


_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
"""A plain decimal number: ASCII digits, an optional dot and exponent. Python's ``float``
also reads ``4_50`` (450), Arabic-Indic or full-width digits and ``nan``; a cohort cell
that only reads as a number that way is refused, never guessed."""


def is_decimal(text: str) -> bool:
    """True when ``text`` (already stripped) is a plain decimal number (see ``_DECIMAL``)."""
    return _DECIMAL.fullmatch(text) is not None


def parse_json(
    text: str | bytes,
    *,
    what: str,
    where: str = "",
    error: type[InputError] = InputError,
    max_depth: int = MAX_DEPTH,
) -> Any:
    """Strict-enough JSON: duplicate keys refused, nesting bounded, huge integers made floats.

    ``NaN``/``Infinity`` literals are parsed (as Python's ``json`` does) so that the field
    check can name the field that holds them.
    """
    if _brackets_deeper_than(text, max_depth):
        raise _too_deep(what, where, error, max_depth)
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys, parse_int=_bounded_int)
    except _DuplicateKeyError as err:
        raise error(
            what,
            f"key {err.key!r} twice",
            "an object with each key once",
            "JSON keeps only the last copy silently; delete the duplicate.",
            where=where,
        ) from None
    except RecursionError:
        raise _too_deep(what, where, error, max_depth) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise error(
            what, snippet(text), "valid JSON", f"JSON parser: {err}.", where=where
        ) from None
    if depth(data) > max_depth:
        raise _too_deep(what, where, error, max_depth)
    return data


def parse_toml(
    text: str,
    *,
    what: str = "TOML syntax",
    where: str = "",
    error: type[InputError] = InputError,
    max_depth: int = MAX_DEPTH,
) -> dict[str, Any]:
    """TOML with nesting bounded; a syntax error names the line and the usual fixes."""
    if _brackets_deeper_than(text, max_depth, comments=True):
        raise _too_deep("TOML nesting", where, error, max_depth)
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise _too_deep("TOML nesting", where, error, max_depth) from None
    except tomllib.TOMLDecodeError as err:
        raise error(
            what,
            str(err),
            "valid TOML",
            "Fix the line named above (quotes around strings, '=' between key and value, "
            "no key written twice).",
            where=where,
        ) from None
    if depth(data) > max_depth:
        raise _too_deep("TOML nesting", where, error, max_depth)
    return data


def _brackets_deeper_than(text: str | bytes, limit: int, *, comments: bool = False) -> bool:
    """Whether ``text`` opens more than ``limit`` nested brackets outside its strings.

    Checked before parsing, so a deeply nested file is refused without the parser ever
    reaching Python's recursion limit (a ``RecursionError`` inside a parser can leave
    CPython 3.11's own recursion counter wrong, and the next ``ast.parse`` in the process -
    Streamlit compiling a page - then fails). ``comments``: ``#`` starts a comment (TOML).
    Strings are skipped by their quotes, so a bracket inside a string never counts.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if text.count("[") + text.count("{") <= limit:
        return False  # cannot nest deeper than it has brackets
    level = 0
    quote = ""
    escaped = False
    in_comment = False
    for char in text:
        if in_comment:
            in_comment = char != "\n"
        elif quote:
            if escaped:
                escaped = False
            elif char == "\\" and quote == '"':
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif comments and char == "#":
            in_comment = True
        elif char in "[{":
            level += 1
            if level > limit:
                return True
        elif char in "]}":
            level = max(level - 1, 0)
    return False


def _too_deep(what: str, where: str, error: type[InputError], limit: int) -> InputError:
    return error(
        f"{what} nesting",
        f"more than {limit} levels",
        f"at most {limit} levels of nested objects or lists",
        "This is not a case or priors file; check what was pasted or uploaded.",
        where=where,
    )


def depth(value: Any) -> int:
    """Nesting depth of parsed JSON/TOML (a scalar is 0), computed without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, Mapping):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            deepest = max(deepest, level)
            continue
        deepest = max(deepest, level + 1)
        if level + 1 > MAX_DEPTH * 4:
            return level + 1  # far past any limit: stop walking
        stack.extend((child, level + 1) for child in children)
    return deepest


def finite_float(value: Any) -> float | None:
    """``float(value)`` for a real number (not bool) that is finite, else ``None``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def snippet(text: Any, limit: int = 60) -> str:
    """A short one-line excerpt of user text for a message (never the whole of it)."""
    s = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    s = " ".join(s.split())
    return s if len(s) <= limit else s[:limit] + "..."


_CONTROL = {i: f"\\x{i:02x}" for i in (*range(0x20), 0x7F)}
_CONTROL.update({0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t", 0x1B: "\\x1b"})
_BIDI = {cp: f"\\u{cp:04x}" for cp in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def terminal_safe(text: str) -> str:
    """User text made safe to print: control characters (ANSI escapes, CR/LF, NUL, BEL) and
    bidirectional overrides are written as visible escapes."""
    return text.translate(_CONTROL | _BIDI | {c: f"\\x{c:02x}" for c in range(0x80, 0xA0)})


_LAYOUT = {0x09, 0x0A, 0x0D}
_INVISIBLE = {
    k: v
    for k, v in (_CONTROL | _BIDI | {c: f"\\x{c:02x}" for c in range(0x80, 0xA0)}).items()
    if k not in _LAYOUT
}


def printable(text: str) -> str:
    """User text for a report: control characters (NUL, BEL, ESC ...), C1 controls and
    bidirectional overrides written as visible escapes; tabs and line breaks kept."""
    return text.translate(_INVISIBLE)


_AUTOLINK = re.compile(r"(?i)(?<=[a-z]:)(?=//)|(?<=www)(?=\.)")
WORD_JOINER = "\u2060"


def no_autolink(text: str) -> str:
    """User text that Markdown renderers will not turn into a link: GitHub-flavoured Markdown
    (and Streamlit) link a bare ``http://...`` or ``www....`` even when ``:`` is escaped, so an
    invisible word joiner is put inside ``://`` and ``www.`` (the text reads the same)."""
    return _AUTOLINK.sub(WORD_JOINER, text)


def strict_json(value: Any) -> Any:
    """A copy of JSON-able data with every non-finite float replaced by ``None``.

    ``json.dumps`` would otherwise write ``NaN``/``Infinity``, which is not JSON (RFC 8259)
    and which strict parsers refuse.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict_json(v) for v in value]
    return value
