-- A payload refused as a whole (an HTML page, an error envelope) or fetched by a run that stored nothing is still
-- archived and recorded, with the reason; it does not count as a look at the data when later fetches date
-- their vintages.
ALTER TABLE payloads ADD COLUMN IF NOT EXISTS refused text;
