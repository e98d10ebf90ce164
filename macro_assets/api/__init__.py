"""The HTTP read API: the warehouse's point-in-time verbs over HTTP, with API keys or JWTs, and a Redis cache.

Served by `uvicorn --factory macro_assets.api.app:create_app` (or `macro-assets api`).
"""
