-- Retired: this file used to run CREATE EXTENSION timescaledb, which is FATAL on a server that has the extension's
-- files but does not preload its library. Whether TimescaleDB is usable is now decided at every connect, after the
-- migrations, by macro_assets/warehouse/timescale.py; the migration runner accepts the old digest of this file
-- where it was already applied.
SELECT 1;
