"""TwelveData time_series recordings and their generator (generate.py); see README.md."""
