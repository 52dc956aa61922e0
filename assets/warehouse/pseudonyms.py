"""Pseudonymous participant keys: a keyed hash (HMAC-SHA256) of participant_id.

Keys are kept in restricted.participant_keys and computed once per new participant; a new
secret (MENTORPULSE_PSEUDONYM_KEY) recomputes them all. Each key row carries the secret's
fingerprint (the HMAC of a fixed label under the secret, which does not reveal it); its first 16
hex digits are published with every run in core.run_info.pseudonym_key_fingerprint, so a key
change is visible in the warehouse.
"""

from __future__ import annotations

import hashlib
import hmac

import duckdb
import polars as pl

from assets.ingest.contract import SOURCES


def pseudonym(secret: str, participant_id: str) -> str:
    return hmac.new(secret.encode(), participant_id.encode(), hashlib.sha256).hexdigest()


FINGERPRINT_LABEL = "\x00fingerprint"  # not a participant id: ids never hold a NUL
PUBLISHED_FINGERPRINT_DIGITS = 16


def secret_fingerprint(secret: str) -> str:
    """The fingerprint kept with every key: HMAC-SHA256 of a fixed label under the secret."""
    return pseudonym(secret, FINGERPRINT_LABEL)


def published_fingerprint(secret: str) -> str:
    """What core.run_info publishes: the fingerprint's first 16 hex digits."""
    return secret_fingerprint(secret)[:PUBLISHED_FINGERPRINT_DIGITS]


def _referenced_ids_sql() -> str:
    """Every participant_id any staging table refers to, from the contract's reference columns."""
    selects = [
        f'SELECT "{column.name}" AS participant_id FROM staging.{source.name}'
        for source in SOURCES.values()
        for column in source.columns
        if column.participant_ref
    ]
    return " UNION ".join(selects)


def ensure_participant_keys_table(con: duckdb.DuckDBPyConnection) -> None:
    """The keys' table, empty until the first sync (core.run_info reads its fingerprint)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS restricted")
    con.execute(
        "CREATE TABLE IF NOT EXISTS restricted.participant_keys ("
        "participant_id VARCHAR PRIMARY KEY, participant_key VARCHAR NOT NULL, "
        "secret_fingerprint VARCHAR NOT NULL)"
    )


def sync_participant_keys(con: duckdb.DuckDBPyConnection, secret: str) -> int:
    """Add keys for participants not seen before; returns how many were added."""
    fingerprint = secret_fingerprint(secret)
    ensure_participant_keys_table(con)
    con.execute(
        "DELETE FROM restricted.participant_keys WHERE secret_fingerprint <> ?", [fingerprint]
    )
    new_ids = con.sql(
        f"SELECT participant_id FROM ({_referenced_ids_sql()}) "
        "WHERE participant_id IS NOT NULL AND participant_id NOT IN "
        "(SELECT participant_id FROM restricted.participant_keys)"
    ).pl()["participant_id"]
    keys = pl.DataFrame(
        {
            "participant_id": new_ids,
            "participant_key": [pseudonym(secret, pid) for pid in new_ids],
            "secret_fingerprint": fingerprint,
        },
        schema={
            "participant_id": pl.String,
            "participant_key": pl.String,
            "secret_fingerprint": pl.String,
        },
    )
    con.register("new_keys", keys)
    con.execute("INSERT INTO restricted.participant_keys SELECT * FROM new_keys")
    con.unregister("new_keys")
    return keys.height
