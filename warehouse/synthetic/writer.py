"""Bulk writers: COPY on PostgreSQL, executemany on SQLite; no model instances.

Rows are plain tuples in the column order their producer declares; columns the producer leaves
out get their model default ('' for text, the field default otherwise), so that the NOT NULL
columns OMOP has and the generator does not fill still load.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC
from functools import cache

from django.apps import apps
from django.db import connections, models


@cache
def _model_for(table: str):
    for model in apps.get_app_config("warehouse").get_models():
        if model._meta.db_table == table:
            return model
    raise LookupError(f"no warehouse model for table {table}")


@cache
def _tail(table: str, columns: tuple[str, ...]) -> tuple[tuple[str, ...], tuple]:
    """The NOT NULL columns the producer does not fill, with the value they get."""
    names, values = [], []
    for field in _model_for(table)._meta.concrete_fields:
        if field.column in columns or field.null:
            continue
        if field.has_default():
            value = field.get_default()
        elif isinstance(field, models.CharField | models.TextField):
            value = ""
        else:
            raise ValueError(f"{table}.{field.column} is NOT NULL and has no value")
        names.append(field.column)
        values.append(value)
    return tuple(names), tuple(values)


@cache
def _datetime_positions(table: str, columns: tuple[str, ...]) -> tuple[int, ...]:
    fields = {field.column: field for field in _model_for(table)._meta.concrete_fields}
    return tuple(
        index
        for index, column in enumerate(columns)
        if isinstance(fields[column], models.DateTimeField)
    )


def _sqlite_rows(rows: Iterable[tuple], positions: tuple[int, ...], extra: tuple):
    # Django keeps SQLite datetimes as naive UTC text; sqlite3's default would add "+00:00".
    for row in rows:
        if positions:
            values = list(row)
            for index in positions:
                value = values[index]
                if value is not None:
                    values[index] = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
            row = tuple(values)
        yield row + extra


class TableWriter:
    """Writes rows into the tables of one database alias, inside the caller's transaction."""

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self.connection = connections[alias]
        self.postgres = self.connection.vendor == "postgresql"

    def _quote(self, name: str) -> str:
        return self.connection.ops.quote_name(name)

    def write(self, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
        extra_names, extra_values = _tail(table, tuple(columns))
        column_list = ", ".join(self._quote(name) for name in (*columns, *extra_names))
        self.connection.ensure_connection()
        raw = self.connection.connection
        if self.postgres:
            # Table and column names come from the models, never from input.
            statement = f"COPY {self._quote(table)} ({column_list}) FROM STDIN"
            with raw.cursor() as cursor, cursor.copy(statement) as copy:
                write_row = copy.write_row
                if extra_values:
                    for row in rows:
                        write_row(row + extra_values)
                else:
                    for row in rows:
                        write_row(row)
            return
        placeholders = ", ".join("?" * (len(columns) + len(extra_names)))
        statement = f"INSERT INTO {self._quote(table)} ({column_list}) VALUES ({placeholders})"  # noqa: S608
        cursor = raw.cursor()
        try:
            positions = _datetime_positions(table, tuple(columns))
            cursor.executemany(statement, _sqlite_rows(rows, positions, extra_values))
        finally:
            cursor.close()

    def empty(self, tables: Sequence[str]) -> None:
        with self.connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    "TRUNCATE " + ", ".join(self._quote(t) for t in tables) + " RESTART IDENTITY"
                )
            else:
                for table in tables:
                    cursor.execute(f"DELETE FROM {self._quote(table)}")  # noqa: S608

    def has_rows(self, table: str) -> bool:
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {self._quote(table)} LIMIT 1")  # noqa: S608
            return cursor.fetchone() is not None

    def sync_sequence(self, table: str, column: str) -> None:
        """After explicit ids, make the next automatic id follow them (PostgreSQL)."""
        if not self.postgres:
            return  # SQLite's AUTOINCREMENT already follows explicit ids.
        table_name, column_name = self._quote(table), self._quote(column)
        statement = (
            "SELECT setval(pg_get_serial_sequence(%s, %s), "  # noqa: S608
            f"COALESCE(MAX({column_name}), 0) + 1, false) FROM {table_name}"
        )
        with self.connection.cursor() as cursor:
            cursor.execute(statement, [table, column])
