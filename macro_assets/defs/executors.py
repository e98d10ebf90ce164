"""Executors beyond one machine: Dagster's own dagster-celery executor, one Celery task per step, on a Redis broker.

The broker and result backend come from the environment when a run starts (never at import time), so the same job
runs against a local Redis in tests and a managed one in production. Workers are started with
`dagster-celery worker start -A dagster_celery.app -y <config.yaml>` on the same broker, with DAGSTER_HOME pointing
at the run's persistent instance (Postgres storage) and the project installed: each step is executed there by
reloading the job from its code pointer (macro_assets.definitions).
"""

import dagster as dg
from dagster_celery import celery_executor

CELERY_BROKER_ENV = "MACRO_ASSETS_CELERY_BROKER_URL"
CELERY_BACKEND_ENV = "MACRO_ASSETS_CELERY_BACKEND_URL"

CELERY_EXECUTOR_CONFIG = {"broker": {"env": CELERY_BROKER_ENV}, "backend": {"env": CELERY_BACKEND_ENV}}


def celery_redis_executor() -> dg.ExecutorDefinition:
    """dagster-celery's executor reading its broker and backend URLs (e.g. redis://host:6379/0) from the env."""
    return celery_executor.configured(CELERY_EXECUTOR_CONFIG, name="celery_redis")
