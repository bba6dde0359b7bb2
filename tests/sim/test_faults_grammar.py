import pytest

from sim.faults import FaultDice, FaultError, parse_faults


def test_check_fault_string_parses_into_every_field():
    plan = parse_faults("ws-drop:7s,429:0.05,null-tx:2")
    assert plan.ws_drop_every_s == 7.0
    assert plan.rate_limit_p == 0.05
    assert plan.retry_after_s == 1
    assert plan.null_tx_tries == 2


def test_at_times_continue_after_commas_and_units_scale():
    plan = parse_faults("ws-drop@12s,40s,1m, slow:10%:200ms, oversize:0.5:1500kb, behind:0.02:90")
    assert plan.ws_drop_at_s == (12.0, 40.0, 60.0)
    assert plan.slow_p == pytest.approx(0.1)
    assert plan.slow_s == pytest.approx(0.2)
    assert plan.oversize_bytes == 1500 * 1024
    assert plan.behind_slots == 90


@pytest.mark.parametrize(
    "text",
    ["nope:1", "429", "429:2", "slow:0.1", "null-tx:x", "dup@3s", "ws-drop:0s", "idle-timeout:abc"],
)
def test_bad_fault_strings_are_rejected_with_a_message(text):
    with pytest.raises(FaultError):
        parse_faults(text)


def test_dice_are_reproducible_per_seed_and_independent_per_fault():
    a, b = FaultDice(5), FaultDice(5)
    b.roll("dup", 0.5)  # drawing from another fault's stream does not shift this one
    assert [a.roll("429", 0.3) for _ in range(50)] == [b.roll("429", 0.3) for _ in range(50)]
