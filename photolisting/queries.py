"""Query shapes compiled once per process, for the API's hottest reads.

Django builds and compiles a queryset on every call. For a job's status — some forty columns
over four joined tables, polled by every open app — that is most of the call's CPU, while the SQL
never changes: only the values bound into it do. A ``QueryShape`` builds its queryset once with
stand-in values, remembers where each stand-in lands among the SQL's parameters, and from then on
binds the caller's values there and runs the same SQL, converting rows exactly as Django would.
A shape whose arguments do not reach the parameters unchanged (a value wrapped for ``LIKE``,
say) is never compiled: it is built by the ORM on each call as before.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections, router
from django.db.models import Model, QuerySet


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    # Where an argument is bound, and how the backend writes it there (a UUID may go as hex).
    slots: dict[int, tuple[str, Callable[[Any], Any]]]
    compiler: Any
    names: list[str]
    # Django's row converters for the selected columns, looked up once (``results_iter`` would
    # look them up on every call).
    converters: dict


def _stand_in(value: object, index: int) -> object:
    """A value of the argument's type that no query would hold by itself."""
    if isinstance(value, uuid.UUID):
        return uuid.UUID(int=(0x5107 << 112) + index)
    if isinstance(value, int) and not isinstance(value, bool):
        return -(7_301_845_229_000 + index)
    if isinstance(value, str):
        return f"\x1fstand-in {index}\x1f"
    raise TypeError(f"no stand-in for {type(value).__name__} arguments")


def _same(value: Any) -> Any:
    return value


def _hex(value: uuid.UUID | str) -> str:
    return (value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))).hex


class QueryShape:
    """``build(**arguments)`` returns a ``values()`` queryset of ``model``; ``rows(**arguments)``
    answers its rows as dicts. Arguments are ints, UUIDs or strings; one given as None may
    change the SQL, so each pattern of present arguments is its own shape."""

    def __init__(self, model: type[Model], build: Callable[..., QuerySet]) -> None:
        self.model = model
        self.build = build
        self._compiled: dict[tuple, _Compiled | None] = {}

    def rows(self, **arguments: object) -> list[dict]:
        alias = router.db_for_read(self.model)
        key = (alias, *sorted((name, value is None) for name, value in arguments.items()))
        if key not in self._compiled:
            self._compiled[key] = self._compile(alias, arguments)
        compiled = self._compiled[key]
        if compiled is None:
            return list(self.build(**arguments).using(alias))
        params = [
            compiled.slots[i][1](arguments[compiled.slots[i][0]]) if i in compiled.slots else value
            for i, value in enumerate(compiled.params)
        ]
        connection = connections[alias]
        # The same SQL on every call: worth preparing where the backend can (photolisting.postgres).
        prepared = getattr(connection, "prepared_cursor", connection.cursor)
        with prepared() as cursor:
            cursor.execute(compiled.sql, params)
            fetched = cursor.fetchall()
        if compiled.converters:
            fetched = compiled.compiler.apply_converters(fetched, compiled.converters)
        indexes = range(len(compiled.names))
        return [{compiled.names[i]: row[i] for i in indexes} for row in fetched]

    def _compile(self, alias: str, arguments: dict[str, object]) -> _Compiled | None:
        try:
            stand_ins = {
                name: _stand_in(value, index)
                for index, (name, value) in enumerate(arguments.items())
                if value is not None
            }
        except TypeError:
            return None  # an argument of a type without a stand-in
        try:
            query = self.build(**{**arguments, **stand_ins}).using(alias).query
        except (TypeError, ValueError, ValidationError):
            return None  # a stand-in the field refuses (a str for a UUID column, say)
        if not (query.selected or query.values_select):
            return None  # only values() shapes
        compiler = query.get_compiler(alias)
        sql, params = compiler.as_sql()
        fields = [selected[0] for selected in compiler.select[: compiler.col_count]]
        if compiler.has_composite_fields(fields):
            return None  # rows the ORM folds into tuples
        forms: dict[object, tuple[str, Callable[[Any], Any]]] = {}
        for name, value in stand_ins.items():
            forms[value] = (name, _same)
            if isinstance(value, uuid.UUID):
                forms[value.hex] = (name, _hex)  # backends without a uuid type (SQLite)
        slots = {
            i: forms[value]
            for i, value in enumerate(params)
            if isinstance(value, int | str | uuid.UUID) and value in forms
        }
        texts = [str(form) for form in forms]
        transformed = any(
            isinstance(value, str) and i not in slots and any(text in value for text in texts)
            for i, value in enumerate(params)
        )
        if transformed or {name for name, _ in slots.values()} != set(stand_ins):
            return None  # an argument is transformed on its way into the SQL
        # As ``ValuesIterable`` names a row's values.
        names = list(query.selected or ()) or [
            *query.extra_select,
            *query.values_select,
            *query.annotation_select,
        ]
        converters = compiler.get_converters(fields)
        return _Compiled(sql, tuple(params), slots, compiler, names, converters)
