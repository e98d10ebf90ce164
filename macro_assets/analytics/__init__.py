"""Pure analytics over the warehouse's point-in-time reads: polars frames in, polars frames out, numpy and scipy
inside. No database and no Dagster here: a derived asset reads its inputs as of an instant, calls these, and stores
the result, so the same inputs always give the same outputs.

Modules: curves (Nelson-Siegel(-Svensson) fits and what follows from a fitted curve), market (returns, volatility,
drawdowns, correlations), statistics (rolling z-scores and percentile ranks), macro (YoY from monthly changes,
diffusion, trimmed-mean core, surprises against Focus expectations), pit (a derived series' vintages from its
inputs' vintages, recomputing only the dates a changed input reaches).
"""
