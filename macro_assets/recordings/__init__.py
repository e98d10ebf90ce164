"""Recorded API payloads (cassettes) replayed by the offline default; see README.md."""
