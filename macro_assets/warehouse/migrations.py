"""Numbered SQL migrations from the top-level sql/ directory, applied once each and recorded."""

from __future__ import annotations

import hashlib
from pathlib import Path

import sqlalchemy as sa

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
# Every process that opens the warehouse runs this; the lock makes concurrent first starts apply each file once.
_MIGRATION_LOCK = 7_202_611


class MigrationError(RuntimeError):
    pass


def migration_files(sql_dir: Path = SQL_DIR) -> list[Path]:
    if not sql_dir.is_dir():
        raise MigrationError(f"warehouse migrations: directory {sql_dir} not found (install the project with `pip install -e .`)")
    files = sorted(sql_dir.glob("[0-9][0-9][0-9]_*.sql"))
    if not files:
        raise MigrationError(f"warehouse migrations: no NNN_*.sql files in {sql_dir}")
    return files


def apply_migrations(engine: sa.Engine, sql_dir: Path = SQL_DIR) -> list[str]:
    """Apply the files not yet recorded in schema_migrations; return the names applied now."""
    applied_now = []
    with engine.begin() as connection:
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        connection.execute(sa.text(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name text PRIMARY KEY, sha256 text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        ))
        recorded = dict(connection.execute(sa.text("SELECT name, sha256 FROM schema_migrations")).all())
        for path in migration_files(sql_dir):
            text = path.read_text(encoding="utf-8")
            digest = hashlib.sha256(text.encode()).hexdigest()
            if path.name in recorded:
                if recorded[path.name] != digest:
                    raise MigrationError(
                        f"warehouse migrations: {path.name} changed after it was applied; add a new numbered file instead"
                    )
                continue
            with connection.connection.cursor() as cursor:  # the DBAPI cursor: no parameter parsing of '%'
                cursor.execute(text)
            connection.execute(
                sa.text("INSERT INTO schema_migrations (name, sha256) VALUES (:name, :sha)"),
                {"name": path.name, "sha": digest},
            )
            applied_now.append(path.name)
    return applied_now
