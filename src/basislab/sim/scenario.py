"""Scenarios: YAML files validated by pydantic, presets, ``--set`` overrides, and the conversion
into the engine's static shape and numeric parameters.

Every default names its source in ``json_schema_extra["source"]``: an id of
``shared/reference/system-facts.md`` (e.g. ``bt_size_2025q3``), a paper, or ``assumption`` (each
assumption is discussed in ``docs/model.md``).
"""

from __future__ import annotations

import math
from datetime import date
from importlib import resources
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from basislab.conventions import BUCKETS, ctd_terms, delivery_start
from basislab.errors import ScenarioError

BUCKET_NAMES = BUCKETS


def _require_bucket_keys(name: str, mapping: dict) -> None:
    """A per-bucket mapping must name every bucket, in the engine's order (2y, 5y, 10y, long)."""
    if tuple(mapping) != BUCKET_NAMES:
        raise ValueError(f"{name} must have keys {list(BUCKET_NAMES)} in this order, got {list(mapping)}")


def _f(default: Any, source: str, description: str = "", **kw: Any) -> Any:
    return Field(default, description=description, json_schema_extra={"source": source}, **kw)


def _numeric(annotation: Any) -> bool:
    """Whether a field's type is a number: int, float, an optional one, or a dict of them."""
    if annotation in (int, float):
        return True
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is dict:
        return len(args) == 2 and _numeric(args[1])
    if origin in (Union, UnionType):
        return bool not in args and any(_numeric(a) for a in args if a is not type(None))
    return False


def _strict_number(name: str, value: Any) -> None:
    if isinstance(value, bool) or isinstance(value, str | bytes):
        raise ValueError(f"{name}: {value!r} is not a number; expected a number such as 1.5")


class _Model(BaseModel):
    """Base of every config: unknown keys refused, frozen, finite numbers only, and strict numbers
    (YAML's ``true``/``yes`` or a quoted ``"12"`` is not a number here, as pydantic's lax mode
    would take it)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_lax_numbers(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, field in cls.model_fields.items():
                if name not in data or not _numeric(field.annotation):
                    continue
                value = data[name]
                if isinstance(value, dict):
                    for k, v in value.items():
                        _strict_number(f"{name}.{k}", v)
                elif value is not None:
                    _strict_number(name, value)
        return data


class BucketConfig(_Model):
    """A maturity bucket, represented by its futures contract and cheapest-to-deliver note."""

    root: Literal["TU", "FV", "TY", "US", "UB", "TN", "Z3N"]
    ctd_coupon_pct: float = Field(ge=0.0, le=20.0, json_schema_extra={"source": "TreasuryDirect CTD terms"})
    ctd_maturity: date
    ctd_yield_pct: float = _f(None, "treasury_par_yield_curve_2025 (snapshot)", ge=-2.0, le=20.0)
    yield_vol_bp: float = _f(
        6.0, "ust10y_path_mar2020 (calm-period daily changes)", "daily yield vol, bp", gt=0, le=100
    )
    impact_bp_per_bn: float = _f(
        0.12, "D'Amico & King (2013): 0.07-0.17 bp per USD bn", "yield impact per USD bn sold", ge=0, le=50
    )
    outstanding_usd_bn: float = _f(
        5000.0, "debt_public_2024q3 (28.3tn split across four buckets; assumption)", gt=0
    )
    im_floor_pct: float | None = _f(
        None, "floor = calm-market IM (anti-procyclicality); cme_margin_tu, cme_margin_ty_2011", ge=0, le=50
    )


def _default_buckets() -> dict[str, BucketConfig]:
    return {
        # impact: D'Amico & King (2013) range 0.07-0.17 bp per USD bn, rising with maturity
        "2y": BucketConfig(
            root="TU",
            ctd_coupon_pct=3.5,
            ctd_maturity=date(2027, 10, 31),
            yield_vol_bp=5.0,
            impact_bp_per_bn=0.07,
        ),
        "5y": BucketConfig(
            root="FV",
            ctd_coupon_pct=3.75,
            ctd_maturity=date(2030, 8, 31),
            yield_vol_bp=6.0,
            impact_bp_per_bn=0.10,
        ),
        "10y": BucketConfig(
            root="TY",
            ctd_coupon_pct=4.0,
            ctd_maturity=date(2032, 7, 31),
            yield_vol_bp=6.5,
            impact_bp_per_bn=0.13,
        ),
        "long": BucketConfig(
            root="US",
            ctd_coupon_pct=4.25,
            ctd_maturity=date(2043, 11, 15),
            yield_vol_bp=6.5,
            impact_bp_per_bn=0.17,
        ),
    }


class MarketConfig(_Model):
    delivery_month: str = _f("2025-12", "CME delivery calendar", "YYYY-MM of the futures contracts")
    buckets: dict[str, BucketConfig] = Field(default_factory=_default_buckets)
    sofr_pct: float = _f(4.22, "sofr_oct_nov_2025 / sofr_iorb_oct31_2025", ge=-1, le=20)
    iorb_pct: float = _f(3.90, "sofr_iorb_oct31_2025", ge=-1, le=20)
    yield_corr: float = _f(0.9, "assumption (level factor dominates Treasury moves)", ge=0, le=1)
    impact_stress_slope: float = _f(
        2.0,
        "Duffie, Fleming, Keane, Nelson, Shachar, Van Tassel (2023): illiquidity rises with vol",
        ge=0,
        le=100,
    )
    futures_impact_ratio: float = _f(
        0.5, "fut_market_size_2022 (futures deeper per unwind dollar; assumption)", ge=0, le=10
    )
    resilience_per_day: float = _f(0.1, "assumption (impact half-life about a week)", ge=0, le=1)
    overnight_share: float = _f(
        0.5, "assumption (half of each day's news arrives before the morning window)", ge=0, le=1
    )
    dislocation_half_life_days: float = _f(10.0, "assumption", gt=0, le=1000)
    net_basis_pct_pa: float = _f(
        0.2, "basis_return_2018_2020", "futures richness net of carry, % p.a.", ge=-5, le=5
    )
    other_vol_pct: float = _f(0.5, "assumption (daily vol of the equities leg of other assets)", ge=0, le=20)
    other_impact_pct_per_bn: float = _f(
        0.02, "firesale_impact_default_inet (scaled to a USD bn market; the equities leg)", ge=0, le=10
    )
    credit_vol_pct: float = _f(
        0.1,
        "assumption: calm daily spread return of IG credit (about 1.5 bp of spread x 7 years)",
        ge=0,
        le=20,
    )
    credit_impact_pct_per_bn: float = _f(
        0.04,
        "assumption: credit trades at twice the equities' impact per USD bn (sensitivity row)",
        ge=0,
        le=10,
    )
    credit_duration_years: float = _f(
        7.0, "assumption: spread duration of an IG corporate index (order of the ICE BofA index)", gt=0, le=30
    )
    cross_impact_share: float = _f(
        0.25,
        "assumption: share of one other market's impact felt in the other (Greenwood, Landier & Thesmar "
        "2015 spillovers through common holders; sensitivity row)",
        ge=0,
        le=1,
    )

    @model_validator(mode="after")
    def _buckets_complete(self) -> MarketConfig:
        _require_bucket_keys("buckets", self.buckets)
        y, m = self.delivery_month.split("-") if "-" in self.delivery_month else ("", "")
        if not (len(y) == 4 and y.isdigit() and m.isdigit() and 1 <= int(m) <= 12):
            raise ValueError(f"delivery_month must be YYYY-MM, got {self.delivery_month!r}")
        return self


#: OFR's size cohorts of qualifying hedge funds (top 10, 11-50, 51+), mapped on the model's funds
#: ranked by size: the largest 10%, the next 40%, the rest (:func:`basislab.sim.model.cohort_cash_ratio`)
CASH_COHORTS = ("top10", "next40", "rest")


class FundsConfig(_Model):
    count: int = _f(
        100, "top50_concentration_2020 (a few dozen funds hold most of the trade)", ge=1, le=100_000
    )
    total_position_usd_bn: float = _f(830.0, "bt_size_2025q3", gt=0, le=100_000)
    size_pareto_alpha: float = _f(
        1.2, "top50_concentration_2020 (heavy-tailed sizes; assumption for the tail index)", gt=0.1, le=20
    )
    leverage_median: float = _f(
        56.0, "hf_ust_repo_leverage_dec2022", "gross position / trade equity", ge=1.0, le=500
    )
    leverage_dispersion: float = _f(0.3, "assumption (log-normal spread)", ge=0, le=3)
    bucket_mix: dict[str, float] = _f({"2y": 0.4, "5y": 0.3, "10y": 0.2, "long": 0.1}, "maturity_mix_shorts")
    mix_concentration: float = _f(20.0, "assumption (Dirichlet dispersion of fund mixes)", gt=0, le=1e6)
    bilateral_share: float = _f(0.74, "zero_haircut_share_pf", "share of repo funded bilaterally", gt=0, lt=1)
    bilateral_concentration: float = _f(10.0, "assumption (Beta dispersion)", gt=0, le=1e6)
    min_buffer_pct: float = _f(0.3, "assumption (minimum free liquidity, % of gross position)", ge=0, le=100)
    cash_share: float = _f(0.5, "assumption (free liquidity split cash / bills)", ge=0, le=1)
    other_assets_ratio: float = _f(
        0.5, "hf_balance_sheet_leverage_top50 (multi-strategy books; assumption)", ge=0, le=100
    )
    other_assets_equity_share: float = _f(
        0.5, "assumption: equities' share of the funds' other assets (the rest credit)", ge=0, le=1
    )
    leverage_limit_multiple: float = _f(
        2.0, "Cont & Schaanning (2017) leverage threshold (assumption for the multiple)", gt=1, le=100
    )
    deleverage_target_ratio: float = _f(0.95, "cs_market_depth_example (lambda_target_ratio)", gt=0, le=1)
    oversell: float = _f(0.05, "assumption (safety margin when raising cash)", ge=0, le=1)
    unencumbered_cash_pct: float | None = _f(
        None,
        "hf_cash_ratio_def (OFR unencumbered cash / gross assets): one ratio for every fund; "
        "None: by size cohort (cash_ratio_by_cohort_pct)",
        ge=0,
        lt=100,
    )
    cash_ratio_by_cohort_pct: dict[str, float] = _f(
        {"top10": 2.082, "next40": 7.661, "rest": 6.109},
        "hf_cash_ratio_cohorts_2026q1: OFR Hedge Fund Monitor chart 48, unencumbered cash / gross assets, "
        "gross-asset weighted, top 10 / 11-50 / 51+ qualifying hedge funds, 2026-03-31 (values via a "
        "third-party snapshot of the OFR API; secondary)",
        "unencumbered cash, % of gross assets, of the largest 10% of the model's funds by size, the next "
        "40% and the rest (the model's 100 funds stand for the largest Treasury hedge funds: "
        "top50_concentration_2020)",
    )
    stop_loss_pct: float = _f(
        5.0, "assumption: drawdown of NAV at which a fund starts cutting (3-10%)", gt=0, le=100
    )
    stop_loss_cut: float = _f(
        0.5, "assumption: share of the position cut at twice the stop-loss drawdown", ge=0, le=1
    )
    credit_line_pct: float = _f(
        0.5,
        "assumption: undrawn committed credit lines, % of gross assets (no aggregate figure published; "
        "Form PF Q46: 38.7% of QHF financing repayable within a day, OFR chart 42); docs/model.md section 16",
        ge=0,
        le=100,
    )
    credit_spread_bp: float = _f(150.0, "assumption: drawn lines pay SOFR + this (bp)", ge=0, le=5000)
    redemption_threshold_pct: float = _f(
        5.0, "assumption: performance drawdown of NAV from which investors redeem (%)", ge=0, le=100
    )
    redemption_per_loss: float = _f(
        1.0, "assumption: share of NAV requested per unit of drawdown past the threshold", ge=0, le=100
    )
    redemption_cap_pct: float = _f(
        24.0,
        "hf_investor_liq_2012: SEC's first Form PF report, large hedge funds Q4 2012: 24% of NAV withdrawable "
        "within a month (Form PF Q50 investor liquidity, hf_investor_liq_def; secondary: City A.M.)",
        ge=0,
        le=100,
    )
    redemption_notice_days: int = _f(
        22,
        "assumption: business days from a request to the dealing date (monthly dealing, 30-day notice)",
        ge=1,
        le=400,
    )

    @model_validator(mode="after")
    def _mix(self) -> FundsConfig:
        keys = set(self.cash_ratio_by_cohort_pct)
        if keys != set(CASH_COHORTS):
            raise ValueError(f"cash_ratio_by_cohort_pct needs exactly the keys {', '.join(CASH_COHORTS)}")
        if any(not 0 <= v < 100 for v in self.cash_ratio_by_cohort_pct.values()):
            raise ValueError("cash_ratio_by_cohort_pct values must be >= 0 and < 100")
        _require_bucket_keys("bucket_mix", self.bucket_mix)
        if any(v < 0 for v in self.bucket_mix.values()) or not math.isclose(
            sum(self.bucket_mix.values()), 1.0, abs_tol=1e-6
        ):
            raise ValueError("bucket_mix shares must be >= 0 and sum to 1")
        return self


class SegmentConfig(_Model):
    """A repo segment's terms. Haircuts and refusal shares are a *schedule*: one level per band of
    the stress index (calm, stressed, extreme; bands in :class:`RepoConfig`), set at the lenders'
    reviews (Kruttli, Monin, Petrasek & Watugala 2021: hedge funds' haircuts relatively unchanged
    in March 2020). Levels are made non-decreasing (each at least the one below)."""

    haircut_pct: float = Field(
        ge=-2.0, le=50.0, description="haircut in calm markets; floor -2% (nccbr_haircut_dist)"
    )
    haircut_mid_pct: float = Field(ge=-2.0, le=50.0, description="haircut in the stressed band")
    haircut_max_pct: float = Field(ge=0, le=100, description="haircut in the extreme band")
    refusal_mid: float = Field(ge=0, lt=1, description="share of repo not rolled in the stressed band")
    refusal_max: float = Field(ge=0, lt=1, description="share of repo not rolled in the extreme band")
    spread_bp: float = Field(ge=-100, le=1000, description="repo rate over SOFR")
    source: str = "assumption"


class RepoConfig(_Model):
    bilateral: SegmentConfig = _f(
        SegmentConfig(
            haircut_pct=0.0,
            haircut_mid_pct=1.0,
            haircut_max_pct=2.0,
            refusal_mid=0.0,
            refusal_max=0.1,
            spread_bp=5.0,
            source="zero_haircut_share_pf, nccbr_haircut_dist; unchanged at March-2020 stress (Kruttli et al. 2021); "
            "steps and refusal assumption",
        ),
        "nccbr_haircut_dist",
    )
    triparty: SegmentConfig = _f(
        SegmentConfig(
            haircut_pct=2.0,
            haircut_mid_pct=2.0,
            haircut_max_pct=2.0,
            refusal_mid=0.0,
            refusal_max=0.05,
            spread_bp=0.0,
            source="triparty_haircut, triparty_haircut_sticky (2% regardless of conditions); refusal assumption",
        ),
        "triparty_haircut",
    )
    stress_bands: tuple[float, float] = _f(
        (5.0, 8.0),
        "Kruttli et al. (2021): no change at March 2020's ~4x calm vol; edges beyond it assumption",
    )
    review_days: int = _f(
        5, "assumption: lenders review terms weekly (sensitivity in docs/model.md)", ge=1, le=250
    )
    threshold_usd_bn: float = _f(
        0.0, "GMRA 2011: no threshold unless agreed in Annex I (assumption: none)", ge=0, le=1e3
    )
    min_transfer_usd_bn: float = _f(
        0.001, "assumption: USD 1m (ICMA repo margining practice; value not published)", ge=0, le=1e3
    )
    settle_lag_days: int = _f(
        0,
        "GMRA 2011 para 4(g): a call on the previous close settles that day (assumption: same day)",
        ge=0,
        le=1,
    )
    stress_spread_bp: float = _f(
        0.0,
        "assumption: extra repo spread per unit of stress above 1; zero since the funding market "
        "(SOFR) and the dealers' balance sheets set the rate (docs/mechanisms.md sections 1-2)",
        ge=0,
        le=5000,
    )

    @model_validator(mode="after")
    def _bands(self) -> RepoConfig:
        lo, hi = self.stress_bands
        if not 0 < lo <= hi:
            raise ValueError(f"stress_bands must be increasing and positive, got {list(self.stress_bands)}")
        return self


class ClearingConfig(_Model):
    ewma_lambda: float = _f(0.94, "RiskMetrics (1996) EWMA", gt=0, lt=1)
    z: float = _f(2.33, "99% one-tailed normal quantile", gt=0, le=10)
    mpor_days: float = _f(
        2.0, "CFTC minimum for futures (1-2 days); cme_margin_ty_2011 level check", gt=0, le=20
    )
    default_fund_usd_bn: float = _f(
        10.0, "assumption (CME Base guaranty fund order of magnitude)", ge=0, le=1e5
    )
    intraday_vm_sd: float = _f(
        2.0,
        "assumption: extra intraday VM cycle when a move reaches 2 daily sd (CME, March 2020)",
        gt=0,
        le=100,
    )
    im_band_up: float = _f(
        0.10, "assumption: IM raised when the look-back VaR exceeds it by 10%", ge=0, le=10
    )
    im_band_down: float = _f(
        0.25, "cme_margin_setting_asym: lowered slowly (assumption: 25% band)", ge=0, lt=1
    )
    im_down_share: float = _f(
        0.5, "cme_margin_setting_asym: cut half way to the VaR (assumption)", gt=0, le=1
    )
    im_notice_days: int = _f(
        1, "cme_mar2020_advisory: announced 9 Mar, effective after the close of 10 Mar 2020", ge=0, le=20
    )
    im_review_days: int = _f(
        1,
        "CME may issue advisories any business day (20-085's 9/10 Mar 2020 dates; docs/mechanisms.md)",
        ge=1,
    )


class BackstopConfig(_Model):
    enabled: bool = _f(False, "the counterfactual of model-equations.md section 5")
    ltv_pct: float = _f(10.0, "assumption (enough to bridge margin calls on a hedged book)", ge=0, le=100)
    rate_spread_bp: float = _f(25.0, "assumption (SRF-like rate above SOFR)", ge=-100, le=2000)
    capacity_usd_bn: float = _f(
        500.0, "fed_purchases_mar15_31 (order of the Fed's 2020 response)", ge=0, le=1e6
    )
    trigger_bp: float | None = _f(
        None,
        "assumption: the Fed's lender of last resort acts once cash cheapens this many bp of yield "
        "beyond fundamentals (None: standing from the start, the seed counterfactual)",
        ge=-1e4,
        le=1e4,
    )
    delay_hours: float = _f(
        0.0,
        "assumption: hours from trigger to lending (the seeds: the Fed must act within hours)",
        ge=0,
        le=1e5,
    )


class PurchasesConfig(_Model):
    """The Fed's outright purchases of cash Treasuries (March 2020: up to USD 75bn a day)."""

    enabled: bool = _f(False, "a policy lever (off unless a scenario turns it on)")
    trigger_bp: float = _f(
        25.0,
        "assumption: cash cheapening (bp of yield beyond fundamentals) that triggers purchases",
        ge=-1e4,
        le=1e4,
    )
    delay_hours: float = _f(
        24.0,
        "assumption: 2020 timeline (purchases announced 15 Mar, raised to 75bn/day by 19 Mar)",
        ge=0,
        le=1e5,
    )
    capacity_usd_bn_per_day: float = _f(
        75.0, "fed_purchase_pace_peak: USD 75bn a day, 19 Mar-1 Apr 2020", ge=0
    )
    split: dict[str, float] = _f(
        {"2y": 25.0, "5y": 28.0, "10y": 6.0, "long": 9.0}, "fed_purch_mar19_2020 (ex TIPS) onto the buckets"
    )
    morning_share: float = _f(
        0.5, "assumption: operations ran late morning and early afternoon; half each window", ge=0, le=1
    )

    @model_validator(mode="after")
    def _keys(self) -> PurchasesConfig:
        _require_bucket_keys("split", self.split)
        if any(v < 0 for v in self.split.values()) or sum(self.split.values()) <= 0:
            raise ValueError("split must be >= 0 and not all zero")
        return self


class RepoOperationsConfig(_Model):
    """The Fed's repo operations (September 2019, March 2020): full allotment at a rate over IORB,
    a lever triggered by SOFR - IORB with a delay."""

    enabled: bool = _f(False, "a policy lever (off unless a scenario turns it on)")
    trigger_bp: float = _f(
        50.0,
        "assumption: SOFR - IORB that triggers operations (Sep 2019: 315 bp on the 17th)",
        ge=-1e4,
        le=1e4,
    )
    delay_hours: float = _f(
        4.0, "fed_repo_ops_sep2019: the first operation the morning after the 17 Sep 2019 spike", ge=0, le=1e5
    )
    capacity_usd_bn_per_day: float = _f(
        75.0, "fed_repo_ops_sep2019: USD 75bn overnight operations (1tn a day offered in March 2020)", ge=0
    )
    spread_bp: float = _f(0.0, "fed_repo_ops_sep2019: minimum bid rate at IOER (2.10%)", ge=-100, le=1000)


class FedConfig(_Model):
    """The Fed's levers wired into the engine (docs/model.md, "The Fed"); the lender of last resort
    is the ``backstop`` section with its own trigger and delay."""

    purchases: PurchasesConfig = Field(default_factory=PurchasesConfig)
    repo_operations: RepoOperationsConfig = Field(default_factory=RepoOperationsConfig)
    morning_hour: float = _f(9.0, "docs/model.md section 3: morning repo / margin window", ge=0, lt=24)
    eod_hour: float = _f(16.0, "docs/model.md section 3: end-of-day settlement window", ge=0, lt=24)


class FundingMarketConfig(_Model):
    """The overnight funding market (docs/mechanisms.md section 1): the reserve demand curve of
    a regime, the opening balances and the Standing Repo Facility."""

    regime: Literal["2019", "2025"] = _f(
        "2025", "funding.FundingConfig.preset: each regime's curve calibrated on its own calm window"
    )
    reserves_usd_bn: float = _f(
        2809.5, "FRED WRESBAL + DTS daily deviations (funding.load_2025), 2025-10-31", ge=0, le=1e5
    )
    onrrp_usd_bn: float = _f(19.2, "FRED RRPONTSYD, 2025-10-31", ge=0, le=1e5)
    tga_usd_bn: float = _f(950.0, "assumption: Daily Treasury Statement order, late 2025", ge=0, le=1e5)
    srf_access: bool = _f(True, "srf_params_2021: standing since 28 July 2021 (a lever)")
    srf_spread_bp: float = _f(
        10.0, "srf_params_2025h1: minimum bid rate at the top of the range = IORB + 10 bp", ge=-100, le=1000
    )
    srf_capacity_usd_bn: float = _f(500.0, "srf_params_2021: USD 500bn aggregate limit", ge=0, le=1e5)
    srf_slope_bp_per_bn: float = _f(
        0.2383,
        "calibrated on market series (funding.srf_slope_fit): the SRF's all-in cost IORB + 10 bp + 10 bp "
        "wedge + slope x take-up passes through 2025-10-31 (SOFR - IORB 32 bp, FRED; take-up 50.35bn, "
        "srf_record_oct31_2025): (32 - 20) / 50.35; out of sample docs/mechanisms.md section 1",
        ge=0,
        le=100,
    )
    srf_central_clearing: bool = _f(
        False,
        "lever: SRF repo centrally cleared (FICC): on-lending nets in dealers' leverage exposure and the "
        "balance-sheet slope is zero (assumption: all of srf_slope_bp_per_bn; the stigma wedge stays)",
    )

    @field_validator("regime", mode="before")
    @classmethod
    def _year(cls, value: Any) -> Any:
        """``regime: 2019`` in YAML is a number: read it as the year it names."""
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    repo_weight: float = _f(
        1.0,
        "assumption: the run's own repo (dealers' new inventory, funds' repo repaid) draws on the same "
        "cash one for one (sensitivity in docs/mechanisms.md)",
        ge=0,
        le=10,
    )


class DealersConfig(_Model):
    """Primary dealers under the SLR (docs/mechanisms.md section 2); the balance sheets are
    :class:`basislab.sim.dealers.DealerConfig`'s (JPMorgan and Morgan Stanley 10-Q figures)."""

    depth_share: float = _f(
        0.5, "assumption: dealers give half the calm depth, end investors the rest (sensitivity)", gt=0, lt=1
    )
    capacity_slope: float = _f(
        83.3,
        "dealers.DealerConfig: kappa / lambda0 = 10 / 0.12 per unit of utilisation (Duffie et al. 2023 form)",
        ge=0,
        le=1e4,
    )
    utilisation_threshold: float = _f(
        0.85, "gsib_slr_levels_2016: normal u 0.71-0.83 (assumption above)", gt=0, lt=1
    )
    repo_spread_slope_bp: float = _f(
        200.0, "assumption: bp per unit utilisation above the threshold (He, Nagel & Song 2022 form)", ge=0
    )
    distribute_per_day: float = _f(
        0.2, "Fleming, Nguyen & Rosenberg (FRBNY SR 299): inventory laid off within about a week", ge=0, le=1
    )
    repo_weight: float = _f(
        1.0, "assumption: funds' bilateral repo sits on the dealers' balance sheets", ge=0, le=10
    )
    slr_exempt: bool = _f(False, "slr_exemption_2020 (1 April 2020 - 31 March 2021): a lever")
    money_fund_cash_usd_bn: float = _f(
        2000.0, "assumption: government money funds' cash available for tri-party repo", ge=0, le=1e5
    )


class OtherSellersConfig(_Model):
    """Foreign investors and bond mutual funds (docs/mechanisms.md section 5): rates and caps are
    :class:`basislab.sim.sellers.SellerConfig`'s (TIC, ICI); they sell only under dollar stress."""

    holdings_usd_bn: float = _f(
        9000.0,
        "assumption sized on TIC (foreign holdings ~USD 8.5-9tn, 2025) plus bond funds; carved out of the "
        "end investors' holdings (at most half of each bucket)",
        ge=0,
        le=1e5,
    )
    fima: bool = _f(
        False, "fima_2020: the FIMA repo facility (6 April 2020) stops official selling (a lever)"
    )
    scale: float = _f(
        1.0, "assumption: multiplies the March-2020 rates and caps (sensitivity row)", ge=0, le=10
    )
    min_trigger: float = _f(
        0.1,
        "assumption: below a tenth of March 2020's stress (noise in calm markets) no group sells",
        ge=0,
        le=10,
    )
    prime_mmf_holdings_usd_bn: float = _f(
        1000.0,
        "assumption: prime money funds' CP and CDs, order of their assets in early 2020 (ICI); they sell "
        "them to meet outflows (mmf_flows_mar2020_crane, prime_mmf_behaviour)",
        ge=0,
        le=1e5,
    )


class ShockConfig(_Model):
    start_day: int = _f(5, "assumption", ge=0)
    duration_days: int = _f(7, "ust10y_rise_mar9_18 (Mar 9-18 2020: 7 business days)", ge=1)
    yield_bp: dict[str, float] = _f(
        {"2y": 35.0, "5y": 55.0, "10y": 64.0, "long": 60.0},
        "ust10y_rise_mar9_18 (10y); ust30y_apr2025_week (long); assumption (2y, 5y)",
    )
    cash_dislocation_bp: dict[str, float] = _f(
        {"2y": 15.0, "5y": 40.0, "10y": 60.0, "long": 90.0},
        "Schrimpf, Shin & Sushko (2020, BIS Bulletin 2): cash cheapened vs futures (assumption for size)",
    )
    other_assets_pct: float = _f(
        0.0,
        "model-equations.md section 6 (dash for cash; -12.7 is the S&P 500 over 9-18 March 2020, "
        "sellers.SPX_MAR9_18_2020, as an input option)",
        ge=-99,
        le=1000,
    )
    credit_spread_bp: float = _f(
        0.0, "ig_hy_spreads_mar2020 (IG 101 -> 303 bp in March 2020) as an input option", ge=-1000, le=5000
    )
    vol_multiplier: float = _f(3.0, "ust10y_path_mar2020 (daily moves 3x calm)", ge=0, le=100)

    @model_validator(mode="after")
    def _keys(self) -> ShockConfig:
        for name in ("yield_bp", "cash_dislocation_bp"):
            _require_bucket_keys(name, getattr(self, name))
        return self


class PlayersConfig(_Model):
    am_cash_usd_bn: float = _f(300.0, "assumption (asset managers' liquidity for VM)", ge=0)
    lender_cash_usd_bn: dict[str, float] = _f(
        {"bilateral": 2000.0, "triparty": 1500.0},
        "hf_repo_q4_2024 (lenders able to fund 2.5tn; assumption for the split)",
    )
    investor_cash_usd_bn: float = _f(5000.0, "assumption (end investors' cash)", ge=0)
    investor_bills_usd_bn: float = _f(6000.0, "assumption (bills outstanding order)", ge=0)
    investor_other_usd_bn: float = _f(10000.0, "assumption (end investors' equities)", ge=0)
    investor_credit_usd_bn: float = _f(10000.0, "assumption (end investors' credit, order of US IG)", ge=0)
    issuer_cash_usd_bn: float = _f(800.0, "assumption (TGA order of magnitude)", ge=0)

    @field_validator("lender_cash_usd_bn", mode="before")
    @classmethod
    def _lender_keys(cls, value: Any) -> Any:
        """Keys bilateral and triparty only (a misspelt key is refused, not read as zero); a key not
        given keeps its default; amounts >= 0."""
        if not isinstance(value, dict):
            return value
        unknown = sorted(set(map(str, value)) - {"bilateral", "triparty"})
        if unknown:
            raise ValueError(f"lender_cash_usd_bn has unknown key(s) {unknown}; expected bilateral, triparty")
        for k, v in value.items():
            if isinstance(v, int | float) and not isinstance(v, bool) and v < 0:
                raise ValueError(f"lender_cash_usd_bn.{k} must be >= 0, got {v}")
        return {"bilateral": 2000.0, "triparty": 1500.0, **value}


class EngineConfig(_Model):
    fixed_point_iterations: int = _f(3, "assumption (uniform-price clearing of each window)", ge=1, le=20)
    record_distribution: bool = True


class Scenario(_Model):
    """A complete simulation scenario."""

    name: str = Field(min_length=1, max_length=120)
    description: str = ""
    horizon_days: int = _f(60, "days to the delivery month (a quarterly cycle; assumption)", ge=2, le=5000)
    paths: int = _f(32, "assumption", ge=1, le=1_000_000)
    seed: int = _f(0, "assumption", ge=0, le=2**32 - 1)
    compare_backstop: bool = False
    market: MarketConfig = Field(default_factory=MarketConfig)
    funds: FundsConfig = Field(default_factory=FundsConfig)
    repo: RepoConfig = Field(default_factory=RepoConfig)
    clearing: ClearingConfig = Field(default_factory=ClearingConfig)
    backstop: BackstopConfig = Field(default_factory=BackstopConfig)
    fed: FedConfig = Field(default_factory=FedConfig)
    shock: ShockConfig = Field(default_factory=ShockConfig)
    funding: FundingMarketConfig = Field(default_factory=FundingMarketConfig)
    dealers: DealersConfig = Field(default_factory=DealersConfig)
    other_sellers: OtherSellersConfig = Field(default_factory=OtherSellersConfig)
    players: PlayersConfig = Field(default_factory=PlayersConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    context: dict[str, Any] = Field(default_factory=dict, description="provenance of initial conditions")

    @model_validator(mode="after")
    def _shock_in_horizon(self) -> Scenario:
        if self.shock.start_day + self.shock.duration_days > self.horizon_days:
            raise ValueError(
                f"shock days {self.shock.start_day}..{self.shock.start_day + self.shock.duration_days} "
                f"exceed horizon_days={self.horizon_days}"
            )
        return self


# ----------------------------------------------------------------------------------------------
# loading


def _format_validation(exc: ValidationError, where: str) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        msg = err["msg"].removeprefix("Value error, ")
        inp = err.get("input")
        shown = "" if isinstance(inp, dict | list) or inp is None else f" (got {inp!r})"
        lines.append(f"{where}: {loc}: {msg}{shown}")
    return "\n".join(lines)


def presets_dir() -> Path:
    return Path(str(resources.files("basislab.sim") / "presets"))


def list_presets() -> list[str]:
    return sorted(p.stem for p in presets_dir().glob("*.yaml"))


def _read_yaml(path: Path) -> dict:
    """A scenario file's mapping, read strictly (:mod:`basislab.yamlio`: encodings, duplicate
    keys, aliases, size, depth). A file that does not end with a newline is refused as truncated
    (a cut mid-line can leave a wrong number that still parses)."""
    from basislab.yamlio import decode, load_file

    data = load_file(path)
    if data is None:
        raise ScenarioError(f"scenario file {path.name} is empty; expected a mapping of fields (name: ...)")
    if not isinstance(data, dict):
        raise ScenarioError(
            f"scenario file {path.name} must hold a mapping of fields, got {type(data).__name__}"
        )
    text = decode(path.read_bytes(), path.name)
    if not text.endswith(("\n", "\r")):
        last = text.rstrip().splitlines()[-1][:60] if text.strip() else ""
        raise ScenarioError(
            f"scenario file {path.name} does not end with a newline, so it may be truncated "
            f"(last line {last!r}); complete it, ending with a newline"
        )
    return data


def raw_scenario(name_or_path: str | Path) -> dict:
    """The unvalidated mapping of a preset name or a YAML path."""
    p = Path(str(name_or_path))
    if p.suffix in (".yaml", ".yml") or p.exists():
        if not p.exists():
            raise ScenarioError(f"scenario file {p} does not exist")
        return _read_yaml(p)
    candidate = presets_dir() / f"{name_or_path}.yaml"
    if not candidate.exists():
        raise ScenarioError(
            f"unknown scenario {str(name_or_path)!r}; presets: {', '.join(list_presets())}, "
            "today[@YYYY-MM-DD] (from data), an episode (calm-2019h1, sep-2019, mar-2020, apr-2025, "
            "late-2025), or a path to a .yaml file"
        )
    return _read_yaml(candidate)


def _override_value(item: str, text: str) -> Any:
    """A ``--set`` value: an int or float as Python reads it (``1e3``, which YAML 1.1 reads as a
    string), else a strict YAML scalar or flow value."""
    from basislab.yamlio import load_text

    stripped = text.strip()
    for conv in (int, float):
        try:
            value = conv(stripped)
        except ValueError:
            continue
        if isinstance(value, float) and not math.isfinite(value):
            raise ScenarioError(f"--set {item!r}: value is not a finite number")
        return value
    try:
        return load_text(text, f"--set {item!r}")
    except ScenarioError as exc:
        raise ScenarioError(f"--set {item!r}: value is not valid YAML ({exc})") from None


def apply_overrides(data: dict, overrides: list[str] | tuple[str, ...] = ()) -> dict:
    """Apply ``path.to.param=value`` overrides (values parsed as YAML scalars) to a raw mapping."""
    import copy

    data = copy.deepcopy(data)
    for item in overrides:
        if "=" not in item:
            raise ScenarioError(f"--set {item!r}: expected path.to.param=value")
        path, _, text = item.partition("=")
        keys = [k for k in path.strip().split(".") if k]
        if not keys:
            raise ScenarioError(f"--set {item!r}: empty parameter path")
        value = _override_value(item, text)
        node = data
        for k in keys[:-1]:
            nxt = node.get(k)
            if nxt is None:
                nxt = node[k] = {}
            if not isinstance(nxt, dict):
                raise ScenarioError(f"--set {item!r}: {k!r} is not a section")
            node = nxt
        node[keys[-1]] = value
    return data


def validate(data: dict, where: str = "scenario") -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_format_validation(exc, where)) from None


def load_scenario(name_or_path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Scenario:
    """Load a preset (by name), a YAML file or ``today[@DATE]`` (built from the data store), apply
    ``--set`` overrides, validate."""
    from basislab.sim.episodes import is_episode

    if is_episode(str(name_or_path)):  # a replay's news paths live in its params, not a Scenario
        raise ScenarioError(
            f"{name_or_path} is an episode replay: run it with `basislab simulate {name_or_path}` or "
            f"`basislab validate {name_or_path}` (basislab.sim.episodes), not as a plain scenario"
        )
    if str(name_or_path) == TODAY or str(name_or_path).startswith(TODAY + "@"):
        return scenario_from_data(str(name_or_path), overrides)
    data = apply_overrides(raw_scenario(name_or_path), overrides)
    return validate(data, f"scenario {Path(str(name_or_path)).stem!r}")


def with_backstop(sc: Scenario, enabled: bool) -> Scenario:
    return sc.model_copy(update={"backstop": sc.backstop.model_copy(update={"enabled": enabled})})


# ----------------------------------------------------------------------------------------------
# initial conditions from data (the data layer's ``initial_conditions`` dict)


def scenario_from_initial_conditions(
    ic: dict, base: str = "seed-thesis", overrides: list[str] | tuple[str, ...] = ()
) -> Scenario:
    """Build a scenario from ``basislab.data.feeds.initial_conditions()``-shaped dict ``ic``.

    Uses ``basis_positions_usd_bn`` (bucket -> USD bn) for the size and mix of the book,
    ``sofr_pct`` and ``iorb_pct`` for funding rates, and keeps the system quantities (reserves,
    ON RRP, Fed holdings) and ``sources`` in ``context`` for the Fed and dealer players to come.
    ``overrides`` (``path.to.param=value``) apply on top, as ``--set`` does for presets.
    """
    required = ("date", "basis_positions_usd_bn", "sofr_pct", "iorb_pct")
    missing = [k for k in required if k not in ic]
    if missing:
        raise ScenarioError(f"initial conditions lack {', '.join(missing)}")
    pos = ic["basis_positions_usd_bn"]
    if not isinstance(pos, dict) or set(pos) != set(BUCKET_NAMES):
        raise ScenarioError(f"basis_positions_usd_bn must map {list(BUCKET_NAMES)} to USD bn, got {pos!r}")
    vals = {k: float(pos[k]) for k in BUCKET_NAMES}
    if any(not math.isfinite(v) or v < 0 for v in vals.values()) or sum(vals.values()) <= 0:
        raise ScenarioError(f"basis_positions_usd_bn must be finite, >= 0 and not all zero, got {vals}")
    total = sum(vals.values())
    data = raw_scenario(base)
    data["name"] = f"{data.get('name', base)}@{ic['date']}"
    data.setdefault("funds", {})
    data["funds"]["total_position_usd_bn"] = total
    data["funds"]["bucket_mix"] = {k: v / total for k, v in vals.items()}
    data.setdefault("market", {})
    data["market"]["sofr_pct"] = ic["sofr_pct"]
    data["market"]["iorb_pct"] = ic["iorb_pct"]
    data["context"] = {
        "date": str(ic["date"]),
        **{k: ic[k] for k in ("reserves_usd_bn", "onrrp_usd_bn", "fed_treasury_holdings_usd_bn") if k in ic},
        "sources": ic.get("sources", {}),
    }
    return validate(apply_overrides(data, overrides), f"initial conditions {ic['date']}")


#: Scenario names built from data rather than read from a preset: ``today`` (the latest date with
#: every input in the store) or ``today@YYYY-MM-DD``.
TODAY = "today"


def scenario_from_data(name: str, overrides: list[str] | tuple[str, ...] = ()) -> Scenario:
    """``today`` or ``today@YYYY-MM-DD``: the ``seed-thesis`` book sized and priced from the data
    store (:func:`basislab.data.feeds.initial_conditions`: CFTC leveraged-fund positions by
    bucket, SOFR, IORB, reserves, ON RRP, Fed holdings)."""
    from basislab.data.feeds import initial_conditions

    _, _, when = name.partition("@")
    return scenario_from_initial_conditions(initial_conditions(when or None), overrides=overrides)


# ----------------------------------------------------------------------------------------------
# conversion to the engine's inputs


def bucket_terms(sc: Scenario) -> dict[str, np.ndarray]:
    """Price, modified duration, conversion factor and coupon of each bucket's CTD at the start of
    the delivery month, through the analytics bond math (:func:`basislab.conventions.ctd_terms`)."""
    start = delivery_start(sc.market.delivery_month)
    out: dict[str, list[float]] = {"p0": [], "dmod": [], "cf": [], "coupon": []}
    for name, b in sc.market.buckets.items():
        if (b.ctd_maturity - start).days / 365.25 <= 0.25:
            raise ScenarioError(
                f"market.buckets.{name}.ctd_maturity {b.ctd_maturity} is before the delivery month"
            )
        try:
            t = ctd_terms(b.root, b.ctd_coupon_pct, b.ctd_maturity, sc.market.delivery_month, b.ctd_yield_pct)
        except ValueError as exc:
            raise ScenarioError(f"market.buckets.{name}: {exc}") from None
        out["p0"].append(t.clean_price)
        out["dmod"].append(t.modified_duration)
        out["cf"].append(t.conversion_factor)
        out["coupon"].append(t.coupon)
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}


def dealer_params(sc: Scenario):
    """The dealers' engine parameters: :class:`basislab.sim.dealers.DealerConfig`'s balance sheets
    with the scenario's ``dealers`` section."""
    from basislab.sim.dealers import DealerConfig
    from basislab.sim.players import DealerEngineParams

    cfg, d = DealerConfig(), sc.dealers
    a = lambda v: np.asarray(v, dtype=np.float64) * cfg.sector_scale  # noqa: E731
    f = np.float64
    return DealerEngineParams(
        tier1=a(cfg.tier1_bn),
        exposure0=a(cfg.exposure_bn),
        exempt_base=a(cfg.inventory_bn) + a(cfg.reserves_bn),
        slr_requirement=f(cfg.slr_requirement_pct / 100.0),
        slr_exempt=f(1.0 if d.slr_exempt else 0.0),
        depth_share=f(d.depth_share),
        threshold=f(d.utilisation_threshold),
        capacity_slope=f(d.capacity_slope),
        repo_spread_slope=f(d.repo_spread_slope_bp / 1e4),
        distribute=f(d.distribute_per_day),
        repo_weight=f(d.repo_weight),
    )


def other_seller_params(sc: Scenario):
    """Foreign investors' and mutual funds' engine parameters (:class:`basislab.sim.sellers.SellerConfig`
    rates and caps, times ``other_sellers.scale``), holdings spread over the buckets like the
    amounts outstanding; money funds' flows (government inflow, prime outflow) at ``S = 1``."""
    from basislab.sim.players import OtherSellerParams
    from basislab.sim.sellers import SellerConfig

    os_ = sc.other_sellers
    sp = SellerConfig().params(fima=os_.fima)
    out = np.array([b.outstanding_usd_bn for b in sc.market.buckets.values()], dtype=np.float64)
    hold = np.minimum(os_.holdings_usd_bn * out / max(out.sum(), 1e-9), 0.5 * out)
    return OtherSellerParams(
        scales=np.asarray(sp.scales),
        rate=np.asarray(sp.rate) * os_.scale,
        cap=np.asarray(sp.cap) * os_.scale,
        trigger=np.maximum(np.asarray(sp.trigger), os_.min_trigger),
        mix=np.asarray(sp.mix),
        fima=np.float64(sp.fima),
        holdings=hold,
        mmf_inflow=np.float64(np.asarray(sp.mmf_rate)[0] * os_.scale),
        prime_outflow=np.float64(-np.asarray(sp.mmf_rate)[1] * os_.scale),
        prime_holdings=np.float64(os_.prime_mmf_holdings_usd_bn),
    )


def cash_ratios(funds: FundsConfig) -> np.ndarray:
    """[3] unencumbered cash / gross assets of the size cohorts (:data:`CASH_COHORTS`): one
    ratio for all when ``unencumbered_cash_pct`` is set, else OFR's cohort ratios."""
    if funds.unencumbered_cash_pct is not None:
        return np.full(len(CASH_COHORTS), funds.unencumbered_cash_pct / 100)
    return np.array([funds.cash_ratio_by_cohort_pct[c] / 100 for c in CASH_COHORTS])


def funding_inputs(n_steps: int, sc: Scenario | None = None, **days: Any):
    """The funding market's engine inputs (:class:`basislab.sim.players.FundingInputs`) for a run of
    ``n_steps`` business days: the scenario's ``funding`` section (its regime's curve, opening
    balances, SRF terms) and flat day inputs (IORB from ``market.iorb_pct``, no settlements, no
    receipts, no Fed repo), each replaceable by an array of length ``n_steps`` passed by name
    (a field of :class:`basislab.sim.funding.FundingDay`: ``iorb_pct``, ``onrrp_rate_pct``,
    ``srf_rate_pct`` (``1e6``: no SRF), ``coupon_settlement``, ``treasury_net_receipts`` (all
    autonomous drains of reserves, USD tn), ``onrrp_change``, ``fed_repo`` (the Fed's repo
    operations as they happened, outstanding, USD tn), ``month_end``, ``quarter_end``,
    ``year_end``) or an opening balance (``reserves0``, ``onrrp0``, ``tga0``, USD tn) or ``curve``
    (a :class:`basislab.sim.funding.FundingConfig`)."""
    from basislab.sim.funding import FundingConfig, FundingDay
    from basislab.sim.players import FundingInputs

    sc = sc or Scenario(name="funding")
    fm = sc.funding
    cfg = days.pop("curve", None) or FundingConfig.preset(fm.regime)
    cfg = cfg.model_copy(
        update={
            "srf_capacity_tn": fm.srf_capacity_usd_bn / 1000.0,
            "srf_slope_bp_per_bn": fm.srf_slope_bp_per_bn,
            "srf_central_clearing": float(fm.srf_central_clearing),
        }
    )
    iorb = sc.market.iorb_pct
    flat = {
        "iorb_pct": iorb,
        "onrrp_rate_pct": iorb - 0.15,
        "srf_rate_pct": iorb + fm.srf_spread_bp / 100.0 if fm.srf_access else 1e6,
        "coupon_settlement": 0.0,
        "treasury_net_receipts": 0.0,
        "onrrp_change": 0.0,
        "fed_repo": 0.0,
        "month_end": 0.0,
        "quarter_end": 0.0,
        "year_end": 0.0,
    }
    opening = {k: days.pop(k, None) for k in ("reserves0", "onrrp0", "tga0")}
    unknown = set(days) - set(flat)
    if unknown:
        raise ScenarioError(f"funding_inputs: unknown input(s) {sorted(unknown)}; expected {sorted(flat)}")
    cols = {}
    for k, v in flat.items():
        arr = np.asarray(days.get(k, v), dtype=np.float64)
        arr = np.full(n_steps, float(arr)) if arr.ndim == 0 else arr
        if arr.shape != (n_steps,) or not np.all(np.isfinite(arr)):
            raise ScenarioError(
                f"funding_inputs: {k} must be {n_steps} finite numbers, got shape {arr.shape}"
            )
        cols[k] = arr
    f = np.float64
    return FundingInputs(
        curve=cfg.params(),
        days=FundingDay(**cols),
        reserves0=f(fm.reserves_usd_bn / 1000.0 if opening["reserves0"] is None else opening["reserves0"]),
        onrrp0=f(fm.onrrp_usd_bn / 1000.0 if opening["onrrp0"] is None else opening["onrrp0"]),
        tga0=f(fm.tga_usd_bn / 1000.0 if opening["tga0"] is None else opening["tga0"]),
        repo_weight=f(fm.repo_weight),
    )


def to_engine(sc: Scenario):
    """``(Params, Static)`` of a scenario."""
    from basislab.sim.players import (
        AssetManagerParams,
        BackstopParams,
        ClearingParams,
        FedParams,
        FundParams,
        InvestorParams,
        IssuerParams,
        MarketParams,
        MoneyFundParams,
        Params,
        RepoParams,
        Static,
    )

    T = sc.horizon_days
    bt = bucket_terms(sc)
    bks = list(sc.market.buckets.values())
    segs = (sc.repo.bilateral, sc.repo.triparty)
    sofr = sc.market.sofr_pct / 100
    spreads = np.array([s.spread_bp for s in segs]) / 1e4
    b = sc.funds.bilateral_share
    repo_avg = sofr + b * spreads[0] + (1 - b) * spreads[1]
    current_yield = bt["coupon"] * 100 / bt["p0"]
    years = T / 252.0
    # gross basis = carry to delivery - net basis richness (so holding to delivery earns the net)
    rho = (current_yield - repo_avg) * years - sc.market.net_basis_pct_pa / 100 * years
    sigma_y = np.array([x.yield_vol_bp for x in bks]) / 1e4
    impact_cash = bt["dmod"] * np.array([x.impact_bp_per_bn for x in bks]) / 1e4
    calm_im = sc.clearing.z * bt["dmod"] * sigma_y * math.sqrt(sc.clearing.mpor_days)
    floors = np.array(
        [calm_im[i] if x.im_floor_pct is None else x.im_floor_pct / 100 for i, x in enumerate(bks)]
    )

    sh = sc.shock
    days = np.zeros(T)
    days[sh.start_day : sh.start_day + sh.duration_days] = 1.0
    per_day = days / sh.duration_days
    dy = per_day[:, None] * np.array([sh.yield_bp[k] for k in BUCKET_NAMES]) / 1e4
    dx = per_day[:, None] * np.array([sh.cash_dislocation_bp[k] for k in BUCKET_NAMES]) / 1e4
    # other assets' news: equities' return; credit's price return -D x spread change (log)
    dcredit = -sc.market.credit_duration_years * per_day * sh.credit_spread_bp / 1e4
    dother = np.stack([per_day * math.log1p(sh.other_assets_pct / 100), dcredit], axis=1)
    volmult = np.where(days > 0, sh.vol_multiplier, 1.0)
    mix = np.array([sc.funds.bucket_mix[k] for k in BUCKET_NAMES])
    pu, bsc, ro = sc.fed.purchases, sc.backstop, sc.fed.repo_operations
    split = np.array([pu.split[k] for k in BUCKET_NAMES], dtype=np.float64)

    f = np.float64
    params = Params(
        market=MarketParams(
            p0=bt["p0"],
            dmod=bt["dmod"],
            cf=bt["cf"],
            coupon=bt["coupon"],
            rho=rho,
            sigma_y=sigma_y,
            yield_corr=f(sc.market.yield_corr),
            impact_cash=impact_cash,
            impact_fut=impact_cash * sc.market.futures_impact_ratio,
            impact_stress=f(sc.market.impact_stress_slope),
            resilience=f(sc.market.resilience_per_day),
            overnight_share=f(sc.market.overnight_share),
            disloc_decay=f(1 - 0.5 ** (1 / sc.market.dislocation_half_life_days)),
            sigma_other=np.array([sc.market.other_vol_pct, sc.market.credit_vol_pct]) / 100,
            impact_other=np.array([sc.market.other_impact_pct_per_bn, sc.market.credit_impact_pct_per_bn])
            / 100,
            other_cross=np.array(
                [[1.0, sc.market.cross_impact_share], [sc.market.cross_impact_share, 1.0]], dtype=f
            ),
            credit_duration=f(sc.market.credit_duration_years),
            dy=dy,
            dx=dx,
            dother=dother,
            volmult=volmult,
            outstanding=np.array([x.outstanding_usd_bn for x in bks], dtype=f),
            horizon_days=f(T),
        ),
        ccp=ClearingParams(
            ewma_lambda=f(sc.clearing.ewma_lambda),
            im_z=f(sc.clearing.z),
            im_mpor=f(sc.clearing.mpor_days),
            im_floor=floors,
            default_fund=f(sc.clearing.default_fund_usd_bn),
            intraday_sd=f(sc.clearing.intraday_vm_sd),
            band_up=f(sc.clearing.im_band_up),
            band_down=f(sc.clearing.im_band_down),
            down_share=f(sc.clearing.im_down_share),
            notice_days=f(sc.clearing.im_notice_days),
            im_review_days=f(sc.clearing.im_review_days),
        ),
        repo=RepoParams(
            haircut_levels=np.maximum.accumulate(
                np.array([[x.haircut_pct, x.haircut_mid_pct, x.haircut_max_pct] for x in segs]) / 100, axis=1
            ),
            refusal_levels=np.maximum.accumulate(
                np.array([[0.0, x.refusal_mid, x.refusal_max] for x in segs], dtype=f), axis=1
            ),
            stress_bands=np.array(sc.repo.stress_bands, dtype=f),
            review_days=f(sc.repo.review_days),
            threshold=f(sc.repo.threshold_usd_bn),
            min_transfer=f(sc.repo.min_transfer_usd_bn),
            settle_lag=f(sc.repo.settle_lag_days),
            spread=spreads,
            stress_spread=f(sc.repo.stress_spread_bp / 1e4),
            sofr=f(sofr),
            cash=np.array(
                [sc.players.lender_cash_usd_bn.get(k, 0.0) for k in ("bilateral", "triparty")], dtype=f
            ),
        ),
        funds=FundParams(
            total_position=f(sc.funds.total_position_usd_bn),
            pareto_alpha=f(sc.funds.size_pareto_alpha),
            lev_median=f(sc.funds.leverage_median),
            lev_sigma=f(sc.funds.leverage_dispersion),
            mix=mix,
            mix_conc=f(sc.funds.mix_concentration),
            bilat_share=f(b),
            bilat_conc=f(sc.funds.bilateral_concentration),
            min_buffer=f(sc.funds.min_buffer_pct / 100),
            cash_share=f(sc.funds.cash_share),
            other_ratio=f(sc.funds.other_assets_ratio),
            other_mix=np.array(
                [sc.funds.other_assets_equity_share, 1.0 - sc.funds.other_assets_equity_share]
            ),
            lev_limit_mult=f(sc.funds.leverage_limit_multiple),
            lev_target_ratio=f(sc.funds.deleverage_target_ratio),
            oversell=f(sc.funds.oversell),
            cash_ratio=cash_ratios(sc.funds),
            stop_loss=f(sc.funds.stop_loss_pct / 100),
            stop_cut=f(sc.funds.stop_loss_cut),
            credit_line_ratio=f(sc.funds.credit_line_pct / 100),
            credit_spread=f(sc.funds.credit_spread_bp / 1e4),
            redeem_threshold=f(sc.funds.redemption_threshold_pct / 100),
            redeem_per_loss=f(sc.funds.redemption_per_loss),
            redeem_cap=f(sc.funds.redemption_cap_pct / 100),
            redeem_notice=f(sc.funds.redemption_notice_days),
            n_active=f(sc.funds.count),
        ),
        backstop=BackstopParams(
            on=f(1.0 if sc.backstop.enabled else 0.0),
            ltv=f(sc.backstop.ltv_pct / 100),
            rate=f(sofr + sc.backstop.rate_spread_bp / 1e4),
            cash=f(sc.backstop.capacity_usd_bn),
        ),
        asset_managers=AssetManagerParams(cash=f(sc.players.am_cash_usd_bn)),
        investors=InvestorParams(
            cash=f(sc.players.investor_cash_usd_bn),
            bills=f(sc.players.investor_bills_usd_bn),
            other_assets=np.array(
                [sc.players.investor_other_usd_bn, sc.players.investor_credit_usd_bn], dtype=f
            ),
        ),
        issuer=IssuerParams(cash=f(sc.players.issuer_cash_usd_bn)),
        fed=FedParams(
            enabled=np.array([1.0 if pu.enabled else 0.0, 1.0, 1.0 if ro.enabled else 0.0]),
            threshold_bp=np.array(
                [pu.trigger_bp, -1e9 if bsc.trigger_bp is None else bsc.trigger_bp, ro.trigger_bp]
            ),
            delay_hours=np.array([pu.delay_hours, bsc.delay_hours, ro.delay_hours], dtype=f),
            purchase_capacity=pu.capacity_usd_bn_per_day * split / split.sum(),
            morning_share=f(pu.morning_share),
            morning_hour=f(sc.fed.morning_hour),
            eod_hour=f(sc.fed.eod_hour),
            repo_ops_capacity=f(ro.capacity_usd_bn_per_day / 1000.0),
            repo_ops_spread_bp=f(ro.spread_bp),
            scheduled_purchases=np.zeros((T, len(bks))),
        ),
        dealers=dealer_params(sc),
        money_funds=MoneyFundParams(cash=f(sc.dealers.money_fund_cash_usd_bn)),
        funding=funding_inputs(T, sc),
        other_sellers=other_seller_params(sc),
    )
    static = Static(
        n_funds=sc.funds.count,
        n_steps=T,
        fp_iters=sc.engine.fixed_point_iterations,
        record_distribution=sc.engine.record_distribution,
    )
    outstanding = params.market.outstanding
    if np.any(outstanding < 0) or sc.funds.total_position_usd_bn * np.max(mix) > np.sum(outstanding):
        raise ScenarioError("market.buckets.*.outstanding_usd_bn must exceed the funds' holdings")
    return params, static
