"""Perpetual connector start-up: rules, books, funding info, position mode, ready."""
from decimal import Decimal

from perpetual_fixtures import PAIR, perp, perp_sim  # noqa: F401

from exconnect.types import PositionMode


async def test_ready_with_rules_book_funding_and_mode(perp):
    status = perp.status_dict
    assert all(status.values()), status
    rule = perp.trading_rules[PAIR]
    assert rule.min_notional_size == Decimal("100") and rule.min_price_increment == Decimal("0.1")
    assert rule.min_base_amount_increment == Decimal("0.001")
    assert perp.get_order_book(PAIR).in_sync
    info = perp.get_funding_info(PAIR)
    assert info.mark_price > 0 and info.index_price > 0 and info.next_funding_utc_timestamp > 0
    assert perp.position_mode is PositionMode.ONEWAY
    assert perp.account_positions == {}
    assert perp.get_balance("USDT") > 0
    assert perp.get_buy_collateral_token(PAIR) == perp.get_sell_collateral_token(PAIR) == "USDT"
    assert perp.funding_payment_span == [0, 0] and perp.supported_position_modes() == [PositionMode.ONEWAY,
                                                                                      PositionMode.HEDGE]
