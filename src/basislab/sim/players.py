"""The players' books and parameters: one pytree (NamedTuple of float64 arrays) per player or market.

Shapes: ``N`` funds, ``K`` maturity buckets (:data:`BUCKETS`), ``S`` repo segments
(:data:`SEGMENTS`). Per-fund arrays keep the fund axis last (``[K, N]``, ``[S, N]``, ``[N]``) so
every per-fund operation runs along one long contiguous axis (docs/model.md section 9).

Units: money in USD bn; bonds and futures in USD bn of face; prices per 100 of face; rates are
decimals per year; one step is one business day. Symbols in brackets are docs/model.md's.

Each contract is stored once (the INET Oxford ``economicsl`` idea): a fund's ``repo_debt`` is its
repo lender's claim (the lenders' ``claims`` is their own ledger of it, kept by the same flows), a
fund's ``initial_margin`` and ``pending_vm`` are claims on the clearing house, whose side is
derived. Every change of a stock between players goes through :func:`basislab.sim.booking.book`.

A new player is a new group here (its ``NamedTuple`` of books and one of parameters), a field of
:class:`State` / :class:`Params`, and its accounts in :mod:`basislab.sim.booking`; see
docs/model.md, "Adding a player".
"""

from __future__ import annotations

from typing import NamedTuple

import jax

from basislab import conventions
from basislab.sim.funding import FundingDay, FundingParams

#: Maturity buckets of cash Treasuries and their futures (TU, FV, TY, US/UB): the package's one
#: list (:mod:`basislab.conventions`).
BUCKETS = conventions.BUCKETS
#: Repo segments: bilateral (non-centrally-cleared, zero haircut) and tri-party / sponsored.
SEGMENTS = ("bilateral", "triparty")
#: Other dollar assets of the dash for cash (``A``), in the order a fund short of cash sells them
#: (most liquid first: listed equities, then credit): :mod:`basislab.sim.liquidity`.
OTHER_ASSETS = ("equities", "credit")


class Static(NamedTuple):
    """Hashable configuration fixing shapes; changing it recompiles. The model never sees how the
    engine batches paths: the engine passes an ``any_in_batch`` reducer to :func:`model.step`.
    ``n_funds`` and ``n_steps`` are the lengths of the fund and day axes: the engine pads them to
    buckets (:func:`basislab.sim.engine.pad`), the scenario's own counts are parameters
    (``funds.n_active``, ``market.horizon_days``), so scenarios of one bucket share an executable."""

    n_funds: int  # length of the fund axis (funds beyond ``params.funds.n_active`` are inert padding)
    n_steps: int  # length of the day axis (days beyond ``params.market.horizon_days`` are skipped)
    n_buckets: int = 4
    n_segments: int = 2
    fp_iters: int = 3
    record_distribution: bool = True
    #: settle a window in which no fund unwinds, sells other assets or defaults (funds pay from
    #: cash, bills and the backstop; no price moves) with only the kernels that run there (same
    #: numbers; see :func:`basislab.sim.window.settlement_window`)
    skip_quiet_windows: bool = True
    #: settlement returns in the clearing house's look-back VaR window (CME SPAN review, W)
    im_window: int = 60


# ----------------------------------------------------------------------------------------------
# state: one group per player


class Funds(NamedTuple):
    """Leveraged funds running the basis trade (``i = 1..N``)."""

    bonds: jax.Array  # [K,N] cash Treasuries held, face (Q)
    futures_short: jax.Array  # [K,N] futures sold, face (F)
    repo_debt: jax.Array  # [S,N] repo owed to segment s (D) = the lender's claim
    initial_margin: jax.Array  # [N] IM posted at the clearing house (M), a claim on it
    cash: jax.Array  # [N] (C)
    bills: jax.Array  # [N] bills / money-market assets at par (L)
    other_assets: jax.Array  # [A,N] units of other risky assets (O: equities, credit), priced p_o [A]
    backstop_loan: jax.Array  # [N] owed to the backstop lender (B)
    pending_vm: jax.Array  # [N] realised futures P&L awaiting end-of-day settlement (claim on CCP)
    alive: jax.Array  # [N] 1.0 while the fund operates, 0.0 after default
    repo_share: jax.Array  # [S,N] share of the fund's collateral pledged to each segment (w)
    leverage_limit: jax.Array  # [N] risk limit on gross position / equity
    cash_target: jax.Array  # [N] cash kept before repaying the backstop
    equity0: jax.Array  # [N] initial equity (E0)
    pnl: jax.Array  # [N] cumulative P&L from flows (revaluation, coupons, interest, forgiveness)
    repo_pending: jax.Array  # [S,N] repo margin called, due at a later end of day (settlement lag)
    position0: jax.Array  # [N] initial face of cash Treasuries (the stop-loss cuts relative to it)
    credit_drawn: jax.Array  # [N] drawn on committed bank credit lines (owed to the dealers' banks)
    credit_limit: jax.Array  # [N] size of the committed lines (USD bn)
    redeem_requested: jax.Array  # [N] cumulative redemption requests received (USD bn of NAV)
    redeem_pending: jax.Array  # [N] requested and not yet paid
    redeem_countdown: jax.Array  # [N] business days to the next dealing date (0: none pending)
    redeem_unfunded: jax.Array  # [N] requests the fund has not yet de-risked for
    redeemed: jax.Array  # [N] cumulative redemptions paid (capital returned to investors)


class RepoLenders(NamedTuple):
    """Repo cash lenders, one per segment (money funds via tri-party; dealers bilaterally)."""

    cash: jax.Array  # [S]
    claims: jax.Array  # [S] the lenders' own ledger of repo claims on the funds
    losses: jax.Array  # [S] cumulative write-offs
    interest: jax.Array  # [S] cumulative interest income
    haircut: jax.Array  # [S] haircut in force (a level of the segment's schedule, h)
    refusal: jax.Array  # [S] share of repo not rolled, in force (r)


class ClearingHouse(NamedTuple):
    """The futures clearing house (CCP): novates every contract; owes IM and pending VM back."""

    cash: jax.Array  # [] IM received + default fund
    losses: jax.Array  # [] cumulative default losses
    im_per_face: jax.Array  # [K] initial margin in force, USD per USD of futures face (CME's $/contract)
    im_announced: jax.Array  # [K] announced IM rate (fraction of notional), not yet effective
    im_has_pending: jax.Array  # [K] 1.0 while an announced change waits for its effective day
    im_countdown: jax.Array  # [K] end-of-days until the announced change takes effect
    returns: jax.Array  # [K,W] settlement-to-settlement futures log returns, oldest first


class AssetManagers(NamedTuple):
    """Futures longs (asset managers), the other side of the funds' shorts."""

    futures_long: jax.Array  # [K] face (G)
    cash: jax.Array  # []
    initial_margin: jax.Array  # [] IM posted at the clearing house
    pending_vm: jax.Array  # [] realised P&L awaiting end-of-day settlement


class EndInvestors(NamedTuple):
    """Unlevered buyers of cash Treasuries, bills and other assets (the cash market's depth)."""

    bonds: jax.Array  # [K] face (H)
    cash: jax.Array  # []
    bills: jax.Array  # []
    other_assets: jax.Array  # [A] units


class Backstop(NamedTuple):
    """Lender of last resort to the funds (the seeds' counterfactual)."""

    cash: jax.Array  # []
    claims: jax.Array  # [] its ledger of loans to the funds
    losses: jax.Array  # []
    interest: jax.Array  # []


class Fed(NamedTuple):
    """The Federal Reserve's outright purchases (:mod:`basislab.sim.fed`): a clearing participant
    that buys cash Treasuries offered in a window up to its capacity, paying in reserves it
    creates (``cash`` starts at zero and goes negative: ``-cash`` = reserves created)."""

    bonds: jax.Array  # [K] face bought
    cash: jax.Array  # [] minus the reserves created by purchases
    triggered_at: jax.Array  # [3] hours each lever (purchases, LOLR, repo ops) was triggered (1e12: not yet)
    window_capacity: jax.Array  # [K] USD bn the Fed buys in the current window if offered


class Dealers(NamedTuple):
    """Primary dealers under the SLR (:mod:`basislab.sim.dealers`): they take cash Treasuries in the
    clearing up to their balance-sheet headroom, finance them in repo from money funds and lay
    them off to end investors over the following days. ``D`` dealers share one book of bonds."""

    bonds: jax.Array  # [K] face bought in the run and not yet distributed (the sector's)
    cash: jax.Array  # [] cash (purchases are paid from repo borrowing; P&L on the inventory)
    repo_funding: jax.Array  # [] repo owed to money funds for the inventory (= their claim)
    absorbed: jax.Array  # [D] leverage exposure added by the run's purchases (USD bn, at cost)
    repo_lent0: jax.Array  # [] the funds' bilateral repo at the start (dealers' reverse repo to them)
    credit_claims: jax.Array  # [] their banks' ledger of the funds' drawn credit lines
    credit_income: jax.Array  # [] cumulative interest on the lines less losses on them


class MoneyFunds(NamedTuple):
    """Government money funds: the cash that finances dealers' new inventory in tri-party repo."""

    cash: jax.Array  # []
    claims: jax.Array  # [] repo lent to dealers (their own ledger of ``Dealers.repo_funding``)


class OtherSellers(NamedTuple):
    """Foreign official and private investors and bond mutual funds (:mod:`basislab.sim.sellers`,
    groups ``G``): they sell cash Treasuries into the same clearing when dollar funding is
    stressed. Their holdings are carved out of the end investors' at the start."""

    bonds: jax.Array  # [K] face held
    cash: jax.Array  # [] dollars raised
    sold: jax.Array  # [G] cumulative sales (USD bn at market)
    started: jax.Array  # [G] 1.0 once the group's trigger was met
    spread_ref: jax.Array  # [] SOFR - IORB on the first morning (the index's calm reference)
    window_face: jax.Array  # [K] face offered in the current window
    other_assets: jax.Array  # [A] units held (prime money funds' CP and CDs: the credit asset)
    window_other: jax.Array  # [A] units offered in the current window (prime money funds' sales)


class FundingMarket(NamedTuple):
    """The overnight funding market (:mod:`basislab.sim.funding`; USD tn, rates in percent):
    the stocks behind the reserve demand curve and the day's SOFR."""

    reserves: jax.Array  # [] bank reserves at the Fed
    onrrp: jax.Array  # [] money funds' cash at the ON RRP
    tga: jax.Array  # [] Treasury General Account
    settle_inventory: jax.Array  # [] new coupon issues dealers still finance in repo
    srf_loans: jax.Array  # [] SRF and Fed repo-operation loans outstanding (overnight)
    sofr_pct: jax.Array  # [] today's SOFR
    spread_bp: jax.Array  # [] today's SOFR - IORB
    fed_created: jax.Array  # [] reserves the Fed created by purchases and LOLR lending, booked (USD tn)
    fund_repo0: jax.Array  # [] the funds' repo at the start (USD tn)
    mmf_inflow: jax.Array  # [] cumulative flight to government money funds in the run (USD tn), lent in repo


class Issuer(NamedTuple):
    """The Treasury: pays coupons from the TGA."""

    cash: jax.Array  # []


class Markets(NamedTuple):
    """Market state behind the prices (:func:`basislab.sim.markets.prices`)."""

    yield_change: jax.Array  # [K] cumulative fundamental yield change (y)
    dislocation: jax.Array  # [K] exogenous cash dislocation, log price (xd)
    impact_cash: jax.Array  # [K] cash price impact, log (ic)
    impact_futures: jax.Array  # [K] futures price impact, log (if)
    impact_other: jax.Array  # [A] other assets' price impact, log
    other_return: jax.Array  # [A] cumulative exogenous log return of other assets
    variance: jax.Array  # [K] EWMA variance of daily futures log returns
    futures_settle: jax.Array  # [K] last settlement price of futures (f_last)
    futures_eod: jax.Array  # [K] previous end-of-day futures price, for the EWMA
    cash_close: jax.Array  # [K] previous end-of-day cash price (repo lenders mark collateral on it)
    day: jax.Array  # [] day index


class State(NamedTuple):
    """Every stock in the system, one group per player."""

    funds: Funds
    lenders: RepoLenders
    ccp: ClearingHouse
    asset_managers: AssetManagers
    investors: EndInvestors
    backstop: Backstop
    issuer: Issuer
    markets: Markets
    fed: Fed
    dealers: Dealers
    money_funds: MoneyFunds
    funding: FundingMarket
    other_sellers: OtherSellers


# ----------------------------------------------------------------------------------------------
# parameters: one group per player


class MarketParams(NamedTuple):
    p0: jax.Array  # [K] initial clean price of the bucket's CTD, per 100
    dmod: jax.Array  # [K] modified duration of the CTD
    cf: jax.Array  # [K] conversion factor of the CTD
    coupon: jax.Array  # [K] coupon rate of the CTD (decimal p.a.)
    rho: jax.Array  # [K] initial log gross basis log(P / (CF f)); 0 at delivery
    sigma_y: jax.Array  # [K] calm daily yield volatility (decimal)
    yield_corr: jax.Array  # [] correlation of daily yield noise across buckets
    impact_cash: jax.Array  # [K] log-price impact per USD bn of cash sold, calm markets (lambda)
    impact_fut: jax.Array  # [K] log-price impact per USD bn of futures bought
    impact_stress: jax.Array  # [] impact multiplier slope per unit of stress above 1 (kappa)
    resilience: jax.Array  # [] fraction of price impact that decays per day
    overnight_share: jax.Array  # [] share of each day's exogenous move before the morning window
    disloc_decay: jax.Array  # [] fraction of the cash dislocation that decays per day
    sigma_other: jax.Array  # [A] daily volatility of other risky assets
    impact_other: jax.Array  # [A] log-price impact per USD bn of other assets sold (own market)
    other_cross: jax.Array  # [A,A] cross-asset impact: row a's move per unit of column b's own move
    credit_duration: jax.Array  # [] spread duration of the credit asset (years)
    dy: jax.Array  # [T,K] scenario yield change per day (decimal)
    dx: jax.Array  # [T,K] scenario cash dislocation per day (log price)
    dother: jax.Array  # [T,A] scenario log return of other assets per day
    volmult: jax.Array  # [T] multiplier of the noise volatility per day
    outstanding: jax.Array  # [K] cash Treasuries outstanding per bucket (face)
    horizon_days: jax.Array  # [] business days simulated; the futures deliver at its end (T)


class ClearingParams(NamedTuple):
    ewma_lambda: jax.Array  # [] EWMA decay of the variance estimate (RiskMetrics 0.94)
    im_z: jax.Array  # [] confidence multiplier
    im_mpor: jax.Array  # [] margin period of risk (days)
    im_floor: jax.Array  # [K] IM rate floor (fraction of notional)
    default_fund: jax.Array  # [] the clearing house's own resources
    intraday_sd: jax.Array  # [] extra intraday VM cycle when a move reaches this many daily sd
    band_up: jax.Array  # [] IM raised when the look-back VaR exceeds it by this share
    band_down: jax.Array  # [] IM lowered when the VaR is below it by this share
    down_share: jax.Array  # [] a cut goes this share of the way to the VaR
    notice_days: jax.Array  # [] end-of-days between announcement and effect
    im_review_days: jax.Array  # [] the IM is reviewed every this many business days


class RepoParams(NamedTuple):
    haircut_levels: jax.Array  # [S,B] haircut schedule: level per stress band (Kruttli et al. 2021)
    refusal_levels: jax.Array  # [S,B] share of repo not rolled per stress band
    stress_bands: jax.Array  # [B-1] upper edges of the stress bands (vol / calm vol)
    review_days: jax.Array  # [] lenders review haircuts every this many business days
    threshold: jax.Array  # [] margin threshold per fund and segment (USD bn; GMRA Annex I)
    min_transfer: jax.Array  # [] minimum transfer amount (USD bn)
    settle_lag: jax.Array  # [] 0.0: the morning call settles that end of day; 1.0: the next
    spread: jax.Array  # [S] repo rate spread over SOFR (decimal)
    stress_spread: jax.Array  # [] repo rate rise per unit of stress above 1 (decimal)
    sofr: jax.Array  # [] SOFR (decimal)
    cash: jax.Array  # [S] lenders' cash


class FundParams(NamedTuple):
    total_position: jax.Array  # [] aggregate long cash leg of the trade (USD bn)
    pareto_alpha: jax.Array  # [] tail index of fund sizes
    lev_median: jax.Array  # [] median trade leverage (gross position / equity)
    lev_sigma: jax.Array  # [] log-dispersion of leverage
    mix: jax.Array  # [K] mean bucket mix
    mix_conc: jax.Array  # [] Dirichlet concentration of fund bucket mixes
    bilat_share: jax.Array  # [] mean share of repo funded bilaterally
    bilat_conc: jax.Array  # [] Beta concentration of that share
    min_buffer: jax.Array  # [] minimum free liquidity as a share of the gross position
    cash_share: jax.Array  # [] share of free liquidity held as cash (rest in bills)
    other_ratio: jax.Array  # [] other risky assets as a multiple of trade equity
    other_mix: jax.Array  # [A] split of the other assets (equities, credit) at the start
    lev_limit_mult: jax.Array  # [] leverage limit as a multiple of initial leverage
    lev_target_ratio: jax.Array  # [] deleverage to this fraction of the limit (Cont-Schaanning)
    oversell: jax.Array  # [] extra cash raised above the gap when selling
    cash_ratio: jax.Array  # [3] unencumbered cash / gross assets by size cohort (OFR hf_cash_ratio_def)
    stop_loss: jax.Array  # [] drawdown of NAV at which a fund starts cutting the trade by choice
    stop_cut: jax.Array  # [] share of the initial position cut at twice the stop-loss drawdown
    credit_line_ratio: jax.Array  # [] committed credit lines / gross assets at the start
    credit_spread: jax.Array  # [] drawn lines pay SOFR + this (decimal)
    redeem_threshold: jax.Array  # [] drawdown of NAV from which investors redeem
    redeem_per_loss: jax.Array  # [] NAV share requested per unit of drawdown above the threshold
    redeem_cap: jax.Array  # [] at most this share of NAV redeemable in the run (investor liquidity)
    redeem_notice: jax.Array  # [] business days from a request to its dealing date (payment)
    n_active: jax.Array  # [] funds in the scenario: the first n_active of the fund axis (the rest pads it)


class BackstopParams(NamedTuple):
    on: jax.Array  # [] 1.0 when the backstop lends (once triggered and after its delay), 0.0 never
    ltv: jax.Array  # [] max loan as a share of the fund's cash Treasuries at market
    rate: jax.Array  # [] lending rate (decimal)
    cash: jax.Array  # [] cash available to the backstop


class AssetManagerParams(NamedTuple):
    cash: jax.Array  # []


class InvestorParams(NamedTuple):
    cash: jax.Array  # []
    bills: jax.Array  # []
    other_assets: jax.Array  # [A] units of other risky assets


class FedParams(NamedTuple):
    """The Fed's levers (:data:`basislab.sim.model.FED_LEVERS` order: purchases, lender of last
    resort, repo operations), each with a trigger and a delay in hours (:mod:`basislab.sim.fed`):
    purchases and the lender of last resort watch the cash market's dislocation (bp of yield),
    repo operations watch SOFR - IORB (bp). The Fed's actions as they happened are inputs."""

    enabled: jax.Array  # [3] 1.0 when the lever may act
    threshold_bp: jax.Array  # [3] stress (bp) at or above which the lever is triggered
    delay_hours: jax.Array  # [3] hours from trigger to action
    purchase_capacity: jax.Array  # [K] USD bn a day by bucket (fed_purchase_pace_peak split)
    morning_share: jax.Array  # [] share of the day's purchases offered in the morning window
    morning_hour: jax.Array  # [] clock time of the morning window
    eod_hour: jax.Array  # [] clock time of the end-of-day window
    repo_ops_capacity: jax.Array  # [] USD tn a day of repo operations once the lever acts
    repo_ops_spread_bp: jax.Array  # [] their rate over IORB (bp; full allotment at that rate)
    scheduled_purchases: jax.Array  # [T,K] outright purchases as they happened (USD bn a day, input)


class DealerEngineParams(NamedTuple):
    """Dealers in the clearing (:mod:`basislab.sim.dealers`; ``[D]`` per dealer)."""

    tier1: jax.Array  # [D] Tier 1 capital (USD bn)
    exposure0: jax.Array  # [D] leverage exposure at the start
    exempt_base: jax.Array  # [D] Treasuries and reserves in it (leave it under the SLR exemption)
    slr_requirement: jax.Array  # [] 5% (3% + 2% eSLR)
    slr_exempt: jax.Array  # [] lever: 1.0 once the exemption is in force
    depth_share: jax.Array  # [] dealers' share of the market's calm depth
    threshold: jax.Array  # [] utilisation above which their impact rises (u_bar)
    capacity_slope: jax.Array  # [] rise of their slope per unit of utilisation above it (kappa / lambda0)
    repo_spread_slope: jax.Array  # [] repo spread to funds per unit utilisation above u_bar (decimal)
    distribute: jax.Array  # [] share of the inventory laid off to end investors each day
    repo_weight: jax.Array  # [] dealers' share of funds' bilateral repo on their balance sheets


class FundingInputs(NamedTuple):
    """The funding market's curve, opening balances (USD tn) and day inputs (each field ``[T]``)."""

    curve: FundingParams
    days: FundingDay
    reserves0: jax.Array  # []
    onrrp0: jax.Array  # []
    tga0: jax.Array  # []
    repo_weight: jax.Array  # [] weight of the funds' and dealers' repo changes in free liquidity


class MoneyFundParams(NamedTuple):
    cash: jax.Array  # []


class OtherSellerParams(NamedTuple):
    """:class:`basislab.sim.sellers.SellerParams` terms the engine uses, plus the holdings."""

    scales: jax.Array  # [3] SOFR-IORB bp, equity drawdown, credit spread bp at S = 1
    rate: jax.Array  # [G] USD bn a day at S = 1
    cap: jax.Array  # [G] USD bn in total
    trigger: jax.Array  # [G] S at which a group starts (and then keeps) selling
    mix: jax.Array  # [K] maturity mix of their sales
    fima: jax.Array  # [] lever: 1.0 while the FIMA repo facility runs (official selling stops)
    holdings: jax.Array  # [K] face held at the start (carved out of the end investors')
    mmf_inflow: jax.Array  # [] government money funds' inflow a day at S = 1 (USD bn; Crane, March 2020)
    prime_outflow: jax.Array  # [] prime money funds' outflow a day at S = 1 (USD bn), met by selling credit
    prime_holdings: jax.Array  # [] prime money funds' CP and CDs at the start (credit units)


class IssuerParams(NamedTuple):
    cash: jax.Array  # [] Treasury General Account


class Params(NamedTuple):
    """Numeric parameters, one group per player (a pytree of float64 arrays, vmappable)."""

    market: MarketParams
    ccp: ClearingParams
    repo: RepoParams
    funds: FundParams
    backstop: BackstopParams
    asset_managers: AssetManagerParams
    investors: InvestorParams
    issuer: IssuerParams
    fed: FedParams
    dealers: DealerEngineParams
    money_funds: MoneyFundParams
    funding: FundingInputs
    other_sellers: OtherSellerParams
