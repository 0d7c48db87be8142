"""The cohort file format: columns, reading CSV and Parquet into coded columns, writing.

A cohort has one row per patient and one column per finding id (an empty cell is *not
assessed*), plus ``id``, ``age``, ``sex``, ``setting`` and the VEGF measurement as
``vegf_value`` / ``vegf_unit`` / ``vegf_specimen`` / ``vegf_uln``
(:data:`model.case_columns.KNOWN_COLUMNS`). Other columns are ignored and listed.

Reading never loses a row:

- **CSV**: the byte-order mark Excel writes is skipped; the delimiter (comma, semicolon or
  tab) is detected from the header, or named; text is UTF-8 unless another encoding is named.
  The file is read by pyarrow's streaming reader, each column dictionary-encoded (a cohort
  column holds a handful of distinct values). If a line cannot be read that way (a cell too
  many or too few, an unbalanced quote, a byte that is not UTF-8, a line break inside a
  quoted cell), the file is read again line by line: each malformed line becomes *that row's*
  error, with its line number and the fix, and every other row is scored.
- **Parquet**: only the known columns are read, strings dictionary-encoded as stored; a known
  column of a nested or binary type is refused with its name and type.

Writing (:class:`AtomicOutput`) goes to a hidden ``.partial`` file beside the output, renamed
over it only when every row is written; a failed or interrupted run removes it.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import tempfile
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from model.case import Case
from model.case_columns import CASE_COLUMNS, KNOWN_COLUMNS, VEGF_COLUMNS, CodedColumn
from model.exceptions import InputError
from model.inputs import is_decimal
from model.vocabulary import FINDINGS, Kind, suggest

DELIMITERS: Mapping[str, str] = {",": "comma", ";": "semicolon", "\t": "tab"}
"""The delimiters a cohort CSV may use, with their names (``--delimiter comma``)."""
SUFFIXES: tuple[str, ...] = (".csv", ".parquet")
MAX_LINES_PER_CELL = 1000
"""A quoted cell may span lines; one spanning more is read as an unbalanced quote."""
HEADER_BYTES = 1 << 20
CSV_BLOCK_BYTES = 1 << 20
"""Bytes per block of pyarrow's CSV reader. The blocks are read as plain text, joined into
chunks of the chunk size and dictionary-encoded per chunk: on a 100,000-row cohort 0.31-0.32
CPU s against 0.40-0.43 for blocks of a whole chunk read as dictionaries (the reader's
dictionary conversion slows down as blocks grow: 0.8 s with 32 MB blocks)."""


@dataclass
class RawChunk:
    """One block of rows as coded columns, with the rows that could not be read at all."""

    n: int
    columns: dict[str, CodedColumn]
    ids: Any  # pyarrow string array (trimmed; '' when not given)
    read_errors: dict[int, str] = field(default_factory=dict)  # position -> message
    fast: bool = True  # read by the columnar reader

    def row(self, i: int) -> dict[str, str]:
        """Row ``i`` as strings (for the ``Case`` path)."""
        return {name: str(col.uniques[col.indices[i]]) for name, col in self.columns.items()}


@dataclass(frozen=True)
class Dialect:
    """How a CSV file is written: its delimiter (and whether it was detected) and encoding."""

    delimiter: str
    detected: bool
    encoding: str
    names: tuple[str, ...]

    def describe(self) -> str:
        how = "detected" if self.detected else "as named"
        return f"CSV, {DELIMITERS[self.delimiter]}-separated ({how}), {self.encoding}"


class ReadFallback(Exception):
    """The columnar CSV reader met a line it cannot read; read line by line instead."""


def case_from_row(row: Mapping[str, str], label_column: str | None = None) -> Case:
    """Build a case from one cohort row of strings (empty = not assessed)."""
    findings: dict[str, Any] = {}
    for key, raw in row.items():
        if key == label_column or key in CASE_COLUMNS or key in VEGF_COLUMNS:
            continue
        spec = FINDINGS.get(key)
        value = str(raw).strip()
        if spec is None or value == "":
            continue
        if spec.kind is Kind.NUMBER:
            findings[key] = _number(key, value)
        else:
            findings[key] = value
    vegf_value = str(row.get("vegf_value", "")).strip()
    if vegf_value:
        vegf: dict[str, Any] = {
            "value": _number("vegf_value", vegf_value),
            "unit": str(row.get("vegf_unit", "")).strip() or "pg/mL",
            "specimen": str(row.get("vegf_specimen", "")).strip(),
        }
        uln = str(row.get("vegf_uln", "")).strip()
        if uln:
            vegf["uln"] = _number("vegf_uln", uln)
        findings["vegf"] = vegf
    data: dict[str, Any] = {"findings": findings}
    for key in CASE_COLUMNS:
        value = str(row.get(key, "")).strip()
        if value:
            data[key] = _number(key, value) if key == "age" else value
    return Case.from_dict(data)


def _number(name: str, text: str) -> float | int:
    if not is_decimal(text):
        hint = "Use a dot as decimal separator." if "," in text else ""
        raise InputError(
            name,
            text,
            "a plain decimal number (digits 0-9, optionally a dot and an exponent)",
            hint or "Remove separators such as '_' and write the digits 0-9.",
        )
    number = float(text)
    return int(number) if number.is_integer() else number


def unknown_columns(columns: Sequence[str], also: Sequence[str] = ()) -> list[tuple[str, str]]:
    """Columns that are not part of the cohort format, each with a "did you mean" hint."""
    known = set(KNOWN_COLUMNS) | {"true_diagnosis", *also}
    return [(c, suggest(c, FINDINGS)) for c in columns if c not in known]


def unique_names(header: Sequence[str], where: str) -> list[str]:
    """Stripped column names; a repeated name is an error (which cell would count?)."""
    names = [str(h).strip() for h in header]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InputError(
                "cohort column",
                name,
                "a name used once",
                "Remove or rename the repeated column.",
                where=where,
            )
        seen.add(name)
    return names


def check_suffix(path: Path, flag: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(flag, str(path), "a .csv or .parquet file name", "Rename or convert it.")
    return suffix


# ---------------------------------------------------------------------- coded columns
def coded(array: Any, previous: CodedColumn | None = None) -> CodedColumn:
    """A pyarrow array (any scalar type, dictionary-encoded or not) as a coded column.

    ``previous``: the same column's coded form in the chunk before. Parquet gives every
    batch of a row group the group's whole dictionary (thousands of texts for a measured
    value); when it equals the one before, its texts and what was computed from them
    (:meth:`CodedColumn.per_unique`) are reused, so per chunk only the indices are new.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_dictionary(array.type):
        if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
            array = pc.cast(array, pa.string())
        array = pc.dictionary_encode(array)
    values = array.dictionary
    if not pa.types.is_string(values.type):
        values = pc.cast(values, pa.string())
    indices = array.indices
    if array.null_count:  # a missing cell is the empty text, the last unique
        indices = pc.fill_null(indices, len(values))
    # The smallest integer type that holds every index (a quarter of Arrow's int32 for a
    # column of a few states): a chunk in flight stays small. Widened when used.
    narrow = np.int8 if len(values) < 127 else np.int16 if len(values) < 32767 else np.int32
    codes = indices.to_numpy(zero_copy_only=False).astype(narrow, copy=False)
    if (
        previous is not None
        and previous.source is not None
        and len(previous.source) == len(values)
        and previous.source.equals(values)
    ):
        return CodedColumn(codes, previous.uniques, previous.texts, previous.memo, values)
    # Trimmed in Arrow; a cell whose padding Arrow leaves (rare Unicode spaces) is not a
    # canonical value, so its row takes the Case path, which strips as Python does.
    trimmed = pc.utf8_trim_whitespace(values)
    uniques = np.array([*trimmed.to_pylist(), ""], dtype=object)
    return CodedColumn(codes, uniques, trimmed, source=values)


def _ids(array: Any | None, n: int) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    if array is None:
        return pa.array([""] * n, pa.string())
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if not pa.types.is_string(array.type):
        array = pc.cast(array, pa.string())
    return pc.fill_null(pc.utf8_trim_whitespace(array), "")


def chunk_from_batch(batch: Any, previous: RawChunk | None = None) -> RawChunk:
    """A pyarrow record batch (known columns only) as a :class:`RawChunk`; ``previous``, the
    chunk before it from the same file (see :func:`coded`)."""
    names = batch.schema.names
    before = previous.columns if previous is not None else {}
    columns = {
        name: coded(batch.column(j), before.get(name))
        for j, name in enumerate(names)
        if name != "id"
    }
    ids = batch.column(names.index("id")) if "id" in names else None
    return RawChunk(batch.num_rows, columns, _ids(ids, batch.num_rows))


def chunk_from_frame(frame: Any) -> RawChunk:
    """A pandas frame of cells (strings, or values printed as strings) as a chunk."""
    import pandas as pd
    import pyarrow as pa

    n = len(frame)
    names = [str(c).strip() for c in frame.columns]
    columns: dict[str, CodedColumn] = {}
    ids = None
    for name, original in zip(names, frame.columns, strict=True):
        if name not in KNOWN_COLUMNS:
            continue
        series = frame[original]
        text = series.astype(object).where(pd.notna(series), "").astype(str)
        if name == "id":
            ids = pa.array(text.to_numpy(dtype=object), pa.string())
        else:
            columns[name] = CodedColumn.from_strings(text.to_numpy(dtype=object))
    return RawChunk(n, columns, _ids(ids, n))


# ---------------------------------------------------------------------- sources
class CohortSource:
    """A cohort file opened for reading: its format, and its rows in chunks."""

    def __init__(
        self,
        path: str | Path,
        *,
        delimiter: str | None = None,
        encoding: str | None = None,
        name: str | None = None,
        every_column: bool = False,
    ) -> None:
        """``name`` is what messages call the file (default: its path); ``every_column``
        reads every column as text, not only the cohort format's (evaluation reads the label
        column too)."""
        self.path = Path(path)
        self.where = name or str(self.path)
        self.every_column = every_column
        self.skipped: list[str] = []  # columns of a type that is not one value per cell
        self.suffix = check_suffix(self.path, "cohort file")
        if not self.path.exists():
            raise InputError("cohort file", self.where, "an existing file")
        if self.path.is_dir():
            raise InputError("cohort file", self.where, "a file, not a folder")
        self.encoding = _check_encoding(encoding)
        self.dialect: Dialect | None = None
        self.names: list[str]
        if self.suffix == ".parquet":
            self._open_parquet()
        else:
            self.dialect = _sniff(self.path, delimiter, self.encoding)
            self.names = list(self.dialect.names)

    def wanted(self, name: str) -> bool:
        """Whether column ``name`` is read."""
        if name in self.skipped:
            return False
        return self.every_column or name in KNOWN_COLUMNS

    # -------------------------------------------------------------- description
    def describe(self) -> str:
        return "Parquet" if self.dialect is None else self.dialect.describe()

    @property
    def total_rows(self) -> int | None:
        return self._rows if self.dialect is None else None

    @property
    def total_bytes(self) -> int:
        return self.path.stat().st_size

    # -------------------------------------------------------------- parquet
    def _open_parquet(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            reader = pq.ParquetFile(self.path)
            schema = reader.schema_arrow
            self._rows = int(reader.metadata.num_rows)
        except (OSError, ValueError, pa.ArrowException) as err:
            raise InputError(
                "cohort file", self.where, "a readable Parquet file", str(err)
            ) from None
        self.names = unique_names(schema.names, self.where)
        self._original = dict(zip(self.names, schema.names, strict=True))
        text_columns = []
        for name in self.names:
            if not self.wanted(name):
                continue
            kind = schema.field(self._original[name]).type
            value_type = kind.value_type if pa.types.is_dictionary(kind) else kind
            if not _scalar(value_type) and name not in KNOWN_COLUMNS:
                self.skipped.append(name)  # not part of the format: listed, never read
                continue
            if not _scalar(value_type):
                raise InputError(
                    f"cohort column {name!r}",
                    str(kind),
                    "text, numbers or true/false (one value per cell)",
                    "Convert the column to text before scoring (a list, struct, map or binary "
                    "column cannot be read as a finding).",
                    where=self.where,
                )
            is_text = pa.types.is_string(value_type) or pa.types.is_large_string(value_type)
            if is_text and name != "id":  # ids are distinct: a dictionary would only cost
                text_columns.append(self._original[name])
        self._read_dictionary = text_columns

    def _parquet_chunks(self, chunk_rows: int) -> Iterator[RawChunk]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        wanted = [self._original[n] for n in self.names if self.wanted(n)]
        rename = {self._original[n]: n for n in self.names}
        previous: RawChunk | None = None
        try:
            reader = pq.ParquetFile(self.path, read_dictionary=self._read_dictionary)
            for group in range(reader.num_row_groups):  # one reader per row group: its
                # buffers go when the group is done (one reader for the file kept growing)
                for batch in reader.iter_batches(  # one thread: the scorer keeps the
                    # cores busy, and pyarrow's pool would add its own CPU on top
                    batch_size=chunk_rows,
                    row_groups=[group],
                    columns=wanted,
                    use_threads=False,
                ):
                    batch = batch.rename_columns([rename[c] for c in batch.schema.names])
                    previous = chunk_from_batch(batch, previous)
                    yield previous
        except (OSError, pa.ArrowException) as err:
            raise InputError(
                "cohort file", self.where, "a readable Parquet file", str(err)
            ) from None

    # -------------------------------------------------------------- csv
    def chunks(
        self, chunk_rows: int, exact: bool = False, on_bytes: Callable[[int], None] | None = None
    ) -> Iterator[RawChunk]:
        """Rows in chunks of at most ``chunk_rows``; CSV raises :class:`ReadFallback` when the
        columnar reader meets a line it cannot read (then call again with ``exact=True``)."""
        if self.dialect is None:
            yield from self._parquet_chunks(chunk_rows)
        elif exact:
            yield from self._exact_chunks(chunk_rows, on_bytes)
        else:
            yield from self._fast_chunks(chunk_rows, on_bytes)

    def _fast_chunks(
        self, chunk_rows: int, on_bytes: Callable[[int], None] | None
    ) -> Iterator[RawChunk]:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        assert self.dialect is not None
        names = list(self.dialect.names)
        wanted = [n for n in names if self.wanted(n)]
        types = {n: pa.string() for n in wanted}  # coded per chunk (see CSV_BLOCK_BYTES)
        stream = pa.OSFile(str(self.path), "rb")
        try:
            reader = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(
                    column_names=names,
                    skip_rows=1,
                    block_size=CSV_BLOCK_BYTES,
                    encoding=self.encoding,
                    # No read-ahead threads: when a line cannot be read, the file is closed
                    # here and read again line by line; a read-ahead thread still reading the
                    # closed descriptor would read from the file opened next under the same
                    # number (seen once: 2,026 rows missing from the line-by-line reading).
                    use_threads=False,
                ),
                parse_options=pacsv.ParseOptions(delimiter=self.dialect.delimiter),
                convert_options=pacsv.ConvertOptions(
                    column_types=types,
                    include_columns=wanted,
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                    null_values=[],
                ),
            )
            position = 0
            waiting: list[Any] = []  # tables of rows read but not yet given out, in order
            for batch in reader:
                waiting.append(pa.Table.from_batches([batch]))
                if sum(t.num_rows for t in waiting) >= chunk_rows:
                    *full, rest = _rechunk(waiting, chunk_rows)
                    yield from full
                    waiting = [rest] if rest.num_rows else []
                if on_bytes is not None:
                    now = stream.tell()
                    on_bytes(now - position)
                    position = now
            if waiting:
                *full, rest = _rechunk(waiting, chunk_rows)
                yield from full
                if rest.num_rows:
                    yield _checked_chunk(_one_batch(rest))
        except (pa.ArrowInvalid, UnicodeDecodeError) as err:
            raise ReadFallback(str(err).splitlines()[0]) from None
        finally:
            stream.close()

    def _exact_chunks(
        self, chunk_rows: int, on_bytes: Callable[[int], None] | None
    ) -> Iterator[RawChunk]:
        assert self.dialect is not None
        names = list(self.dialect.names)
        keep = [j for j, n in enumerate(names) if self.wanted(n)]
        rows: list[list[str] | None] = []
        errors: dict[int, str] = {}
        id_at = names.index("id") if "id" in names else None
        ids: list[str] = []
        for _, fields, message, nbytes in _exact_records(self.path, self.dialect):
            if on_bytes is not None:
                on_bytes(nbytes)
            if message is not None:
                errors[len(rows)] = message
                rows.append(None)
                ids.append(
                    fields[id_at] if fields and id_at is not None and id_at < len(fields) else ""
                )
            else:
                assert fields is not None
                rows.append(fields)
                ids.append(fields[id_at] if id_at is not None else "")
            if len(rows) == chunk_rows:
                yield _chunk_from_rows(rows, names, keep, ids, errors)
                rows, ids, errors = [], [], {}
        if rows:
            yield _chunk_from_rows(rows, names, keep, ids, errors)


def _scalar(kind: Any) -> bool:
    import pyarrow as pa

    return bool(
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_null(kind)
        or pa.types.is_decimal(kind)
    )


def _one_batch(table: Any) -> Any:
    """A table of one chunk per column as one record batch."""
    batches = table.to_batches()
    return batches[0] if len(batches) == 1 else table.combine_chunks().to_batches()[0]


def _rechunk(tables: list[Any], chunk_rows: int) -> list[Any]:
    """Consecutive tables as chunks of ``chunk_rows`` rows (checked by
    :func:`_checked_chunk`), then the table of the rows left over (fewer than
    ``chunk_rows``, maybe none)."""
    import pyarrow as pa

    whole = pa.concat_tables(tables).combine_chunks()
    out: list[Any] = []
    start = 0
    while whole.num_rows - start >= chunk_rows:
        out.append(_checked_chunk(_one_batch(whole.slice(start, chunk_rows))))
        start += chunk_rows
    out.append(whole.slice(start))
    return out


def _checked_chunk(batch: Any) -> RawChunk:
    """``batch`` as a chunk, if none of its cells holds a line break. A line break inside a
    cell is legal CSV but is also what an unbalanced quote looks like; such files are read
    line by line, where the two can be told apart. Each distinct text is looked at once."""
    import pyarrow.compute as pc

    chunk = chunk_from_batch(batch)
    texts = [column.source for column in chunk.columns.values()]
    if "id" in batch.schema.names:
        texts.append(batch.column(batch.schema.names.index("id")))
    for values in texts:
        if len(values) and pc.any(pc.match_substring_regex(values, "[\r\n]")).as_py():
            raise ReadFallback("a line break inside a quoted cell")
    return chunk


def _chunk_from_rows(
    rows: list[list[str] | None],
    names: list[str],
    keep: list[int],
    ids: list[str],
    errors: dict[int, str],
) -> RawChunk:
    import pyarrow as pa

    columns = {
        names[j]: CodedColumn.from_strings([r[j] if r is not None else "" for r in rows])
        for j in keep
        if names[j] != "id"
    }
    return RawChunk(
        len(rows), columns, _ids(pa.array(ids, pa.string()), len(rows)), errors, fast=False
    )


# ---------------------------------------------------------------------- csv dialect
def _check_encoding(encoding: str | None) -> str:
    name = encoding or "utf-8"
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise InputError(
            "--encoding",
            name,
            "a text encoding Python knows (utf-8, cp1252, latin-1, ...)",
            "Excel on Windows usually writes cp1252.",
        ) from None


def delimiter_from_option(value: str | None) -> str | None:
    """``--delimiter`` as a character: a name (comma, semicolon, tab) or the character."""
    if value is None:
        return None
    by_name = {name: char for char, name in DELIMITERS.items()}
    text = {"\\t": "\t", "t": "\t"}.get(value, value)
    char = by_name.get(text.lower(), text)
    if char not in DELIMITERS:
        raise InputError(
            "--delimiter",
            value,
            "one of comma, semicolon, tab",
            suggest(value, list(by_name)) or "Leave it out to detect it from the header.",
        )
    return char


def _sniff(path: Path, delimiter: str | None, encoding: str) -> Dialect:
    """Read the header line: the column names, and the delimiter if not given."""
    where = str(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(HEADER_BYTES)
    except OSError as err:
        raise InputError(
            "cohort file", where, "a readable file", err.strerror or str(err)
        ) from None
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    line = head.split(b"\n", 1)[0].rstrip(b"\r")
    if not line.strip():
        raise InputError(
            "cohort file", where, "a CSV file with a header row of column names", "It is empty."
        )
    try:
        text = line.decode(encoding)
    except UnicodeDecodeError as err:
        raise InputError(
            "cohort file header",
            line[:60].decode(encoding, "replace"),
            f"{encoding} text",
            f"Byte 0x{line[err.start]:02x} is not {encoding}; name the file's encoding with "
            "--encoding (Excel on Windows writes cp1252).",
            where=where,
        ) from None
    detected = delimiter is None
    chosen = _detect(text) if delimiter is None else delimiter
    try:
        header = next(csv.reader([text], delimiter=chosen, strict=True))
    except csv.Error as err:
        raise InputError(
            "cohort file header", text[:60], "a row of column names", str(err), where=where
        ) from None
    names = unique_names(header, where)
    return Dialect(chosen, detected, encoding, tuple(names))


def _detect(header: str) -> str:
    """The delimiter that splits the header into the most names (outside quotes)."""
    outside = []
    quoted = False
    for char in header:
        if char == '"':
            quoted = not quoted
        elif not quoted:
            outside.append(char)
    text = "".join(outside)
    counts = {d: text.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] > 0 else ","


def _exact_records(
    path: Path, dialect: Dialect
) -> Iterator[tuple[int, list[str] | None, str | None, int]]:
    """(line number, cells or None, message or None, bytes) per data row, line by line.

    A quoted cell may span lines; if the quote never closes, or the joined lines do not give
    exactly one row of the header's width, only the first line is the bad row and reading
    resumes on the next line.
    """
    width = len(dialect.names)
    encoding = dialect.encoding
    with path.open("rb") as handle:
        handle.readline()  # the header (read by _sniff)
        pending: deque[tuple[int, bytes]] = deque()
        numbered = ((i, line) for i, line in enumerate(handle, start=2))

        def next_line() -> tuple[int, bytes] | None:
            if pending:
                return pending.popleft()
            return next(numbered, None)

        while True:
            item = next_line()
            if item is None:
                return
            line_no, raw = item
            if not raw.strip():
                continue
            text, problem = _decode(raw, encoding)
            if problem is not None:
                yield (
                    line_no,
                    _cells(raw.decode(encoding, "replace"), dialect),
                    (f"line {line_no} {problem}"),
                    len(raw),
                )
                continue
            parts = [(line_no, raw, text)]
            quotes = text.count('"')
            while quotes % 2 == 1 and len(parts) < MAX_LINES_PER_CELL:
                nxt = next_line()
                if nxt is None:
                    break
                more, problem = _decode(nxt[1], encoding)
                if problem is not None:
                    pending.appendleft(nxt)
                    break
                parts.append((nxt[0], nxt[1], more))
                quotes += more.count('"')
            joined = "".join(p[2] for p in parts)
            records = _parse(joined, dialect) if quotes % 2 == 0 else None
            if records is not None and len(records) == 1 and len(records[0]) == width:
                yield line_no, records[0], None, sum(len(p[1]) for p in parts)
                continue
            for extra in reversed(parts[1:]):
                pending.appendleft((extra[0], extra[1]))
            cells = _cells(text, dialect)
            if quotes % 2 == 1 or len(parts) > 1:
                message = (
                    f'line {line_no} has a quote (") that is never closed, so its cells '
                    "cannot be told apart. Close or remove the quote"
                )
            else:
                message = (
                    f"line {line_no} has {len(cells)} cells; the header has {width}. Remove "
                    "the extra delimiter or add the missing cell"
                )
            yield line_no, cells, message, len(raw)


def _decode(raw: bytes, encoding: str) -> tuple[str, str | None]:
    try:
        return raw.decode(encoding), None
    except UnicodeDecodeError as err:
        return "", (
            f"is not {encoding} text (byte 0x{raw[err.start]:02x} at position {err.start + 1}). "
            "If the file comes from Excel on Windows, score it with --encoding cp1252"
        )


def _parse(text: str, dialect: Dialect) -> list[list[str]] | None:
    try:
        return list(csv.reader(io.StringIO(text), delimiter=dialect.delimiter, strict=True))
    except csv.Error:
        return None


def _cells(text: str, dialect: Dialect) -> list[str]:
    """The cells of a malformed line as well as they can be read (for its id)."""
    return next(csv.reader([text.rstrip("\r\n")], delimiter=dialect.delimiter), [])


# ---------------------------------------------------------------------- whole cohorts
MAX_TABLE_BYTES = 64 * 1024 * 1024
"""A cohort of 100,000 patients is about 20 MB; a larger file is refused, never truncated."""
MAX_TABLE_ROWS = 200_000
PARQUET_MAGIC = b"PAR1"
TABLE_CHUNK_ROWS = 65_536


@dataclass(frozen=True)
class CohortTable:
    """A whole cohort in memory with every column as text (what an evaluation scores).

    ``frame`` is a pandas frame of every row in file order, one column per header name, each
    cell its trimmed text ('' when empty). ``read_errors`` maps a row (0-based) whose line
    could not be read to the reason; that row's cells are what could be read of it.
    ``skipped`` lists the columns not read (a Parquet column of lists or structs that is not
    part of the format).
    """

    frame: Any
    read_errors: Mapping[int, str]
    description: str
    where: str
    skipped: tuple[str, ...] = ()


def read_cohort_table(
    source: str | Path | bytes,
    *,
    name: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    max_bytes: int = MAX_TABLE_BYTES,
    max_rows: int = MAX_TABLE_ROWS,
) -> CohortTable:
    """Read a whole cohort (a file, or the bytes of an upload) through :class:`CohortSource`.

    The same reading as ``poems batch``: byte-order mark skipped, delimiter detected (or
    named), a malformed line kept as that row's error, Parquet of any column type. Bytes are
    Parquet when they start with its magic number, else CSV; bytes that are not UTF-8 are
    read as cp1252 (what Excel on Windows writes), and the description says so. ``name`` is
    what messages call the source (an upload's own file name, never a server path).
    """
    if isinstance(source, bytes):
        return _table_from_bytes(source, name, delimiter, encoding, max_bytes, max_rows)
    path = Path(source)
    if path.suffix.lower() not in SUFFIXES and path.is_file():
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
        return _table_from_bytes(data, name or path.name, delimiter, encoding, max_bytes, max_rows)
    if path.is_file() and path.stat().st_size > max_bytes:
        raise InputError(
            "cohort file",
            f"{path.stat().st_size} bytes",
            f"at most {max_bytes} bytes",
            "Score a larger cohort with poems batch.",
            where=name or str(path),
        )
    cohort = CohortSource(
        path, delimiter=delimiter, encoding=encoding, name=name, every_column=True
    )
    return _whole(cohort, max_rows)


def _table_from_bytes(
    data: bytes,
    name: str | None,
    delimiter: str | None,
    encoding: str | None,
    max_bytes: int,
    max_rows: int,
) -> CohortTable:
    where = name or "uploaded cohort"
    if len(data) > max_bytes:
        raise InputError(
            "cohort file",
            f"more than {max_bytes} bytes" if len(data) == max_bytes + 1 else f"{len(data)} bytes",
            f"at most {max_bytes} bytes",
            "Split the cohort, or score it with poems batch.",
            where=where,
        )
    parquet = data[:4] == PARQUET_MAGIC
    if not parquet and encoding is None:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            encoding = "cp1252"
    with tempfile.TemporaryDirectory(prefix="poems-cohort-") as folder:
        path = Path(folder) / ("cohort.parquet" if parquet else "cohort.csv")
        path.write_bytes(data)
        cohort = CohortSource(
            path, delimiter=delimiter, encoding=encoding, name=where, every_column=True
        )
        return _whole(cohort, max_rows)


def _whole(cohort: CohortSource, max_rows: int) -> CohortTable:
    """Every row of ``cohort`` as one frame of text; line by line if the fast reader stops."""
    import pandas as pd

    def too_many() -> InputError:
        return InputError(
            "cohort rows",
            f"more than {max_rows}",
            f"at most {max_rows}",
            "Score a larger cohort with poems batch.",
            where=cohort.where,
        )

    if cohort.total_rows is not None and cohort.total_rows > max_rows:
        raise too_many()
    names = [n for n in cohort.names if cohort.wanted(n)]

    def read(exact: bool) -> tuple[dict[str, list[Any]], dict[int, str]]:
        cells: dict[str, list[Any]] = {n: [] for n in names}
        errors: dict[int, str] = {}
        n = 0
        for chunk in cohort.chunks(TABLE_CHUNK_ROWS, exact=exact):
            if n + chunk.n > max_rows:
                raise too_many()
            for column, values in chunk.columns.items():
                cells[column].extend(values.uniques[values.indices].tolist())
            if "id" in cells:
                cells["id"].extend(chunk.ids.to_pylist())
            errors.update({n + i: message for i, message in chunk.read_errors.items()})
            n += chunk.n
        return cells, errors

    try:
        cells, errors = read(exact=False)
    except ReadFallback:
        cells, errors = read(exact=True)
    frame = pd.DataFrame({n: pd.Series(cells[n], dtype=object) for n in names}, columns=names)
    return CohortTable(
        frame.astype(str) if len(names) else frame,
        MappingProxyType(errors),
        cohort.describe(),
        cohort.where,
        tuple(cohort.skipped),
    )


# ---------------------------------------------------------------------- output
FORMULA_START = r"^[=+\-@\t\r]"
"""A cell a spreadsheet would run as a formula when it starts with one of these (OWASP's
"CSV injection" list)."""


def defuse_formulas(table: Any) -> Any:
    """Text cells that a spreadsheet would run as a formula (``=HYPERLINK(...)``, ``+cmd``,
    ``@x``) written with a leading apostrophe, which spreadsheets show as text. Signed plain
    numbers (``-5``) are left alone. Only CSV output needs this; Parquet keeps the text."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for column in table.columns:
        is_text = pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
        starts = pc.match_substring_regex(column, FORMULA_START) if is_text else None
        if starts is not None and pc.any(starts).as_py():  # else nothing to defuse
            risky = pc.and_(
                starts,
                pc.invert(pc.match_substring_regex(column, r"^[+-]?[0-9.]+([eE][+-]?[0-9]+)?$")),
            )
            column = pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column)
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def _repeated_texts(schema: Any) -> list[str]:
    """Text columns worth a dictionary in Parquet: every one but the ids (distinct texts,
    for which a dictionary is built and then dropped for plain encoding at some cost)."""
    import pyarrow as pa

    return [f.name for f in schema if f.type == pa.string() and f.name != "id"]


def _with_statistics(schema: Any) -> list[str]:
    """Columns whose Parquet pages carry min/max statistics: the POEMS posterior and the
    text columns but the ids, what a reader filters a scored cohort by. Statistics of the
    other fourteen posteriors and of the ids cost about a sixth of the writing (0.03 s of
    CPU per million rows) and are left out; the values are written the same."""
    import pyarrow as pa

    return [
        f.name
        for f in schema
        if f.name == "posterior_poems" or (f.type == pa.string() and f.name != "id")
    ]


class AtomicOutput:
    """Write a table (CSV or Parquet by extension) to a hidden ``.partial`` file beside
    ``path``; :meth:`commit` renames it over ``path``. Leaving the ``with`` block without
    committing (an error, an interrupt) removes the partial file: no half-written output
    is ever left under the output's name."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.suffix = check_suffix(self.path, "-o")
        self._writer: Any = None
        self._tmp: Path | None = None
        self.rows = 0

    def __enter__(self) -> AtomicOutput:
        parent = self.path.parent if str(self.path.parent) else Path(".")
        if not parent.is_dir():
            raise InputError("-o", str(self.path), "a file in an existing folder")
        handle, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".partial", dir=parent)
        os.close(handle)
        self._tmp = Path(name)
        return self

    def write(self, table: Any) -> None:
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        if self._writer is None:
            assert self._tmp is not None
            if self.suffix == ".parquet":
                self._writer = pq.ParquetWriter(
                    self._tmp,
                    table.schema,
                    use_dictionary=_repeated_texts(table.schema),
                    write_statistics=_with_statistics(table.schema),
                )
            else:
                self._writer = pacsv.CSVWriter(self._tmp, table.schema)
        if self.suffix == ".csv":
            table = defuse_formulas(table)
        self._writer.write_table(table)
        self.rows += table.num_rows

    def commit(self) -> None:
        assert self._tmp is not None
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        os.replace(self._tmp, self.path)
        self._tmp = None

    def __exit__(self, *exc: object) -> None:
        if self._writer is not None:
            try:
                self._writer.close()
            finally:
                self._writer = None
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None
