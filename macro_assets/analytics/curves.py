"""Nelson-Siegel (NS) and Nelson-Siegel-Svensson (NSS) fits of each curve date, and what a fitted curve gives:
zero, par, instantaneous forward and forward-forward rates, carry and roll-down, the DV01 of a bullet bond, and
breakeven inflation.

Conventions (one for every curve, so that every function below reads any fitted curve the same way):
- Rates are decimals (0.05 is 5%), zero rates continuously compounded: the discount factor at tenor t is
  exp(-z(t) t). The Svensson zero formula, with tau1, tau2 > 0 in years (NS is beta3 = 0, no tau2):
  z(t) = beta0 + beta1 (1 - e^(-t/tau1)) / (t/tau1) + beta2 [(1 - e^(-t/tau1)) / (t/tau1) - e^(-t/tau1)]
         + beta3 [(1 - e^(-t/tau2)) / (t/tau2) - e^(-t/tau2)];
  the instantaneous forward f(t) = beta0 + beta1 e^(-t/tau1) + beta2 (t/tau1) e^(-t/tau1) + beta3 (t/tau2) e^(-t/tau2).
- A tenor is in years of the curve's own day count (the `tenor` column of the fitter's input): the fitted
  parameters, and every tenor or maturity given to the functions below, are in that basis.
- Brazil (Tesouro Direto, `tesouro_zero_points`): LTN, NTN-F and NTN-B rates are annual-effective on business
  days / 252 (price = cash flow / (1 + r)^(du/252)), so the tenor is du / 252 (business days to maturity, the
  reader's business_days_to_maturity, over 252) and the zero rate ln(1 + r): exact for the zero-coupon LTN and NTN-B
  Principal. The rates of the coupon-paying NTN-F and NTN-B are yields to maturity; they are taken as the zero rate
  at their maturity, an approximation whose error grows with the curve's slope (fit `bond_types=("LTN",)` or
  ("NTN-B Principal",) for zero-coupon points only).
- United States (Treasury par yields, `treasury_zero_points`): the par yields are bond-equivalent (semiannual).
  They are bootstrapped to zero rates before fitting rather than fitted as if they were zero rates: the NSS
  formula is a zero curve, and fitting it to par yields would put the coupon effect (several basis points at
  the long end of a steep curve) into the parameters and make every zero, forward and DV01 derived from them
  wrong by it. Tenors up to 6 months are bills with a single payment (the yield is simple: D = 1 / (1 + y t));
  longer ones are par bonds paying y/2 every half year, the par yields linearly interpolated between the
  published tenors on the half-year grid (flat beyond the shortest and longest), and the discount factors solved
  node by node. The fit stays linear in the betas, and par_rates(frequency=2) of the fitted curve gives the
  published par yields back within the fit's error.
- The fit minimises the squared errors of the zero rates (decimal, unweighted), the betas solved exactly by least
  squares for any taus (variable projection), every curve date at once. First a grid of tau1 values (NS, 48) or
  of (tau1, tau2) pairs (NSS, 24 x 24) is searched for all dates together; then each date's STARTS best local
  minima of the grid start a bounded Levenberg-Marquardt refinement of its taus, batched over dates but with
  each date's own damping and stop, and the best end is kept. The refinement is written out in numpy instead of
  calling scipy.optimize.least_squares: one call per date costs milliseconds (seconds for a daily history), and
  one call over every date at once (a block-diagonal Jacobian) shares one trust region and one stopping test
  across dates, which took 128 s for 2,500 dates when measured. NSS needs tau2 apart from tau1 (tau1 = tau2
  makes the two curvature terms one): tau1 stays in TAU_BOUNDS and tau2 / tau1 (or tau1 / tau2, on the side of
  the start) in [MIN_TAU_RATIO, TAU_BOUNDS[1] / TAU_BOUNDS[0]]. A date with fewer points than the model has
  parameters (4 NS, 6 NSS) is returned with status "too_few_points" and null parameters, never an error. The
  NSS sum of squares has several basins; the multi-start finds a minimum whose RMSE is at the noise's level,
  not provably the global one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from macro_assets.analytics.frames import require_columns, require_positive
from macro_assets.errors import InvalidInput

STANDARD_TENORS = (0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 20.0, 30.0)
CURVE_KEY = ["curve_id", "curve_date"]
# The fewest points each model fits: its number of parameters.
MIN_POINTS = {"ns": 4, "nss": 6}
TAU_BOUNDS = (0.05, 30.0)
MIN_TAU_RATIO = 1.25
# The grid of taus of each model. NS sums of squares have narrow basins between coarse grid points, so its 1-D
# grid is fine (48 points, cheap); NSS's 24 taus are 1.32 apart, so every off-diagonal pair is beyond MIN_TAU_RATIO.
TAU_GRIDS = {"ns": np.geomspace(*TAU_BOUNDS, 48), "nss": np.geomspace(*TAU_BOUNDS, 24)}
BUSINESS_DAYS_PER_YEAR = 252
FITTED, TOO_FEW_POINTS = "fitted", "too_few_points"
PARAMETERS = ["beta0", "beta1", "beta2", "beta3", "tau1", "tau2"]
# Regularises the normal equations by 1e-12 of the point count: invisible in a well-posed fit, and it keeps a
# degenerate one (points at one tenor, taus at a bound) solvable instead of singular.
RIDGE = 1e-12
# Dates whose grid search runs at once (the pair matrices of 512 NSS dates take about 16 MB).
GRID_CHUNK = 512
# The refinement starts from each curve's best STARTS local minima of the grid and keeps the best end: NSS sums of
# squares have several basins, and the true one is often not the grid's lowest point.
STARTS = 3
# The refinement: at most this many Levenberg-Marquardt steps; a curve stops when a full Gauss-Newton step would
# lower its SSE by less than CONVERGED of it, or when its damping passes MAX_DAMPING (no step helps).
REFINE_ITERATIONS = 60
DIFFERENCE_STEP = 1e-7
CONVERGED = 1e-10
MAX_DAMPING = 1e10


# ------------------------------------------------------------------------------------------------- inputs
def tesouro_zero_points(points: pl.DataFrame, bond_types: Sequence[str] | None = None) -> pl.DataFrame:
    """Tesouro Direto curve points (CurvesReader.as_of: point "<bond type> <maturity>", rate in % p.a.
    annual-effective on du/252, business_days_to_maturity) as fitter input: tenor = du / 252, zero_rate =
    ln(1 + rate / 100). `bond_types` keeps only those bonds (e.g. ("LTN",)); points without a rate or maturing on
    the curve date are left out."""
    require_columns(points, [*CURVE_KEY, "point", "business_days_to_maturity", "rate"], "Tesouro Direto points")
    if bond_types is not None:
        points = points.filter(pl.col("point").str.extract(r"^(.*) \d{4}-\d{2}-\d{2}$").is_in(list(bond_types)))
    return points.filter(pl.col("business_days_to_maturity") > 0, pl.col("rate").is_not_null()).select(
        *CURVE_KEY,
        "point",
        tenor=pl.col("business_days_to_maturity") / BUSINESS_DAYS_PER_YEAR,
        zero_rate=(pl.col("rate") / 100).log1p(),
    )


def treasury_zero_points(points: pl.DataFrame) -> pl.DataFrame:
    """US Treasury par curve points (tenor_years, rate = par yield in %, bond-equivalent) as fitter input: the
    continuously compounded zero rate at each published tenor, bootstrapped as the module docstring says."""
    require_columns(points, [*CURVE_KEY, "point", "tenor_years", "rate"], "Treasury par points")
    usable = points.filter(pl.col("tenor_years") > 0, pl.col("rate").is_finite()).sort(*CURVE_KEY, "tenor_years")
    tenor = usable["tenor_years"].to_numpy()
    par = usable["rate"].to_numpy() / 100
    bounds = _group_bounds(usable)
    zero = np.empty_like(tenor)
    if len(tenor):
        grid = 0.5 * np.arange(1, int(np.ceil(tenor.max() / 0.5)) + 1)
        par_on_grid = np.array([np.interp(grid, tenor[a:b], par[a:b]) for a, b in bounds])
        zero_on_grid = _bootstrap_semiannual(par_on_grid, grid)
        for (a, b), nodes in zip(bounds, zero_on_grid):
            t = tenor[a:b]
            bill = np.log1p(par[a:b] * t) / t
            zero[a:b] = np.where(t <= 0.5, bill, np.interp(t, grid, nodes))
    return usable.select(*CURVE_KEY, "point", tenor=pl.col("tenor_years"), zero_rate=pl.Series(zero))


def _group_bounds(sorted_points: pl.DataFrame) -> list[tuple[int, int]]:
    """[start, end) row ranges of each curve date of a frame sorted by CURVE_KEY."""
    if sorted_points.is_empty():
        return []
    starts = sorted_points.select(pl.struct(CURVE_KEY).rle_id()).to_series().to_numpy()
    edges = np.flatnonzero(np.diff(starts)) + 1
    cuts = [0, *edges.tolist(), sorted_points.height]
    return list(zip(cuts[:-1], cuts[1:]))


def _bootstrap_semiannual(par: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Zero rates (continuous) on the half-year grid of par bonds paying par/2 at every node: node k's bond prices
    at 1, so D_k = (1 - c_k/2 * sum of the earlier D) / (1 + c_k/2), every date at once."""
    discount = np.empty_like(par)
    annuity = np.zeros(par.shape[0])
    for k in range(par.shape[1]):
        half_coupon = par[:, k] / 2
        discount[:, k] = (1 - half_coupon * annuity) / (1 + half_coupon)
        annuity += discount[:, k]
    return -np.log(discount) / grid


# ---------------------------------------------------------------------------------------------- the fit
def fit_curves(points: pl.DataFrame, model: str = "nss") -> pl.DataFrame:
    """One NS or NSS fit per curve (curve_id, curve_date) of `points` (curve_id, curve_date, tenor, zero_rate: see
    the module docstring). One row per curve: curve_id, curve_date, model, beta0..beta3, tau1, tau2 (NS: beta3 and
    tau2 null), rmse and max_abs_error of the fitted zero rates (decimal), n_points, status ("fitted" or
    "too_few_points", whose parameters and errors are null). Points without a positive tenor or a finite rate
    are left out (and not counted)."""
    if model not in MIN_POINTS:
        raise InvalidInput(f"model: {model!r} is not one of {', '.join(MIN_POINTS)}")
    require_columns(points, [*CURVE_KEY, "tenor", "zero_rate"], "curve points")
    keys, tenor, rate, mask = _padded(points)
    counts = mask.sum(axis=1).astype(np.int64)
    fit = counts >= MIN_POINTS[model]
    taus = np.full((keys.height, 2), np.nan)
    betas = np.full((keys.height, 4), np.nan)
    errors = np.full((keys.height, 2), np.nan)
    if fit.any():
        t, y, m = tenor[fit], rate[fit], mask[fit]
        starts = _grid_search(t, y, m, model)
        repeated = [np.repeat(array, STARTS, axis=0) for array in (t, y, m)]
        tried = _refine(*repeated, starts.reshape(-1, starts.shape[-1]), model)
        tried_sse = (_project(*repeated, tried)[1] ** 2).sum(axis=1).reshape(-1, STARTS)
        found = tried.reshape(-1, STARTS, tried.shape[-1])[np.arange(len(t)), np.argmin(tried_sse, axis=1)]
        found_betas, residuals = _project(t, y, m, found)
        betas[fit, : found_betas.shape[1]] = found_betas
        taus[fit, : found.shape[1]] = found
        errors[fit, 0] = np.sqrt((residuals**2).sum(axis=1) / counts[fit])
        errors[fit, 1] = np.abs(residuals).max(axis=1)
    columns = dict(zip(PARAMETERS, [*betas.T, *taus.T]))
    return keys.with_columns(
        model=pl.lit(model),
        **{name: pl.Series(values).fill_nan(None) for name, values in columns.items()},
        rmse=pl.Series(errors[:, 0]).fill_nan(None),
        max_abs_error=pl.Series(errors[:, 1]).fill_nan(None),
        n_points=pl.Series(counts),
        status=pl.Series(np.where(fit, FITTED, TOO_FEW_POINTS)),
    )


def fit_curves_by_point_count(points: pl.DataFrame, model: str = "nss") -> pl.DataFrame:
    """fit_curves over the curves grouped by their number of usable points, so that each curve's fit depends on its
    own points only, bit for bit, whatever else is fitted with it: in one batch every curve is padded to the widest
    one, and the padding changes the order of the floating-point sums and so where a curve's refinement stops
    (within its tolerance, but not to the last bit). What a point-in-time store needs, where the fit of a state
    stored by one run must be the refit of that state by any later run or check. Same columns as fit_curves."""
    require_columns(points, [*CURVE_KEY, "tenor", "zero_rate"], "curve points")
    counted = points.with_columns(
        usable=((pl.col("tenor") > 0) & pl.col("tenor").is_finite() & pl.col("zero_rate").is_finite())
        .sum()
        .over(CURVE_KEY)
    )
    fits = [fit_curves(group.drop("usable"), model) for _, group in counted.group_by("usable")]
    if not fits:
        return fit_curves(points, model)
    return pl.concat(fits).sort(CURVE_KEY)


def _padded(points: pl.DataFrame) -> tuple[pl.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """The curves' keys (sorted) and their points as (curves, most points) matrices: tenors (padding 1), rates
    (padding 0) and a 0/1 mask of the real points."""
    keys = points.select(CURVE_KEY).unique().sort(CURVE_KEY)
    usable = (
        points.filter((pl.col("tenor") > 0) & pl.col("tenor").is_finite() & pl.col("zero_rate").is_finite())
        .join(keys.with_row_index("curve"), on=CURVE_KEY)
        # Points at one tenor (two bonds maturing on one day) in a fixed order: the sums, and so the fit, of a
        # curve are then the same bits however its rows arrive.
        .sort("curve", "tenor", "zero_rate")
        .with_columns(slot=pl.int_range(pl.len()).over("curve"))
    )
    width = max(int(usable["slot"].max() or 0) + 1, 1)
    curve, slot = usable["curve"].to_numpy(), usable["slot"].to_numpy()
    tenor, rate, mask = np.ones((keys.height, width)), np.zeros((keys.height, width)), np.zeros((keys.height, width))
    tenor[curve, slot] = usable["tenor"].to_numpy()
    rate[curve, slot] = usable["zero_rate"].to_numpy()
    mask[curve, slot] = 1.0
    return keys, tenor, rate, mask


def _loadings(t: np.ndarray, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The slope (1 - e^-x)/x and curvature (slope - e^-x) loadings at x = t/tau (their limits 1 and 0 at t = 0)."""
    x = t / tau
    positive = x > 0
    safe = np.where(positive, x, 1.0)
    slope = np.where(positive, -np.expm1(-safe) / safe, 1.0)
    return slope, slope - np.exp(-x)


def _design(t: np.ndarray, mask: np.ndarray, taus: np.ndarray) -> np.ndarray:
    """(..., points, betas) loadings of each curve at its taus (..., 1 or 2), zero on padding."""
    slope, curvature = _loadings(t, taus[..., :1])
    columns = [np.ones_like(t), slope, curvature]
    if taus.shape[-1] == 2:
        columns.append(_loadings(t, taus[..., 1:])[1])
    return np.stack(columns, axis=-1) * mask[..., None]


def _solve_normal(gram: np.ndarray, moments: np.ndarray) -> np.ndarray:
    """Solves gram @ beta = moments for stacks of small symmetric positive (semi)definite systems, the system's
    axes first (gram (k, k, ...), moments and the result (k, ...)), by an unrolled Cholesky factorisation:
    elementwise over the stack, much faster than a LAPACK call per 4x4 system."""
    k = gram.shape[0]
    diagonal_floor = RIDGE * gram[0, 0] + np.finfo(float).tiny
    lower = [[None] * k for _ in range(k)]
    for j in range(k):
        pivot = gram[j, j] + diagonal_floor - sum(lower[j][m] ** 2 for m in range(j))
        lower[j][j] = np.sqrt(np.maximum(pivot, diagonal_floor))
        for i in range(j + 1, k):
            lower[i][j] = (gram[i, j] - sum(lower[i][m] * lower[j][m] for m in range(j))) / lower[j][j]
    forward = []
    for i in range(k):
        forward.append((moments[i] - sum(lower[i][m] * forward[m] for m in range(i))) / lower[i][i])
    beta = [None] * k
    for i in reversed(range(k)):
        beta[i] = (forward[i] - sum(lower[m][i] * beta[m] for m in range(i + 1, k))) / lower[i][i]
    return np.stack(beta)


def _project(t: np.ndarray, y: np.ndarray, mask: np.ndarray, taus: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The least-squares betas (curves, k) at the given taus and the residuals (zero on padding)."""
    design = _design(t, mask, taus)
    crossed = np.matmul(design.transpose(0, 2, 1), design)
    moments = np.matmul(design.transpose(0, 2, 1), (y * mask)[..., None])[..., 0]
    betas = _solve_normal(crossed.transpose(1, 2, 0), moments.T).T
    return betas, (y - np.matmul(design, betas[..., None])[..., 0]) * mask


def _grid_pairs(model: str) -> np.ndarray:
    """The (tau1[, tau2]) grid points, as indices into the model's grid of taus."""
    grid = TAU_GRIDS[model]
    if model == "ns":
        return np.arange(len(grid))[:, None]
    first, second = np.meshgrid(np.arange(len(grid)), np.arange(len(grid)), indexing="ij")
    apart = np.abs(np.log(grid[second] / grid[first])) >= np.log(MIN_TAU_RATIO)
    return np.stack([first[apart], second[apart]], axis=1)


def _grid_search(t: np.ndarray, y: np.ndarray, mask: np.ndarray, model: str) -> np.ndarray:
    """Each curve's STARTS best local minima of the grid (curves, STARTS, taus), best first; a curve with fewer
    repeats its best. The loadings of every grid tau are computed once, and so is the Cholesky factor of the
    (constant, slope, curvature) block of each tau1: an NSS grid point only borders it with its tau2's curvature
    column. The SSE at the least-squares betas is y'y - |z|^2 with z = L^-1 X'y."""
    pairs, grid = _grid_pairs(model), TAU_GRIDS[model]
    size = len(grid)
    best = np.empty((t.shape[0], STARTS), dtype=int)
    for first in range(0, t.shape[0], GRID_CHUNK):
        rows = slice(first, first + GRID_CHUNK)
        slope, curvature = _loadings(t[rows, None, :], grid[:, None])
        loadings = np.concatenate([np.ones_like(t[rows, None, :]), slope, curvature], axis=1) * mask[rows, None, :]
        weighted = y[rows] * mask[rows]
        cross = np.matmul(loadings, loadings.transpose(0, 2, 1)).transpose(1, 2, 0)
        moments = np.matmul(loadings, weighted[..., None])[..., 0].T
        floor = RIDGE * cross[0, 0] + np.finfo(float).tiny
        # Each tau1's block, (taus, curves) arrays: the constant, its slope and its curvature column.
        block = [np.zeros(size, dtype=int), 1 + np.arange(size), 1 + size + np.arange(size)]
        factor = _Factor([], [], [])
        for j, column in enumerate(block):
            factor.extend([cross[column, block[m]] for m in range(j)], cross[column, column], moments[column], floor)
        sse = (weighted**2).sum(axis=1) - sum(value**2 for value in factor.z)
        if model == "nss":
            tau1, column = pairs[:, 0], 1 + size + pairs[:, 1]
            bordered = factor.take(tau1)
            bordered.extend([cross[column, b[tau1]] for b in block], cross[column, column], moments[column], floor)
            sse = sse[tau1] - bordered.z[-1] ** 2
        best[rows] = _best_local_minima(sse.T, pairs, size)
    return grid[pairs[best]]


class _Factor:
    """A Cholesky factorisation of normal equations grown one column at a time, elementwise over stacks: lower
    (row i: L[i][0..i]), z = L^-1 X'y, and whether each column was kept. A column that is numerically a
    combination of the earlier ones is dropped (its L column and z are 0), so the SSE y'y - |z|^2 is that of the
    model without it: never below the truth, as an unguarded near-singular solve can be."""

    def __init__(self, lower: list, z: list, kept: list):
        self.lower, self.z, self.kept = lower, z, kept

    def extend(self, crossed: list, diagonal: np.ndarray, moment: np.ndarray, floor: np.ndarray) -> None:
        """Adds a column given its cross products with the earlier columns, with itself, and with y."""
        row = []
        for j, earlier in enumerate(self.lower):
            value = (crossed[j] - sum(row[m] * earlier[m] for m in range(j))) / earlier[j]
            row.append(np.where(self.kept[j], value, 0.0))
        pivot = diagonal - sum(value**2 for value in row)
        kept = pivot > floor
        length = np.sqrt(np.where(kept, pivot, 1.0))
        self.z.append(np.where(kept, (moment - sum(r * z for r, z in zip(row, self.z))) / length, 0.0))
        self.lower.append([*row, length])
        self.kept.append(kept)

    def take(self, index: np.ndarray) -> _Factor:
        """The factorisations at `index` of the first axis."""
        return _Factor(
            [[value[index] for value in row] for row in self.lower],
            [value[index] for value in self.z],
            [value[index] for value in self.kept],
        )


def _best_local_minima(sse: np.ndarray, pairs: np.ndarray, size: int) -> np.ndarray:
    """Indices into `pairs` of each curve's STARTS lowest grid points that are no higher than any neighbour on the
    grid (one step in tau1 and/or tau2); the best grid point fills the places of minima a curve does not have."""
    surface = np.full((sse.shape[0], *[size + 2] * pairs.shape[1]), np.inf)
    inner = (slice(None), *(pairs[:, axis] + 1 for axis in range(pairs.shape[1])))
    surface[inner] = sse
    steps = [step for step in np.ndindex(*[3] * pairs.shape[1]) if any(s != 1 for s in step)]
    lowest = np.ones_like(sse, dtype=bool)
    for step in steps:
        shifted = (slice(None), *(pairs[:, axis] + step[axis] for axis in range(pairs.shape[1])))
        lowest &= sse <= surface[shifted]
    ranked = np.argsort(np.where(lowest, sse, np.inf), axis=1)[:, :STARTS]
    found = np.take_along_axis(lowest, ranked, axis=1)
    return np.where(found, ranked, ranked[:, :1])


def _refine(t: np.ndarray, y: np.ndarray, mask: np.ndarray, start: np.ndarray, model: str) -> np.ndarray:
    """Levenberg-Marquardt from each curve's best grid point over its taus (log tau1, and for NSS log(tau2 / tau1)
    on the side of its start), the betas projected out, every curve at once but each with its own damping and its
    own stop: a curve's path is the same whatever else is in the batch. Steps are projected on the bounds and a
    step is taken only where it lowers the curve's SSE, so no curve ends worse than its grid point."""
    curves = t.shape[0]
    log_low, log_high = np.log(TAU_BOUNDS)
    if model == "ns":
        x = np.log(start)
        low, high = np.full_like(x, log_low), np.full_like(x, log_high)
    else:
        ratio = np.log(start[:, 1] / start[:, 0])
        above = ratio > 0
        widest, closest = log_high - log_low, np.log(MIN_TAU_RATIO)
        x = np.stack([np.log(start[:, 0]), ratio], axis=1)
        low = np.stack([np.full(curves, log_low), np.where(above, closest, -widest)], axis=1)
        high = np.stack([np.full(curves, log_high), np.where(above, widest, -closest)], axis=1)

    def residuals(rows: np.ndarray, at: np.ndarray) -> np.ndarray:
        return _project(t[rows], y[rows], mask[rows], _taus(at, model))[1]

    everyone = np.arange(curves)
    current = residuals(everyone, x)
    damping = np.full(curves, 1e-3)
    active = np.ones(curves, dtype=bool)
    identity = np.eye(x.shape[1])
    for _ in range(REFINE_ITERATIONS):
        rows = np.flatnonzero(active)
        if not len(rows):
            break
        here, r = x[rows], current[rows]
        jacobian = np.stack(
            [(residuals(rows, here + DIFFERENCE_STEP * unit) - r) / DIFFERENCE_STEP for unit in identity], axis=-1
        )
        gradient = np.einsum("anp,an->pa", jacobian, r)
        # A variable at a bound that the descent direction pushes out of stays there: it leaves the step.
        pinned = ((here <= low[rows]) & (gradient.T > 0)) | ((here >= high[rows]) & (gradient.T < 0))
        free = (~pinned).T.astype(float)
        gradient = gradient * free
        hessian = np.einsum("anp,anq->pqa", jacobian, jacobian) * free[:, None] * free[None, :]
        hessian = hessian + np.einsum("pa,pq->pqa", 1 - free, identity)
        diagonal = np.einsum("ppa->pa", hessian)
        sse = (r**2).sum(axis=1)
        # The reduction a full Gauss-Newton step predicts: near a minimum it is exact, so a tiny one means there.
        predicted = (gradient * _solve_normal(hessian, gradient)).sum(axis=0)
        damped = hessian + np.einsum("pa,pq->pqa", damping[rows] * diagonal, identity)
        candidate = np.clip(here - _solve_normal(damped, gradient).T, low[rows], high[rows])
        tried = residuals(rows, candidate)
        better = (tried**2).sum(axis=1) < sse
        x[rows[better]], current[rows[better]] = candidate[better], tried[better]
        damping[rows] = np.where(better, damping[rows] / 3, damping[rows] * 4)
        optimal = predicted <= CONVERGED * sse
        active[rows[optimal | (damping[rows] > MAX_DAMPING)]] = False
    return _taus(x, model)


def _taus(x: np.ndarray, model: str) -> np.ndarray:
    """Taus (curves, 1 or 2) from the refinement's variables."""
    if model == "ns":
        return np.exp(x)
    return np.exp(np.stack([x[:, 0], x[:, 0] + x[:, 1]], axis=1))


# ----------------------------------------------------------------------------------- reading a fitted curve
def _fitted(params: pl.DataFrame) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """The keys, betas (curves, 4) and taus (curves, 2) of the fitted curves of a fit_curves frame; an NS curve's
    absent beta3 is 0 (its tau2 then never matters)."""
    require_columns(params, [*CURVE_KEY, *PARAMETERS, "status"], "curve parameters")
    fitted = params.filter(pl.col("status") == FITTED)
    betas = fitted.select(pl.col(PARAMETERS[:4]).fill_null(0.0)).to_numpy()
    taus = fitted.select("tau1", pl.col("tau2").fill_null(1.0)).to_numpy()
    return fitted.select(CURVE_KEY), betas, taus


def _zero(betas: np.ndarray, taus: np.ndarray, tenors: np.ndarray) -> np.ndarray:
    """(curves, tenors) zero rates; `tenors` is (tenors,) or (curves, tenors)."""
    t = np.broadcast_to(tenors, (betas.shape[0], np.shape(tenors)[-1]))
    slope, curvature = _loadings(t, taus[:, :1])
    second = _loadings(t, taus[:, 1:])[1]
    return betas[:, :1] + betas[:, 1:2] * slope + betas[:, 2:3] * curvature + betas[:, 3:4] * second


def _discount(betas: np.ndarray, taus: np.ndarray, tenors: np.ndarray) -> np.ndarray:
    return np.exp(-_zero(betas, taus, tenors) * tenors)


def _tenors(tenors: Sequence[float], field: str = "tenors") -> np.ndarray:
    values = np.asarray(tenors, dtype=float)
    if values.ndim != 1 or not len(values) or not (values > 0).all():
        raise InvalidInput(f"{field}: give positive tenors in years, got {list(tenors)!r}")
    return values


def _long(keys: pl.DataFrame, tenors: np.ndarray, **values: np.ndarray) -> pl.DataFrame:
    """One row per curve and tenor: the keys, `tenor` and each (curves, tenors) array of `values`."""
    rows = np.repeat(np.arange(keys.height), len(tenors))
    return keys.select(pl.all().gather(rows)).with_columns(
        tenor=pl.Series(np.tile(tenors, keys.height)),
        **{name: pl.Series(array.ravel()) for name, array in values.items()},
    )


def zero_rates(params: pl.DataFrame, tenors: Sequence[float] = STANDARD_TENORS) -> pl.DataFrame:
    """Fitted zero rates (continuous, decimal) of every fitted curve: curve_id, curve_date, tenor, zero_rate."""
    keys, betas, taus = _fitted(params)
    at = _tenors(tenors)
    return _long(keys, at, zero_rate=_zero(betas, taus, at))


def forward_rates(params: pl.DataFrame, tenors: Sequence[float] = STANDARD_TENORS) -> pl.DataFrame:
    """Instantaneous forward rates (continuous, decimal): curve_id, curve_date, tenor, forward_rate."""
    keys, betas, taus = _fitted(params)
    at = _tenors(tenors)
    first, second = at / taus[:, :1], at / taus[:, 1:]
    forward = (
        betas[:, :1]
        + betas[:, 1:2] * np.exp(-first)
        + betas[:, 2:3] * first * np.exp(-first)
        + betas[:, 3:4] * second * np.exp(-second)
    )
    return _long(keys, at, forward_rate=forward)


def forward_forward_rates(
    params: pl.DataFrame,
    starts: Sequence[float] = STANDARD_TENORS[:-1],
    ends: Sequence[float] = STANDARD_TENORS[1:],
) -> pl.DataFrame:
    """The continuous rate between each start and its end (by default between consecutive standard tenors):
    (z(end) end - z(start) start) / (end - start). curve_id, curve_date, start, tenor (= end), forward_rate."""
    keys, betas, taus = _fitted(params)
    begin, finish = np.asarray(starts, dtype=float), _tenors(ends, "ends")
    if begin.shape != finish.shape or not (begin >= 0).all() or not (finish > begin).all():
        raise InvalidInput(f"starts/ends: give pairs with 0 <= start < end, got {list(starts)!r} / {list(ends)!r}")
    growth = _zero(betas, taus, finish) * finish - _zero(betas, taus, begin) * begin
    return _long(keys, finish, forward_rate=growth / (finish - begin)).with_columns(
        start=pl.Series(np.tile(begin, keys.height))
    )


def _payment_times(maturity: float, frequency: int) -> np.ndarray:
    """A bullet bond's payment times: every 1/frequency years back from its maturity, the earliest after now."""
    periods = int(np.ceil(maturity * frequency - 1e-9))
    return np.sort(maturity - np.arange(periods) / frequency)


def _frequency(frequency: int) -> int:
    if not isinstance(frequency, int) or frequency < 1:
        raise InvalidInput(f"frequency: coupons per year, 1 (annual) or 2 (semiannual), got {frequency!r}")
    return frequency


def par_rates(params: pl.DataFrame, tenors: Sequence[float] = STANDARD_TENORS, frequency: int = 2) -> pl.DataFrame:
    """Par coupon rates (decimal per year, paid `frequency` times a year: 2 semiannual as US Treasuries, 1 annual)
    from the fitted zero curve, for a bond issued now: coupons every 1/frequency years back from maturity, the
    first period a short stub accruing from now, so par = (1 - D(T)) / sum of accrual * D(t_i); a tenor shorter
    than a period is one payment, a simple rate. curve_id, curve_date, tenor, par_rate."""
    keys, betas, taus = _fitted(params)
    at, per_year = _tenors(tenors), _frequency(frequency)
    par = np.empty((keys.height, len(at)))
    for column, maturity in enumerate(at):
        times = _payment_times(maturity, per_year)
        accrual = np.diff(times, prepend=0.0)
        discount = _discount(betas, taus, times)
        par[:, column] = (1 - discount[:, -1]) / (discount * accrual).sum(axis=1)
    return _long(keys, at, par_rate=par)


def carry_and_rolldown(params: pl.DataFrame, horizon: float, tenors: Sequence[float] = STANDARD_TENORS) -> pl.DataFrame:
    """Carry and roll-down of a zero-coupon bond of each tenor over `horizon` years if the curve does not move,
    financed at the horizon's zero rate; log returns over the horizon (not annualised), continuous rates:
    carry = (z(T) - z(h)) h, rolldown = (z(T) - z(T - h)) (T - h), total = their sum = z(T) T - z(T - h)(T - h)
    - z(h) h (the bond's log return minus the financing's). Tenors not beyond the horizon are left out.
    curve_id, curve_date, tenor, zero_rate, rolled_zero_rate (z(T - h)), funding_rate (z(h)), carry, rolldown,
    total."""
    require_positive(horizon, "horizon")
    keys, betas, taus = _fitted(params)
    at = _tenors(tenors)
    at = at[at > horizon]
    if not len(at):
        raise InvalidInput(f"tenors: none is longer than the horizon {horizon}")
    zero, rolled = _zero(betas, taus, at), _zero(betas, taus, at - horizon)
    funding = _zero(betas, taus, np.array([horizon]))
    carry = (zero - funding) * horizon
    rolldown = (zero - rolled) * (at - horizon)
    return _long(
        keys,
        at,
        zero_rate=zero,
        rolled_zero_rate=rolled,
        funding_rate=np.broadcast_to(funding, zero.shape),
        carry=carry,
        rolldown=rolldown,
        total=carry + rolldown,
    )


def bullet_dv01(
    params: pl.DataFrame, maturity: float, coupon: float, frequency: int = 2, notional: float = 100.0
) -> pl.DataFrame:
    """The dirty price and DV01 of a bullet bond off each fitted curve: `coupon` (decimal per year) paid
    `frequency` times a year back from `maturity` (years), the notional at maturity. DV01 is the price's fall for
    a one basis point parallel rise of the continuous zero curve, -dP/dz * 0.0001 = 0.0001 * sum t_i CF_i D(t_i).
    curve_id, curve_date, maturity, coupon, dirty_price, dv01."""
    require_positive(maturity, "maturity")
    keys, betas, taus = _fitted(params)
    times = _payment_times(maturity, _frequency(frequency))
    flows = np.full(len(times), notional * coupon / frequency)
    flows[-1] += notional
    discounted = flows * _discount(betas, taus, times)
    return keys.with_columns(
        maturity=pl.lit(float(maturity)),
        coupon=pl.lit(float(coupon)),
        dirty_price=pl.Series(discounted.sum(axis=1)),
        dv01=pl.Series((discounted * times).sum(axis=1) * 1e-4),
    )


def breakeven_inflation(
    nominal: pl.DataFrame, real: pl.DataFrame, tenors: Sequence[float] = STANDARD_TENORS
) -> pl.DataFrame:
    """Nominal zero minus real zero at the same tenors, on the curve dates both curves were fitted (continuous
    rates, so the difference is the log of one plus the annual-effective breakeven). Both fits must share a day
    count: Tesouro's nominal and real curves are both on du/252, Treasury's on years. curve_date, tenor,
    nominal_zero_rate, real_zero_rate, breakeven_rate."""
    key = ["curve_date", "tenor"]
    both = (
        zero_rates(nominal, tenors)
        .select(*key, nominal_zero_rate="zero_rate")
        .join(zero_rates(real, tenors).select(*key, real_zero_rate="zero_rate"), on=key)
    )
    return both.sort(key).with_columns(breakeven_rate=pl.col("nominal_zero_rate") - pl.col("real_zero_rate"))


# --------------------------------------------------------------------------------------- point in time
def curve_states(vintages: pl.DataFrame) -> pl.DataFrame:
    """Every state of each curve date of a curve-points vintages frame (curve_id, curve_date, point, release_time,
    rate, ...): for each instant one of a date's points gained a vintage, the latest vintage of each of its points
    released by then, that instant as `state`; withdrawn points (null rate) left out, so a state whose points are
    all withdrawn has no rows. A state is what as_of returns for that date at any instant from `state` until the
    date's next state."""
    require_columns(vintages, ["curve_id", "curve_date", "point", "release_time", "rate"], "curve vintages")
    states = vintages.select("curve_id", "curve_date", state="release_time").unique()
    known = states.join(vintages, on=["curve_id", "curve_date"]).filter(pl.col("release_time") <= pl.col("state"))
    latest = known.sort("release_time").unique(["curve_id", "curve_date", "state", "point"], keep="last")
    return latest.filter(pl.col("rate").is_not_null()).sort("curve_id", "curve_date", "state", "point")


def breakeven_vintages(nominal: pl.DataFrame, real: pl.DataFrame) -> pl.DataFrame:
    """Breakeven vintages from the vintages of a nominal and a real zero curve (curve_date, tenor, zero_rate,
    release_time; a null zero_rate is a withdrawal): at every instant either curve gained a vintage at a (curve
    date, tenor), nominal minus real as known then, released at that instant, the later of the two inputs' release
    times. Null where either side is unknown or withdrawn then. curve_date, tenor, release_time, nominal_zero_rate,
    real_zero_rate, breakeven_rate."""
    key = ["curve_date", "tenor"]
    columns = [*key, "release_time", "zero_rate"]
    require_columns(nominal, columns, "nominal zero vintages")
    require_columns(real, columns, "real zero vintages")
    instants = pl.concat([nominal.select(*key, "release_time"), real.select(*key, "release_time")]).unique()
    joined = instants.sort("release_time")
    for side, name in ((nominal, "nominal_zero_rate"), (real, "real_zero_rate")):
        known = side.select(*key, "release_time", pl.col("zero_rate").alias(name)).sort("release_time")
        joined = joined.join_asof(known, on="release_time", by=key, strategy="backward", check_sortedness=False)
    return joined.sort(*key, "release_time").with_columns(
        breakeven_rate=pl.col("nominal_zero_rate") - pl.col("real_zero_rate")
    )
