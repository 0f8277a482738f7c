"""Bad input to the analytics API: a typed BasislabError with one line saying what is wrong and
what is expected; never a traceback from deep inside, never a silent wrong number."""

from datetime import date

import pandas as pd
import pytest

from basislab.analytics import conversion_factor, deliverable_basket, dlv
from basislab.errors import (
    BasislabError,
    BondError,
    DeliveryMonthError,
    NotDeliverableError,
    PriceDataError,
    UnknownContractError,
)

SETTLE = date(2024, 6, 27)


@pytest.fixture(scope="module")
def basket():
    return deliverable_basket("TY", "2024-09")


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and "expected" in text
    return text


def test_unknown_contract(basket):
    with pytest.raises(UnknownContractError) as e:
        dlv("ZZ", "2024-09", 110.0, basket, SETTLE, 5.0)
    assert "'ZZ'" in _one_line(e.value)
    with pytest.raises(UnknownContractError):
        conversion_factor("ZN", 4.0, date(2031, 5, 15), "2024-09")


@pytest.mark.parametrize("month", ["2024-13", "Sept 2024", "24-09", "", "2024-08"])
def test_unresolvable_delivery_month(basket, month):
    with pytest.raises(DeliveryMonthError) as e:
        dlv("TY", month, 110.0, basket, SETTLE, 5.0)
    _one_line(e.value)


def test_bond_outside_basket_names_cusip_and_rule(basket):
    outside = deliverable_basket("US", "2024-09").head(1)
    bonds = pd.concat([basket, outside], ignore_index=True)
    with pytest.raises(NotDeliverableError) as e:
        dlv("TY", "2024-09", 110.0625, bonds, SETTLE, 5.34)
    text = str(e.value)
    assert outside["cusip"].iloc[0] in text and "6y6m" in text and "\n" not in text
    assert "deliverable_basket" in text


def test_original_term_unknown_is_not_guessed():
    bonds = pd.DataFrame(
        {
            "cusip": ["XXXXXXXX1"],
            "coupon_pct": [4.375],
            "maturity": [date(2028, 11, 30)],
            "clean_price": [100.0],
        }
    )
    with pytest.raises(NotDeliverableError, match="original term is unknown"):
        dlv("FV", "2024-09", 106.5, bonds, SETTLE, 5.34)
    bonds["issue_date"] = [date(2023, 11, 30)]  # a 5-year note: now checkable and deliverable
    assert len(dlv("FV", "2024-09", 106.5, bonds, SETTLE, 5.34)) == 1


def test_matured_bond_is_not_deliverable(basket):
    bonds = basket.head(1).copy()
    bonds["maturity"] = [date(2024, 8, 15)]
    with pytest.raises(NotDeliverableError):
        dlv("TY", "2024-09", 110.0625, bonds, SETTLE, 5.34)


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda b: b.iloc[0:0], "no bonds"),
        (lambda b: b.drop(columns=["clean_price"]), "lacks column"),
        (lambda b: b.assign(clean_price=0.0), "not positive"),
        (lambda b: b.assign(clean_price=-99.0), "not positive"),
        (lambda b: b.assign(clean_price="abc"), "not a number"),
        (lambda b: b.assign(clean_price=float("nan")), "not a number"),
        (lambda b: b.assign(coupon_pct=-1.0), "coupon"),
        (lambda b: b.assign(maturity="31/05/2031"), "not a date"),
    ],
)
def test_malformed_bond_table(basket, mutate, match):
    with pytest.raises(PriceDataError, match=match) as e:
        dlv("TY", "2024-09", 110.0625, mutate(basket.copy()), SETTLE, 5.34)
    _one_line(e.value)


@pytest.mark.parametrize("fut", [0.0, -110.0, float("nan"), "abc"])
def test_non_positive_futures_price(basket, fut):
    with pytest.raises(PriceDataError, match="futures price"):
        dlv("TY", "2024-09", fut, basket, SETTLE, 5.34)


def test_delivery_not_after_settlement(basket):
    with pytest.raises(DeliveryMonthError, match="not after settlement"):
        dlv("TY", "2024-09", 110.0625, basket, date(2024, 10, 1), 5.34)


def test_bad_coupon_in_conversion_factor():
    with pytest.raises(BondError):
        conversion_factor("TY", -1.0, date(2031, 5, 15), "2024-09")
    with pytest.raises(BondError, match="before delivery month"):
        conversion_factor("TY", 4.0, date(2020, 5, 15), "2024-09")


def test_all_errors_are_basislab_errors():
    for cls in (UnknownContractError, DeliveryMonthError, NotDeliverableError, PriceDataError, BondError):
        assert issubclass(cls, BasislabError)


def test_delivery_outside_the_delivery_window(basket):
    with pytest.raises(DeliveryMonthError, match="delivery window") as e:
        dlv("TY", "2024-09", 110.0625, basket, SETTLE, 5.34, delivery=date(2024, 10, 1))
    assert "2024-09-03 to 2024-09-30" in _one_line(e.value)
    # An early delivery inside the window is fine and shortens the carry period.
    early = dlv("TY", "2024-09", 110.0625, basket, SETTLE, 5.34, delivery=date(2024, 9, 3))
    assert (early["days"] == 68).all()
