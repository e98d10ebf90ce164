-- API keys of the HTTP read API. A key is shown once, at creation; only the SHA-256 of the whole key is stored
-- (a key carries 256 random bits, so an unsalted digest cannot be reversed by guessing). key_id is the key's public
-- lookup prefix, so a check is one primary-key probe and one constant-time comparison. A key is revoked, never
-- deleted, so the list keeps who had access.
CREATE TABLE IF NOT EXISTS api_keys (
    key_id      text PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) > 0),
    key_sha256  text NOT NULL CHECK (length(key_sha256) = 64),
    scopes      text[] NOT NULL CHECK (cardinality(scopes) > 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
