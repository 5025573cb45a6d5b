"""Files of a dataset: CSV written incrementally, Parquet in row-group batches, SHA-256 on the way.

On PostgreSQL without Python work, the CSV bytes that COPY sends are written as they come and
the same bytes feed pyarrow's streaming CSV reader, whose batches become Parquet row groups: no
row is ever a Python object. Elsewhere rows arrive as tuples in bounded batches.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from .plan import ColumnPlan, Kind

_ARROW = {
    Kind.INT: pa.int64(),
    Kind.FLOAT: pa.float64(),
    Kind.TEXT: pa.string(),
    Kind.DATE: pa.date32(),
    Kind.TIMESTAMP: pa.timestamp("us", tz="UTC"),
}
CSV_BLOCK = 4 << 20
PARQUET_COMPRESSION = "zstd"


def arrow_schema(columns: Sequence[ColumnPlan]) -> pa.Schema:
    return pa.schema([pa.field(column.name, _ARROW[column.kind]) for column in columns])


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fsync_path(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class HashingFile:
    """A binary file that hashes what it writes and is fsynced on close."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: BinaryIO = path.open("wb")
        self.digest = hashlib.sha256()

    def write(self, data: bytes | memoryview) -> None:
        self.handle.write(data)
        self.digest.update(data)

    def close(self) -> str:
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        return self.digest.hexdigest()


def _header(columns: Sequence[ColumnPlan]) -> bytes:
    return (",".join(column.name for column in columns) + "\n").encode()


class _TeeReader(io.RawIOBase):
    """Feeds pyarrow the CSV bytes COPY sends, writing them to the CSV file on the way."""

    def __init__(self, chunks: Iterator[bytes], sink: HashingFile) -> None:
        self.chunks = chunks
        self.sink = sink
        self.buffer = bytearray()
        self.finished = False

    def readable(self) -> bool:
        return True

    def _fill(self, size: int) -> None:
        while not self.finished and (size < 0 or len(self.buffer) < size):
            try:
                chunk = next(self.chunks)
            except StopIteration:
                self.finished = True
                break
            self.sink.write(chunk)
            self.buffer += chunk

    def read(self, size: int = -1) -> bytes:
        self._fill(size)
        if size < 0 or size >= len(self.buffer):
            data, self.buffer = bytes(self.buffer), bytearray()
        else:
            data = bytes(self.buffer[:size])
            del self.buffer[:size]
        return data

    def readinto(self, target) -> int:
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)


def write_from_csv_stream(
    chunks: Iterable[bytes], columns: Sequence[ColumnPlan], csv_path: Path, parquet_path: Path
) -> tuple[int, str]:
    """COPY's CSV bytes -> the CSV file and the Parquet file; returns (rows, CSV sha256)."""
    schema = arrow_schema(columns)
    sink = HashingFile(csv_path)
    sink.write(_header(columns))
    iterator = iter(chunks)
    rows = 0
    with pq.ParquetWriter(parquet_path, schema, compression=PARQUET_COMPRESSION) as writer:
        first = next(iterator, None)
        if first is not None:
            source = _TeeReader(_chain(first, iterator), sink)
            reader = pa_csv.open_csv(
                source,
                read_options=pa_csv.ReadOptions(
                    column_names=schema.names, block_size=CSV_BLOCK, use_threads=True
                ),
                parse_options=pa_csv.ParseOptions(newlines_in_values=True),
                convert_options=pa_csv.ConvertOptions(
                    column_types=schema,
                    null_values=[""],
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=False,
                ),
            )
            for batch in reader:
                rows += batch.num_rows
                writer.write_batch(batch)
            source.read()  # whatever pyarrow did not ask for still goes to the CSV file
        else:
            writer.write_table(schema.empty_table())
    return rows, sink.close()


def _chain(first: bytes, rest: Iterator) -> Iterator[bytes]:
    yield bytes(first)
    for chunk in rest:
        yield bytes(chunk)


# --- Rows as Python tuples -----------------------------------------------------------------


def _csv_text(value: str) -> str:
    # As PostgreSQL writes CSV: NULL is nothing, an empty string is "".
    if value == "" or any(ch in value for ch in ',"\n\r') or value != value.strip(" \t"):
        return '"' + value.replace('"', '""') + '"'
    return value


def csv_field(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind == Kind.TEXT:
        return _csv_text(str(value))
    if kind == Kind.TIMESTAMP:
        # One form in every file: UTC, ISO 8601, with a Z (as COPY writes it, see engine).
        moment = value.astimezone(UTC) if value.tzinfo else value
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if kind == Kind.DATE:
        return value.isoformat() if isinstance(value, date) else str(value)
    if kind == Kind.FLOAT:
        number = float(value)
        return repr(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)
    return str(int(value))


class RowWriter:
    """Tuples -> CSV lines and Parquet row groups, a batch at a time."""

    def __init__(
        self,
        columns: Sequence[ColumnPlan],
        csv_path: Path,
        parquet_path: Path,
        batch_rows: int = 20_000,
    ) -> None:
        self.columns = list(columns)
        self.kinds = [column.kind for column in columns]
        self.schema = arrow_schema(columns)
        self.sink = HashingFile(csv_path)
        self.sink.write(_header(columns))
        self.parquet = pq.ParquetWriter(parquet_path, self.schema, compression=PARQUET_COMPRESSION)
        self.batch_rows = batch_rows
        self.pending: list[tuple] = []
        self.rows = 0

    def write(self, row: tuple) -> None:
        self.pending.append(row)
        if len(self.pending) >= self.batch_rows:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        lines = [
            ",".join(csv_field(kind, value) for kind, value in zip(self.kinds, row, strict=True))
            for row in self.pending
        ]
        self.sink.write(("\n".join(lines) + "\n").encode())
        arrays = [
            pa.array([row[index] for row in self.pending], type=field.type)
            for index, field in enumerate(self.schema)
        ]
        self.parquet.write_batch(pa.RecordBatch.from_arrays(arrays, schema=self.schema))
        self.rows += len(self.pending)
        self.pending = []

    def close(self) -> tuple[int, str]:
        self.flush()
        if self.rows == 0:
            self.parquet.write_table(self.schema.empty_table())
        self.parquet.close()
        return self.rows, self.sink.close()

    def abort(self) -> None:
        self.parquet.close()
        self.sink.handle.close()
