"""Margins as practised: bilateral repo margin (GMRA), tri-party and sponsored haircut schedules,
CME variation margin (end of day, plus intraday cycles in stress), CME initial margin by look-back
VaR with announced changes, and the fund's liquidity.

Convention. USD bn; prices per 100 of face; a cash flow is positive when the fund *pays*; one
business day has two windows (0 morning, 1 end of day, docs/model.md section 3).

* Bilateral repo (GMRA 2011 para 4; ``gmra_margin_timing``): each morning the dealer and the fund
  compare the *previous close* marks, net across the fund's repo (it borrowed cash on bonds) and
  reverse repo (it lent cash on bonds, e.g. for its shorts) at that dealer:

      exposure = [repo_cash - (1 - h) repo_mv] - [rev_cash - (1 - h_rev) rev_mv] - margin_held
      call     = sign(exposure) (|exposure| - threshold)   if |exposure| > threshold,
                 and only if |call| >= minimum transfer amount,

  settled at the end of day ``settle_lag_days`` later (0: the same day; ``assumption``). Calls
  are symmetric: the fund recalls margin when its collateral rises.
  Because the repo is marked on the same close as the futures settle, a hedged fund's repo call is
  met from the variation margin it received the evening before: the mismatch left is the basis
  and the overnight gap, not the whole day's move.
* Haircut *schedules* (Kruttli, Monin, Petrasek & Watugala 2021, FEDS 2021-038: hedge funds' repo
  haircuts relatively unchanged in March 2020; tri-party "uniformly at or near 2% regardless of
  market conditions", ``triparty_haircut_sticky``): a haircut takes one of a few levels, chosen at
  periodic reviews from the band of a stress measure (volatility in multiples of calm), never a
  continuous function of price.
* CME variation margin: ``-F (f_t - f_mark)/100`` at each end-of-day settlement; in stress an extra
  intraday cycle at the morning window when the move since the last mark reaches ``k`` daily
  standard deviations (CME ran extra intraday VM cycles in March 2020; trigger an assumption).
* CME initial margin (``cme_span2_ir_timing``: Treasury futures stayed on SPAN through 2025, margins
  set by periodic reviews; ``cme_margin_setting_asym``): the rate is a look-back VaR
  ``z sigma_W sqrt(MPOR)`` over a window of ``W`` settlement returns, reviewed every ``review_days``;
  a change is made only outside a tolerance band (up quickly, down slowly), announced and
  effective after ``notice_days`` (advisory 20-085: announced 9 March, effective after the close
  of 10 March 2020).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from pydantic import BaseModel, ConfigDict, Field

jax.config.update("jax_enable_x64", True)

Array = jax.Array


def _f(default: Any, source: str, **kw: Any) -> Any:
    return Field(default, json_schema_extra={"source": source}, **kw)


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# --------------------------------------------------------------------------------------------
# bilateral repo margin


class BilateralConfig(_Frozen):
    threshold_bn: float = _f(0.0, "GMRA 2011: no threshold unless agreed in Annex I (assumption: none)", ge=0)
    minimum_transfer_bn: float = _f(
        0.001, "assumption: USD 1m per counterparty (ICMA repo margining practice; value not published)", ge=0
    )
    settle_lag_days: int = _f(
        0, "assumption: morning call on the previous close settled the same day (GMRA 4(g))", ge=0, le=3
    )


class RepoBook(NamedTuple):
    """A fund's book at one dealer (any leading shape), USD bn."""

    repo_mv: Array  # bonds the fund delivered (it borrows cash)
    repo_cash: Array
    repo_haircut: Array
    rev_mv: Array  # bonds the fund holds as collateral (it lent cash)
    rev_cash: Array
    rev_haircut: Array
    margin_held: Array  # net cash margin the dealer holds from the fund (negative: fund holds)
    pending: Array  # [..., L] calls awaiting settlement, oldest first (positive: fund pays)


def net_exposure(book: RepoBook) -> Array:
    """The dealer's net exposure to the fund after netting repo and reverse repo (USD bn)."""
    repo_gap = book.repo_cash - (1.0 - book.repo_haircut) * book.repo_mv
    rev_gap = book.rev_cash - (1.0 - book.rev_haircut) * book.rev_mv
    return repo_gap - rev_gap - book.margin_held - book.pending.sum(-1)


def bilateral_call(cfg: BilateralParams, book: RepoBook) -> Array:
    """Margin call (positive: fund pays) on the current marks, after threshold and MTA."""
    x = net_exposure(book)
    call = jnp.sign(x) * jnp.maximum(jnp.abs(x) - cfg.threshold_bn, 0.0)
    return jnp.where(jnp.abs(call) >= cfg.minimum_transfer_bn, call, 0.0)


class BilateralParams(NamedTuple):
    threshold_bn: Array
    minimum_transfer_bn: Array


def bilateral_params(cfg: BilateralConfig) -> BilateralParams:
    return BilateralParams(jnp.asarray(cfg.threshold_bn), jnp.asarray(cfg.minimum_transfer_bn))


def queue_call(cfg: BilateralParams, book: RepoBook) -> RepoBook:
    """Morning window: call margin on the previous close marks. ``pending[..., i]`` is due at the
    ``i``-th end of day from now, so the call joins the last slot (``L = settle_lag_days``)."""
    call = bilateral_call(cfg, book)
    return book._replace(pending=book.pending.at[..., -1].add(call))


def settle_due(book: RepoBook) -> tuple[RepoBook, Array]:
    """End-of-day window: the call due today settles (returned: cash the fund pays, negative when
    the dealer returns margin) and becomes margin held; the queue moves one day forward."""
    due = book.pending[..., 0]
    shifted = jnp.concatenate([book.pending[..., 1:], jnp.zeros_like(due)[..., None]], axis=-1)
    return book._replace(margin_held=book.margin_held + due, pending=shifted), due


# --------------------------------------------------------------------------------------------
# haircut schedules


class HaircutSchedule(_Frozen):
    """Levels by stress band (stress = volatility / calm volatility), set at periodic reviews."""

    levels: tuple[float, ...] = _f((0.0,), "per schedule: its ``source`` field")
    bands: tuple[float, ...] = _f((), "per schedule: its ``source`` field (upper edges, increasing)")
    review_days: int = _f(5, "assumption: lenders review terms weekly", ge=1)
    source: str = _f("", "the study or rule book behind the levels and bands")


#: Bilateral hedge-fund repo: zero haircut for most volume (``zero_haircut_share_pf`` 74%,
#: ``nccbr_haircut_dist``), unchanged at March-2020 volatility (about 4x calm, Kruttli et al. 2021);
#: the steps beyond it are assumptions.
BILATERAL = HaircutSchedule(
    levels=(0.0, 0.01, 0.02),
    bands=(5.0, 8.0),
    source="zero_haircut_share_pf; Kruttli et al. (2021); steps assumption",
)
#: Tri-party: 2% whatever the market (``triparty_haircut``, ``triparty_haircut_sticky``).
TRIPARTY = HaircutSchedule(levels=(0.02, 0.02), bands=(1e9,), source="triparty_haircut_sticky")
#: FICC sponsored repo: margin via the sponsor, small and stable (assumption; levels not published).
SPONSORED = HaircutSchedule(levels=(0.005, 0.005, 0.01), bands=(5.0, 8.0), source="assumption")


def schedule_haircut(levels: Array, bands: Array, current: Array, stress: Array, review: Array) -> Array:
    """The haircut after a review day (``review`` 1.0) or the current one otherwise: the level of
    the band that ``stress`` falls in (a step, never a slope)."""
    band = jnp.sum(stress[..., None] >= bands, axis=-1)
    return jnp.where(review > 0, levels[band], current)


# --------------------------------------------------------------------------------------------
# CME futures margins


class FuturesMarginConfig(_Frozen):
    intraday_trigger_sd: float = _f(
        2.0, "assumption: extra intraday VM cycle when the move reaches 2 daily sd (CME, March 2020)", gt=0
    )
    var_window_days: int = _f(
        60, "assumption: SPAN scan ranges reviewed on about three months of moves", ge=5
    )
    var_z: float = _f(2.33, "99% one-tailed (docs/model.md section 6 IM model)", gt=0)
    mpor_days: float = _f(2.0, "docs/model.md section 6: MPOR 2 days", gt=0)
    review_days: int = _f(
        1, "CME may issue advisories any business day; daily checks give 20-085's 9/10 Mar 2020 dates", ge=1
    )
    notice_days: int = _f(1, "cme_mar2020_advisory: announced 9 Mar, effective after close 10 Mar 2020", ge=0)
    band_up: float = _f(0.10, "assumption: raise when VaR exceeds the margin by 10%", ge=0)
    band_down: float = _f(0.25, "cme_margin_setting_asym: lowered slowly (assumption: 25% band)", ge=0)
    down_share: float = _f(0.5, "cme_margin_setting_asym: cut half way to the VaR (assumption)", gt=0, le=1)


class FuturesMarginParams(NamedTuple):
    intraday_trigger_sd: Array
    var_z: Array
    mpor_days: Array
    review_days: Array
    notice_days: Array
    band_up: Array
    band_down: Array
    down_share: Array


def futures_params(cfg: FuturesMarginConfig) -> FuturesMarginParams:
    a = lambda v: jnp.asarray(float(v))  # noqa: E731
    return FuturesMarginParams(
        a(cfg.intraday_trigger_sd), a(cfg.var_z), a(cfg.mpor_days), a(cfg.review_days), a(cfg.notice_days),
        a(cfg.band_up), a(cfg.band_down), a(cfg.down_share),
    )  # fmt: skip


def variation_margin(short: Array, mark: Array, price: Array) -> Array:
    """Cash the fund *pays* on a futures short of ``short`` (USD bn face): ``short x (f - mark)/100``."""
    return short * (price - mark) / 100.0


def intraday_variation_margin(
    params: FuturesMarginParams, short: Array, mark: Array, price: Array, daily_sd: Array
) -> tuple[Array, Array]:
    """An extra intraday cycle when the move since the last mark reaches ``k`` daily sd
    (``daily_sd`` in percent of price): ``|f - mark| >= k sd mark / 100``. Returns (cash the fund
    pays, the new mark)."""
    moved = jnp.abs(price - mark) >= params.intraday_trigger_sd * daily_sd * mark / 100.0
    return jnp.where(moved, variation_margin(short, mark, price), 0.0), jnp.where(moved, price, mark)


class InitialMarginState(NamedTuple):
    rate: Array  # margin per unit of notional in force
    pending_rate: Array  # announced, not yet effective (nan: none)
    days_to_effective: Array
    returns: Array  # [..., W] settlement-to-settlement returns, oldest first
    day: Array  # business days since the start (for the review calendar)


def init_margin_state(rate: Array, returns: Array) -> InitialMarginState:
    z = jnp.zeros_like(rate)
    return InitialMarginState(rate, z + jnp.nan, z, returns, z)


def lookback_var(params: FuturesMarginParams, returns: Array) -> Array:
    """``z sigma_W sqrt(MPOR)``: sigma the root mean square of the window's daily returns."""
    return params.var_z * jnp.sqrt(jnp.mean(returns**2, axis=-1) * params.mpor_days)


def initial_margin_day(
    params: FuturesMarginParams, state: InitialMarginState, settle_return: Array
) -> InitialMarginState:
    """End of day: a change announced ``notice_days`` end-of-days ago takes effect; the new
    settlement return enters the window; on a review day a change outside the band is announced
    (CME: announced 9 March 2020, effective after the close of 10 March: notice 1)."""
    countdown = state.days_to_effective - 1
    due = (countdown <= 0) & ~jnp.isnan(state.pending_rate)
    rate = jnp.where(due, state.pending_rate, state.rate)
    pending = jnp.where(due, jnp.nan, state.pending_rate)
    returns = jnp.concatenate([state.returns[..., 1:], settle_return[..., None]], axis=-1)
    day = state.day + 1
    var = lookback_var(params, returns)
    review = (jnp.mod(day, params.review_days) == 0) & jnp.isnan(pending)
    up = var > rate * (1.0 + params.band_up)
    down = var < rate * (1.0 - params.band_down)
    target = jnp.where(up, var, rate + params.down_share * (var - rate))
    announce = review & (up | down)
    pending = jnp.where(announce, target, pending)
    countdown = jnp.where(announce, params.notice_days, countdown)
    # a zero-notice change is effective at once
    now = announce & (params.notice_days <= 0)
    rate = jnp.where(now, target, rate)
    pending = jnp.where(now, jnp.nan, pending)
    return InitialMarginState(rate, pending, countdown, returns, day)


def initial_margin_path(
    params: FuturesMarginParams, seed_returns: Array, returns: Array
) -> tuple[Array, Array]:
    """Run CME's review cycle over daily settlement returns ``[T]`` from a window of
    ``seed_returns`` ``[W]`` (the rate starts at their VaR). Returns (rate in force ``[T]``,
    announced rate ``[T]``, nan on days without a pending change)."""
    state = init_margin_state(lookback_var(params, seed_returns), seed_returns)

    def body(st: InitialMarginState, r: Array) -> tuple[InitialMarginState, tuple[Array, Array]]:
        st = initial_margin_day(params, st, r)
        return st, (st.rate, st.pending_rate)

    _, (rate, pending) = jax.lax.scan(body, state, returns)
    return rate, pending


# --------------------------------------------------------------------------------------------
# fund liquidity


class FundLiquidityConfig(_Frozen):
    """A fund's liquid resources per USD of gross assets. The unencumbered cash ratio follows the
    OFR Hedge Fund Monitor definition (``hf_cash_ratio_def``: Form PF Q33 / Q8, gross-asset
    weighted); its values could not be read offline (system-calibration gap 1), so the levels are
    assumptions with sensitivity rows in docs/mechanisms.md."""

    unencumbered_cash_ratio: float = _f(
        0.05, "assumption pending OFR HFM FPF-ALLQHF_CASHRATIO (definition hf_cash_ratio_def)", ge=0, le=1
    )
    committed_lines_ratio: float = _f(
        0.02, "assumption: undrawn committed credit lines (Form PF Q43 family)", ge=0
    )
    other_liquid_ratio: float = _f(
        0.10, "assumption: other assets saleable within a week; IOSCO: portfolio liquidity >= investor", ge=0
    )
    other_haircut: float = _f(0.10, "assumption: value lost selling other assets in a week", ge=0, lt=1)


def liquidity_available(cfg: FundLiquidityConfig, gross_assets: Array) -> Array:
    """Cash a fund can raise within a week without touching the basis trade (USD bn)."""
    return gross_assets * (
        cfg.unencumbered_cash_ratio
        + cfg.committed_lines_ratio
        + cfg.other_liquid_ratio * (1.0 - cfg.other_haircut)
    )


# --------------------------------------------------------------------------------------------
# one hedged fund's margin cash flows over a path of marks (a composition of the kernels above)


class MarginPath(NamedTuple):
    cash_out: Array  # [T, 2] fund's net payments per window (positive: pays)
    repo_calls: Array  # [T] bilateral repo margin settled
    variation: Array  # [T] futures VM paid (both cycles)
    im_change: Array  # [T] initial margin posted minus returned
    haircut: Array  # [T] haircut in force


def hedged_fund_path(
    bilateral: BilateralParams,
    futures: FuturesMarginParams,
    schedule: HaircutSchedule,
    face: Array,
    cash_close: Array,
    fut_open: Array,
    fut_close: Array,
    stress: Array,
    daily_sd: Array,
    im_rate0: Array,
    returns0: Array,
    settle_lag_days: int = 0,
) -> MarginPath:
    """Margin cash flows of a fund long ``face`` of cash Treasuries financed in bilateral repo and
    short the same face of futures, over ``T`` days (row 0 sets the book up) of closing cash
    prices, futures prices at the morning window and at the settlement, a stress measure and a
    daily sd (per 100). Morning: repo called on the previous close, intraday VM in stress. End of
    day: the due repo call settles, VM at the settlement, IM in force changes as CME announced."""
    levels, bands = jnp.asarray(schedule.levels), jnp.asarray(schedule.bands)
    h0 = schedule_haircut(levels, bands, jnp.asarray(0.0), stress[0], jnp.asarray(1.0))
    mv0 = face * cash_close[0] / 100.0
    zero = 0.0 * mv0
    book = RepoBook(mv0, (1 - h0) * mv0, h0, zero, zero, zero, zero, jnp.zeros(settle_lag_days + 1))
    im = init_margin_state(im_rate0, returns0)

    def day(carry: tuple, row: tuple) -> tuple[tuple, tuple]:
        book, im, mark, settle, t = carry
        close, f_open, f_close, s, sd = row
        book = queue_call(bilateral, book)
        vm_intraday, mark = intraday_variation_margin(futures, face, mark, f_open, sd)
        review = (jnp.mod(t, schedule.review_days) == 0) * 1.0
        h = schedule_haircut(levels, bands, book.repo_haircut, s, review)
        book, repo_paid = settle_due(book)
        vm_eod = variation_margin(face, mark, f_close)
        im2 = initial_margin_day(futures, im, jnp.log(f_close / settle))
        im_change = face * (im2.rate - im.rate)
        book = book._replace(repo_mv=face * close / 100.0, repo_haircut=h)
        windows = jnp.stack([vm_intraday, repo_paid + vm_eod + im_change])
        return (book, im2, f_close, f_close, t + 1), (windows, repo_paid, vm_intraday + vm_eod, im_change, h)

    rows = (cash_close[1:], fut_open[1:], fut_close[1:], stress[1:], daily_sd[1:])
    carry0 = (book, im, fut_close[0], fut_close[0], jnp.asarray(1))
    _, out = jax.lax.scan(day, carry0, rows)
    return MarginPath(*out)


# --------------------------------------------------------------------------------------------
# de-risking by choice (not forced): risk limits, losses, redemptions


class DeriskConfig(_Frozen):
    """A fund cuts its basis position by choice when a risk limit binds, after losses, or to pay
    redemptions (issue 10 item 1); each trigger is a rule of thumb of the literature."""

    var_limit: float = _f(
        1.0, "Brunnermeier & Pedersen (2009): margin (VaR) x position <= capital; limit = 100% of it", gt=0
    )
    stop_loss: float = _f(
        0.05, "assumption: a drawdown of 5% of NAV starts cutting (sensitivity 3-10%)", gt=0
    )
    stop_loss_cut: float = _f(
        0.5, "assumption: half the position cut at twice the stop-loss drawdown", ge=0, le=1
    )
    redemption_share: float = _f(
        0.25,
        "assumption: quarterly-liquid share of NAV (Form PF Q50 investor liquidity, hf_investor_liq_def)",
        ge=0,
        le=1,
    )
    redemption_per_loss: float = _f(
        0.5, "assumption: NAV share redeemed per unit of drawdown, within the liquid share", ge=0
    )


class DeriskParams(NamedTuple):
    var_limit: Array
    stop_loss: Array
    stop_loss_cut: Array
    redemption_share: Array
    redemption_per_loss: Array


def derisk_params(cfg: DeriskConfig) -> DeriskParams:
    return DeriskParams(*(jnp.asarray(float(getattr(cfg, n))) for n in DeriskParams._fields))


def derisk_fraction(params: DeriskParams, var_to_capital: Array, drawdown: Array) -> tuple[Array, Array]:
    """The share of the basis position a fund unwinds by choice, and redemptions (share of NAV).

    * risk limit (Brunnermeier & Pedersen 2009; Cont & Schaanning 2017 leverage targeting): cut
      to bring VaR back to the limit, ``1 - limit / (VaR / capital)`` when above it;
    * losses: nothing below the stop-loss drawdown, then linearly up to ``stop_loss_cut`` at twice it;
    * redemptions: ``redemption_per_loss x drawdown`` of NAV, at most the share investors can
      withdraw in the period; met by unwinding pro rata (a share of NAV = the same share of the book).

    The largest of the three applies (they are not additive: one cut serves all)."""
    var_cut = jnp.maximum(1.0 - params.var_limit / jnp.maximum(var_to_capital, 1e-12), 0.0)
    excess = jnp.clip((drawdown - params.stop_loss) / params.stop_loss, 0.0, 1.0)
    loss_cut = params.stop_loss_cut * excess
    redemption = jnp.minimum(params.redemption_per_loss * jnp.maximum(drawdown, 0.0), params.redemption_share)
    return jnp.maximum(jnp.maximum(var_cut, loss_cut), redemption), redemption
