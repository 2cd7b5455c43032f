"""The texts of a PostgreSQL prepared statement made from SQL with the driver's ``%s`` placeholders."""

from __future__ import annotations

import functools


@functools.cache
def prepared_statement(name: str, sql: str) -> tuple[str, str]:
    """``PREPARE name AS`` ``sql`` (its ``%s`` numbered ``$1``, ``$2``…) and the ``EXECUTE name (%s, …)`` that binds
    its values through the driver. ``sql`` must hold no other ``%`` than its placeholders."""
    pieces = sql.split("%s")
    numbered = "".join(f"{piece}${n}" for n, piece in enumerate(pieces[:-1], start=1)) + pieces[-1]
    values = ", ".join(["%s"] * (len(pieces) - 1))
    return f"PREPARE {name} AS {numbered}", f"EXECUTE {name} ({values})"
