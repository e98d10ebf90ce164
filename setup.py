# Kept beside pyproject.toml for the layout of Dagster's example projects; all metadata lives in pyproject.toml.
from setuptools import setup

setup()
