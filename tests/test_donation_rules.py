"""The donation rules by hand (SPEC.md's worked example and its boundaries), in fen."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.config import FestivalConfig
from models.donation_rules import (
    DonationRules,
    Statement,
    direction_refusal,
    donation,
    donation_due_fen,
    rate_of,
    streamer_share_fen,
)

RULES = DonationRules(Decimal("0.05"), 100_000_00, Decimal("0.50"))
YUAN = 100


def test_rules_come_from_the_config(config: FestivalConfig) -> None:
    assert DonationRules.of(config) == RULES


@pytest.mark.parametrize(
    ("turnover_yuan", "due_yuan", "directed_max_yuan", "undirected_min_yuan"),
    [
        # 5% of 1,600,000 = 80,000: below the threshold, nothing may be directed
        (1_600_000, 80_000, 0, 80_000),
        # 5% of 2,000,000 = 100,000: exactly the threshold, nothing above it
        (2_000_000, 100_000, 0, 100_000),
        # SPEC.md: 150,000; half of the 50,000 above 100,000
        (3_000_000, 150_000, 25_000, 125_000),
        # 600,000; half of 500,000
        (12_000_000, 600_000, 250_000, 350_000),
        (0, 0, 0, 0),
    ],
)
def test_worked_examples(
    turnover_yuan: int, due_yuan: int, directed_max_yuan: int, undirected_min_yuan: int
) -> None:
    d = donation(turnover_yuan * YUAN, RULES)
    assert d.due_fen == due_yuan * YUAN
    assert d.directed_max_fen == directed_max_yuan * YUAN
    assert d.undirected_min_fen == undirected_min_yuan * YUAN


def test_one_fen_above_the_threshold() -> None:
    # turnover 2,000,000.20 → 5% = 100,000.01 (1 fen above) → half a fen: rounded down to 0
    d = donation(2_000_000_20, RULES)
    assert (d.due_fen, d.directed_max_fen) == (100_000_01, 0)
    # 2,000,000.40 → 100,000.02 → 1 fen may be directed
    d = donation(2_000_000_40, RULES)
    assert (d.due_fen, d.directed_max_fen) == (100_000_02, 1)


@pytest.mark.parametrize(
    ("turnover_fen", "due_fen"),
    [
        (10, 1),  # 0.5 fen → 1 (half up)
        (9, 0),  # 0.45 fen → 0
        (29, 1),  # 1.45 fen → 1
        (30, 2),  # 1.5 fen → 2
        (1_234_567_89, 61_728_39),  # 6,172,839.45 fen → ...39 (0.45 down)
        (1_234_567_90, 61_728_40),  # 6,172,839.5 fen → ...40 (half up)
    ],
)
def test_rounding_to_the_fen_half_up(turnover_fen: int, due_fen: int) -> None:
    assert donation_due_fen(turnover_fen, RULES) == due_fen


def test_directed_maximum_rounds_down() -> None:
    # due 150,000.03 → above 50,000.03 → half 25,000.015 → 25,000.01 (a ceiling: down)
    d = donation(3_000_000_60, RULES)
    assert d.due_fen == 150_000_03
    assert d.directed_max_fen == 25_000_01
    assert d.undirected_min_fen == 125_000_02


def test_direction_refusals() -> None:
    d = donation(3_000_000 * YUAN, RULES)
    assert direction_refusal(25_000 * YUAN, d) is None
    assert direction_refusal(1, d) is None
    assert direction_refusal(25_000 * YUAN + 1, d) == "above_max"
    assert direction_refusal(0, d) == "not_positive"
    assert direction_refusal(-5, d) == "not_positive"
    assert direction_refusal(1, donation(2_000_000 * YUAN, RULES)) == "none_allowed"


def test_statement() -> None:
    s = Statement(due_fen=150_000 * YUAN, directed_fen=25_000 * YUAN, received_fen=100_000 * YUAN)
    assert (s.outstanding_fen, s.overpaid_fen, s.undirected_fen) == (
        50_000 * YUAN,
        0,
        125_000 * YUAN,
    )
    over = Statement(due_fen=100, directed_fen=0, received_fen=150)
    assert (over.outstanding_fen, over.overpaid_fen) == (0, 50)


def test_streamer_share() -> None:
    assert streamer_share_fen(12_345_67, Decimal("0.20")) == 2_469_13  # 246,913.4 fen
    assert streamer_share_fen(3, Decimal("0.20")) == 1  # 0.6 fen → 1
    assert streamer_share_fen(2, Decimal("0.20")) == 0  # 0.4 fen → 0
    with pytest.raises(ValueError):
        rate_of(-1, Decimal("0.2"))
