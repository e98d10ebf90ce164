"""Numbered SQL migrations from the top-level sql/ directory, applied once each and recorded with their digest."""

from __future__ import annotations

import hashlib
from pathlib import Path

import psycopg2
import sqlalchemy as sa

from macro_assets.errors import MigrationError

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
# Every process that opens the warehouse runs this; the lock makes concurrent first starts apply each file once.
MIGRATION_LOCK = 7_202_611
# Digests of files that were applied in deployments and then rewritten on purpose: a database that recorded one of
# them ran the old text, which a later step supersedes. Any other change to an applied file is refused.
RETIRED_DIGESTS = {
    # 002 ran CREATE EXTENSION timescaledb (FATAL without the preloaded library); timescale.py decides at connect.
    "002_timescaledb.sql": {"f2e3ef5712bd3d030ea8d2c6dce0c074c51664849273b0fc00894bb068ec6e56"},
}


def migration_files(sql_dir: Path = SQL_DIR) -> list[Path]:
    if not sql_dir.is_dir():
        raise MigrationError(
            f"warehouse migrations: directory {sql_dir} not found (install the project with `pip install -e .`)"
        )
    files = sorted(sql_dir.glob("[0-9][0-9][0-9]_*.sql"))
    if not files:
        raise MigrationError(f"warehouse migrations: no NNN_*.sql files in {sql_dir}")
    return files


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_text(encoding="utf-8").encode()).hexdigest()


def apply_migrations(engine: sa.Engine, sql_dir: Path = SQL_DIR) -> list[str]:
    """Apply the files not yet recorded in schema_migrations; return the names applied now."""
    applied_now = []
    with engine.begin() as connection:
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        connection.execute(
            sa.text(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, sha256 text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
        )
        recorded = dict(connection.execute(sa.text("SELECT name, sha256 FROM schema_migrations")).all())
        for path in migration_files(sql_dir):
            current = digest(path)
            if path.name in recorded:
                if recorded[path.name] not in {current, *RETIRED_DIGESTS.get(path.name, ())}:
                    raise MigrationError(
                        f"warehouse migrations: {path.name} changed after it was applied;"
                        " add a new numbered file instead"
                    )
                continue
            try:
                with connection.connection.cursor() as cursor:  # the DBAPI cursor: no parameter parsing of '%'
                    cursor.execute(path.read_text(encoding="utf-8"))
            except psycopg2.Error as exc:
                raise MigrationError(f"warehouse migrations: {path.name} failed: {exc}") from exc
            connection.execute(
                sa.text("INSERT INTO schema_migrations (name, sha256) VALUES (:name, :sha)"),
                {"name": path.name, "sha": current},
            )
            applied_now.append(path.name)
    return applied_now
