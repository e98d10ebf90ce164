"""Yahoo chart recordings and their generator (generate.py); see README.md."""
