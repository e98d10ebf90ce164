-- Payloads and quarantined records belong to a dataset of any shape (a series, a curve, a bar set), not only to a
-- series. Renaming a column carries its indexes along; the index names follow too.
ALTER TABLE payloads RENAME COLUMN series_id TO dataset_id;
ALTER INDEX payloads_series_fetched RENAME TO payloads_dataset_fetched;
ALTER TABLE quarantine RENAME COLUMN series_id TO dataset_id;
