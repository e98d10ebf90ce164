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
  minima of the grid (distinct ones: a date with fewer repeats none) start a bounded Levenberg-Marquardt
  refinement of its taus, batched over dates but with each date's own damping and stop, on the exact Jacobian of
  the projected residuals (Golub-Pereyra: one more solve with the betas' factor, where finite differences cost
  one more projection per tau), and the best end is kept. The refinement is written out in numpy instead of
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
# Dates whose grid search runs at once: 128 keeps an NSS pair matrix (128 x 24 x 24) at 0.6 MB, which the
# allocator reuses; larger ones come fresh from the system, a page fault a page, and took longer when measured.
GRID_CHUNK = 128
# The refinement starts from each curve's best STARTS local minima of the grid and keeps the best end: NSS sums of
# squares have several basins, and the true one is often not the grid's lowest point.
STARTS = 3
# The refinement: at most this many Levenberg-Marquardt steps; a curve stops when a full Gauss-Newton step would
# lower its SSE by less than CONVERGED of it, or when its damping passes MAX_DAMPING (no step helps).
REFINE_ITERATIONS = 60
# Curves a refinement step runs at once: (4096, points) arrays stay in the cache; larger ones took longer.
REFINE_CHUNK = 4096
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
        # A curve with fewer local minima than STARTS repeats its best start: each distinct start is refined once.
        distinct = np.ones(starts.shape[:2], dtype=bool)
        distinct[:, 1:] = (starts[:, 1:] != starts[:, :1]).any(axis=-1)
        curve_of_start = np.nonzero(distinct)[0]
        tried, tried_sse = np.empty(starts.shape), np.full(distinct.shape, np.inf)
        tried[distinct], tried_sse[distinct] = _refine(
            t[curve_of_start], y[curve_of_start], m[curve_of_start], starts[distinct], model
        )
        found = tried[np.arange(len(t)), np.argmin(tried_sse, axis=1)]
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
    slope, curvature, _ = _positive_loadings(np.where(positive, x, 1.0))
    return np.where(positive, slope, 1.0), np.where(positive, curvature, 0.0)


def _positive_loadings(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The slope and curvature loadings and e^-x at x = t/tau > 0, with one transcendental per point: e^-x is
    1 + expm1(-x), exact to a unit in the last place of 1, and the slope -expm1(-x)/x exact for small x too."""
    opposite = -x
    decay = np.expm1(opposite)
    slope = np.divide(decay, opposite, out=opposite)
    decay += 1
    return slope, slope - decay, decay


def _design(t: np.ndarray, mask: np.ndarray, taus: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The loadings columns (constant, slope, curvature[, second curvature]) of each curve (curves, points; the
    tenors positive) at its taus (curves, 1 or 2), zero on padding, and the derivative of each curvature column with
    respect to the log of its tau (the slope's is the curvature: d/dlog tau of (1 - e^-x)/x at x = t/tau is that
    minus e^-x; the curvature's is then curvature - x e^-x). Written in place where it can: every fresh array of a
    large batch costs page faults."""
    padded = not mask.all()
    columns, derivatives = [mask], []
    for which in range(taus.shape[1]):
        x = t / taus[:, which : which + 1]
        slope, curvature, decay = _positive_loadings(x)
        derivative = np.subtract(curvature, np.multiply(x, decay, out=x), out=x)
        if padded:  # multiplying by ones changes no bit: only a padded batch needs it
            for array in (slope, curvature, derivative):
                array *= mask
        if not which:
            columns.append(slope)
        columns.append(curvature)
        derivatives.append(derivative)
    return columns, derivatives


def _combination(weights: Sequence[np.ndarray], columns: Sequence[np.ndarray]) -> np.ndarray:
    """The sum of weights[i] (curves) times columns[i] (curves, points), in that order, in one new array."""
    total = np.multiply(columns[0], weights[0][:, None])
    scratch = np.empty_like(total)
    for weight, column in zip(weights[1:], columns[1:]):
        total += np.multiply(column, weight[:, None], out=scratch)
    return total


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot products of two (curves, points) arrays."""
    return np.einsum("ap,ap->a", a, b)


def _cholesky(gram: Sequence) -> list[list[np.ndarray]]:
    """The lower Cholesky factor of stacks of small symmetric positive (semi)definite systems (gram[i][j] an array
    over the stack), unrolled: elementwise over the stack, much faster than a LAPACK call per 4x4 system."""
    k = len(gram)
    diagonal_floor = RIDGE * gram[0][0] + np.finfo(float).tiny
    lower = [[None] * k for _ in range(k)]
    for j in range(k):
        pivot = gram[j][j] + diagonal_floor - sum(lower[j][m] ** 2 for m in range(j))
        lower[j][j] = np.sqrt(np.maximum(pivot, diagonal_floor))
        for i in range(j + 1, k):
            lower[i][j] = (gram[i][j] - sum(lower[i][m] * lower[j][m] for m in range(j))) / lower[j][j]
    return lower


def _solve_cholesky(lower: list[list[np.ndarray]], moments: Sequence) -> list[np.ndarray]:
    """x with L L' x = moments, by forward and back substitution (moments[i] broadcasting against the factor)."""
    k = len(lower)
    forward = []
    for i in range(k):
        forward.append((moments[i] - sum(lower[i][m] * forward[m] for m in range(i))) / lower[i][i])
    solution = [None] * k
    for i in reversed(range(k)):
        solution[i] = (forward[i] - sum(lower[m][i] * solution[m] for m in range(i + 1, k))) / lower[i][i]
    return solution


def _solve_normal(gram: Sequence, moments: Sequence) -> list[np.ndarray]:
    """Solves gram @ x = moments for stacks of small symmetric positive (semi)definite systems (gram[i][j] and
    moments[i] arrays over the stack)."""
    return _solve_cholesky(_cholesky(gram), moments)


class _Projection:
    """The least-squares betas of each curve at given taus and the residuals (curves, points; zero on padding):
    the betas projected out (variable projection). `jacobian` differentiates the residuals of the projection with
    respect to the refinement's variables exactly (Golub and Pereyra): for a variable v moving the design A by
    dA, dr/dv = -(u - A G^-1 (A'u - dA'r)) with u = dA beta and G = A'A, one more solve with G's factor."""

    def __init__(self, t: np.ndarray, weighted: np.ndarray, mask: np.ndarray, taus: np.ndarray):
        self.columns, self.derivatives = _design(t, mask, taus)
        columns = self.columns
        gram = [[_dot(columns[i], columns[j]) for j in range(len(columns))] for i in range(len(columns))]
        self.lower = _cholesky(gram)
        self.betas = _solve_cholesky(self.lower, [_dot(column, weighted) for column in columns])
        fitted = _combination(self.betas, columns)
        self.residuals = np.subtract(weighted, fitted, out=fitted)

    def jacobian(self, model: str) -> list[np.ndarray]:
        """dr/dv (curves, points) for each variable v of the refinement (_refine): log tau1 moves every tau-loaded
        column (tau2 = tau1 times the ratio), log(tau2 / tau1) only the second curvature."""
        # Each moved column's derivative, by column: the slope's is the first curvature column.
        moved_by_tau1 = dict(zip(range(1, len(self.columns)), [self.columns[2], *self.derivatives]))
        moved = [moved_by_tau1] if model == "ns" else [moved_by_tau1, {3: self.derivatives[1]}]
        result = []
        for derivatives in moved:
            direction = _combination([self.betas[j] for j in derivatives], list(derivatives.values()))
            rhs = [
                _dot(column, direction) - (_dot(derivatives[i], self.residuals) if i in derivatives else 0.0)
                for i, column in enumerate(self.columns)
            ]
            correction = _solve_cholesky(self.lower, rhs)
            moved_residuals = _combination(correction, self.columns)
            result.append(np.subtract(moved_residuals, direction, out=moved_residuals))
        return result


def _project(t: np.ndarray, y: np.ndarray, mask: np.ndarray, taus: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The least-squares betas (curves, k) at the given taus and the residuals (zero on padding)."""
    projection = _Projection(t, y * mask, mask, taus)
    return np.stack(projection.betas, axis=1), projection.residuals


def _grid_search(t: np.ndarray, y: np.ndarray, mask: np.ndarray, model: str) -> np.ndarray:
    """Each curve's STARTS best local minima of the grid (curves, STARTS, taus), best first; a curve with fewer
    repeats its best. The loadings of every grid tau are computed once, and so is the Cholesky factor of the
    (constant, slope, curvature) block of each tau1: an NSS grid point (tau1, tau2) only borders it with tau2's
    curvature column c, which lowers the block's SSE by (c'y - l'z)^2 / (c'c - l'l), l = L^-1 X'c and z = L^-1 X'y,
    every pair at once by broadcasting tau1 against tau2. The SSE at the least-squares betas is y'y - |z|^2."""
    grid = TAU_GRIDS[model]
    size = len(grid)
    best = np.empty((t.shape[0], STARTS), dtype=int)
    for first in range(0, t.shape[0], GRID_CHUNK):
        rows = slice(first, first + GRID_CHUNK)
        # (curves, taus, points) loadings; every product below is (curves, taus), or (curves, tau1, tau2).
        slope, curvature = (loading * mask[rows, None, :] for loading in _loadings(t[rows, None, :], grid[:, None]))
        weighted = y[rows] * mask[rows]
        count = np.broadcast_to(mask[rows].sum(axis=1)[:, None], slope.shape[:2])
        floor = RIDGE * count + np.finfo(float).tiny
        curvature_sum = curvature.sum(axis=2)
        curvature_squares = np.einsum("cip,cip->ci", curvature, curvature)
        curvature_moments = np.einsum("cip,cp->ci", curvature, weighted)
        factor = _Factor([], [], [])
        factor.extend([], count, np.broadcast_to(weighted.sum(axis=1)[:, None], count.shape), floor)
        factor.extend(
            [slope.sum(axis=2)], np.einsum("cip,cip->ci", slope, slope), np.einsum("cip,cp->ci", slope, weighted), floor
        )
        factor.extend(
            [curvature_sum, np.einsum("cip,cip->ci", slope, curvature)], curvature_squares, curvature_moments, floor
        )
        sse = (weighted**2).sum(axis=1)[:, None] - sum(value**2 for value in factor.z)
        if model == "nss":
            # The second curvature (tau2) against tau1's block: the constant, tau1's slope and curvature.
            crossed = [
                curvature_sum[:, None, :],
                np.matmul(slope, curvature.transpose(0, 2, 1)),
                np.matmul(curvature, curvature.transpose(0, 2, 1)),
            ]
            reduction = factor.bordered_reduction(
                crossed, curvature_squares[:, None, :], curvature_moments[:, None, :], floor[:, :, None]
            )
            sse = np.subtract(sse[:, :, None], reduction, out=reduction)
            sse[:, ~_tau_pairs_apart()] = np.inf
        best[rows] = _best_local_minima(sse)
    if model == "ns":
        return grid[best][..., None]
    return np.stack([grid[best // size], grid[best % size]], axis=-1)


def _tau_pairs_apart() -> np.ndarray:
    """(tau1, tau2) on NSS's grid: whether tau2 is at least MIN_TAU_RATIO from tau1, on either side."""
    grid = TAU_GRIDS["nss"]
    return np.abs(np.log(grid[None, :] / grid[:, None])) >= np.log(MIN_TAU_RATIO)


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

    def bordered_reduction(
        self, crossed: list, diagonal: np.ndarray, moment: np.ndarray, floor: np.ndarray
    ) -> np.ndarray:
        """How much one more column would lower the SSE, for factorisations (curves, factors) against columns
        (curves, 1, columns) by broadcasting to (curves, factors, columns). A dropped column of the factor gets a
        zero inverse length, so it adds nothing to the column's projection. The arithmetic writes into a few
        buffers of the full shape rather than a temporary per operation: fresh memory costs a page fault a page."""
        shape = np.broadcast_shapes(*(array.shape for array in crossed))
        inverse = [
            np.where(kept, 1 / row[j], 0.0)[:, :, None] for j, (row, kept) in enumerate(zip(self.lower, self.kept))
        ]
        scratch, projection = np.empty(shape), []
        for j, row in enumerate(self.lower):
            value = np.empty(shape)
            np.copyto(value, crossed[j])
            for m in range(j):
                value -= np.multiply(projection[m], row[m][:, :, None], out=scratch)
            value *= inverse[j]
            projection.append(value)
        pivot, numerator = np.empty(shape), np.empty(shape)
        np.copyto(pivot, diagonal)
        np.copyto(numerator, moment)
        for value, z in zip(projection, self.z):
            pivot -= np.multiply(value, value, out=scratch)
            numerator -= np.multiply(value, z[:, :, None], out=scratch)
        kept = pivot > floor
        numerator *= numerator
        np.divide(numerator, pivot, out=numerator, where=kept)
        numerator[~kept] = 0.0
        return numerator


def _best_local_minima(surface: np.ndarray) -> np.ndarray:
    """Flat indices into the grid (row major) of each curve's STARTS lowest grid points that are finite and no
    higher than any neighbour (one step in tau1 and/or tau2), from the SSE on the grid (curves, tau1[, tau2]); the
    best grid point fills the places of minima a curve does not have."""
    grid_axes = surface.ndim - 1
    padded = np.pad(surface, [(0, 0), *[(1, 1)] * grid_axes], constant_values=np.inf)
    lowest = np.isfinite(surface)
    for step in np.ndindex(*[3] * grid_axes):
        if any(s != 1 for s in step):
            lowest &= surface <= padded[(slice(None), *(slice(s, s + n) for s, n in zip(step, surface.shape[1:])))]
    candidates = np.where(lowest, surface, np.inf).reshape(surface.shape[0], -1)
    ranked = np.argpartition(candidates, range(STARTS), axis=1)[:, :STARTS]
    found = np.take_along_axis(lowest.reshape(surface.shape[0], -1), ranked, axis=1)
    return np.where(found, ranked, ranked[:, :1])


def _refine(
    t: np.ndarray, y: np.ndarray, mask: np.ndarray, start: np.ndarray, model: str
) -> tuple[np.ndarray, np.ndarray]:
    """Levenberg-Marquardt from each curve's start over its taus (log tau1, and for NSS log(tau2 / tau1) on the
    side of its start), the betas projected out, with the projection's exact Jacobian, every curve at once but each
    with its own damping and its own stop: a curve's path is the same whatever else is in the batch. A curve that
    stops leaves the working arrays; a step runs over them REFINE_CHUNK curves at a time, whose arrays stay in the
    cache. The taus (curves, 1 or 2) and SSE of each end."""
    x, low, high = _variables(start, model)
    found, found_sse = np.empty_like(x), np.empty(len(x))
    rows = np.arange(len(x))
    weighted = y * mask
    projection = _Projection(t, weighted, mask, _taus(x, model))
    residuals, jacobian = projection.residuals, projection.jacobian(model)
    sse = _dot(residuals, residuals)
    damping = np.full(len(x), 1e-3)
    for _ in range(REFINE_ITERATIONS):
        stopped = np.concatenate(
            [
                _step(
                    *(array[part] for array in (t, weighted, mask, x, low, high, residuals, sse, damping)),
                    [column[part] for column in jacobian],
                    model,
                )
                for part in (slice(first, first + REFINE_CHUNK) for first in range(0, len(rows), REFINE_CHUNK))
            ]
        )
        if not stopped.any():
            continue
        found[rows[stopped]], found_sse[rows[stopped]] = x[stopped], sse[stopped]
        going = ~stopped
        if not going.any():
            break
        rows, x, low, high, sse, damping, t, weighted, mask, residuals = (
            array[going] for array in (rows, x, low, high, sse, damping, t, weighted, mask, residuals)
        )
        jacobian = [column[going] for column in jacobian]
    else:
        found[rows], found_sse[rows] = x, sse
    return _taus(found, model), found_sse


def _step(
    t: np.ndarray,
    weighted: np.ndarray,
    mask: np.ndarray,
    x: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    residuals: np.ndarray,
    sse: np.ndarray,
    damping: np.ndarray,
    jacobian: list[np.ndarray],
    model: str,
) -> np.ndarray:
    """One Levenberg-Marquardt step of each curve, updating its variables, residuals, Jacobian, SSE and damping in
    place, and whether the curve is done. Steps are projected on the bounds and a step is taken only where it
    lowers the curve's SSE, so no curve ends worse than its start."""
    variables = range(x.shape[1])
    gradient = [_dot(column, residuals) for column in jacobian]
    # A variable at a bound that the descent direction pushes out of stays there: it leaves the step.
    free = [
        ~(((x[:, v] <= low[:, v]) & (gradient[v] > 0)) | ((x[:, v] >= high[:, v]) & (gradient[v] < 0)))
        for v in variables
    ]
    gradient = [np.where(free[v], gradient[v], 0.0) for v in variables]
    hessian = [
        [np.where(free[v] & free[w], _dot(jacobian[v], jacobian[w]), float(v == w) * ~free[v]) for w in variables]
        for v in variables
    ]
    # The reduction a full Gauss-Newton step predicts: near a minimum it is exact, so a tiny one means there.
    predicted = sum(g * step for g, step in zip(gradient, _solve_normal(hessian, gradient)))
    damped = [[hessian[v][w] * (1 + damping * (v == w)) for w in variables] for v in variables]
    candidate = np.clip(x - np.stack(_solve_normal(damped, gradient), axis=1), low, high)
    tried = _Projection(t, weighted, mask, _taus(candidate, model))
    tried_sse = _dot(tried.residuals, tried.residuals)
    better = tried_sse < sse
    optimal = predicted <= CONVERGED * sse
    taken = better[:, None]
    np.copyto(x, candidate, where=taken)
    np.copyto(sse, tried_sse, where=better)
    np.copyto(residuals, tried.residuals, where=taken)
    for column, new in zip(jacobian, tried.jacobian(model)):
        np.copyto(column, new, where=taken)
    damping[...] = np.where(better, damping / 3, damping * 4)
    return optimal | (damping > MAX_DAMPING)


def _variables(start: np.ndarray, model: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The refinement's variables at the starting taus and their bounds: log tau1 within TAU_BOUNDS, and for NSS
    log(tau2 / tau1) on the side of the start, at least MIN_TAU_RATIO and at most the bounds' ratio."""
    curves = start.shape[0]
    log_low, log_high = np.log(TAU_BOUNDS)
    if model == "ns":
        x = np.log(start)
        return x, np.full_like(x, log_low), np.full_like(x, log_high)
    ratio = np.log(start[:, 1] / start[:, 0])
    above = ratio > 0
    widest, closest = log_high - log_low, np.log(MIN_TAU_RATIO)
    x = np.stack([np.log(start[:, 0]), ratio], axis=1)
    low = np.stack([np.full(curves, log_low), np.where(above, closest, -widest)], axis=1)
    high = np.stack([np.full(curves, log_high), np.where(above, widest, -closest)], axis=1)
    return x, low, high


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
