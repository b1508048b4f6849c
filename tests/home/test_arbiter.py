"""Which box answers: claims, windows and ties, with plain times."""

from __future__ import annotations

import numpy as np
import pytest

from satellite.audio import Pcm
from satellite.home.arbiter import VERDICT_S, Arbiter, Claim
from satellite.home.messages import MAX_BYTES, Codec, Rejected
from satellite.room.levels import RoomLevel


def test_the_loudest_box_answers_and_the_other_does_not() -> None:
    kitchen, hall = Arbiter("kitchen", 0.15), Arbiter("hall", 0.15)
    loud, quiet = Claim("kitchen", 24.0, 0.97), Claim("hall", 12.0, 0.99)
    at = kitchen.our_claim(loud, 10.00)
    hall.our_claim(quiet, 10.04)
    kitchen.peer_claim(quiet, 10.06)
    hall.peer_claim(loud, 10.02)
    assert kitchen.decide(at).answer
    decision = hall.decide(10.19)
    assert not decision.answer and decision.winner == "kitchen"


def test_equal_claims_give_one_answer_the_same_on_both_boxes() -> None:
    a, b = Arbiter("a-box", 0.15), Arbiter("b-box", 0.15)
    claim_a, claim_b = Claim("a-box", 18.0, 0.95), Claim("b-box", 18.5, 0.95)  # a tie in level
    a.our_claim(claim_a, 1.0)
    b.our_claim(claim_b, 1.0)
    a.peer_claim(claim_b, 1.01)
    b.peer_claim(claim_a, 1.01)
    answers = [a.decide(1.15).answer, b.decide(1.15).answer]
    assert answers == [True, False]  # the same score: the id decides, everywhere alike


def test_a_box_that_hears_no_peer_answers_alone_after_the_window() -> None:
    alone = Arbiter("kitchen", 0.15)
    at = alone.our_claim(Claim("kitchen", 3.0, 0.86), 5.0)
    assert at == pytest.approx(5.15)
    assert alone.decide(at).answer


def test_a_peers_claim_from_an_earlier_wake_word_is_not_this_ones() -> None:
    box = Arbiter("kitchen", 0.15)
    box.peer_claim(Claim("hall", 40.0, 1.0), 1.0)  # a minute-old wake word in the hall
    box.our_claim(Claim("kitchen", 10.0, 0.9), 60.0)
    assert box.decide(60.15).answer


def test_the_box_that_checks_slower_still_answers_when_it_heard_it_best() -> None:
    """Seen with two equal boxes on one busy machine: both models fired 0.12 s apart, but the
    b-box's Whisper check ended 0.37 s before the a-box's, and the b-box answered alone. Claimed
    at the model's firing, the b-box waits for the a-box's check instead."""
    a, b = Arbiter("a-box", 0.15), Arbiter("b-box", 0.15)
    claim_a, claim_b = Claim("a-box", 46.8, 1.0), Claim("b-box", 47.7, 1.0)
    b.our_claim(claim_b, 25.39)
    a.our_claim(claim_a, 25.51)
    a.peer_claim(claim_b, 25.39, heard=None)
    b.peer_claim(claim_a, 25.51, heard=None)
    a.peer_verdict("b-box", True)  # the b-box's check heard it first...
    assert b.decide(26.30) is None  # ...and it waits for the a-box's, whose claim is best
    assert a.decide(26.67).answer
    b.peer_verdict("a-box", True)
    decision = b.decide(26.68)
    assert decision is not None and not decision.answer and decision.winner == "a-box"


def test_a_better_box_whose_check_did_not_hear_it_leaves_the_answer_to_the_next() -> None:
    hall = Arbiter("hall", 0.15)
    hall.our_claim(Claim("hall", 20.0, 0.9), 3.0)
    hall.peer_claim(Claim("kitchen", 30.0, 0.9), 3.05, heard=None)
    assert hall.decide(3.9) is None
    hall.peer_verdict("kitchen", False)  # the kitchen's Whisper did not hear "Okay Nabu"
    decision = hall.decide(4.1)
    assert decision is not None and decision.answer


def test_a_better_box_whose_check_is_never_heard_of_answers() -> None:
    hall = Arbiter("hall", 0.15)
    hall.our_claim(Claim("hall", 20.0, 0.9), 3.0)
    hall.peer_claim(Claim("kitchen", 30.0, 0.9), 3.05, heard=None)
    assert hall.decide(3.05 + VERDICT_S - 0.1) is None
    decision = hall.decide(3.05 + VERDICT_S)  # its verdict lost: it heard and answers, not both
    assert decision is not None and not decision.answer and decision.winner == "kitchen"


def test_a_claim_that_came_after_our_window_is_not_weighed_it_yields_to_ours() -> None:
    kitchen, hall = Arbiter("kitchen", 0.15), Arbiter("hall", 0.15)
    kitchen.our_claim(Claim("kitchen", 10.0, 0.9), 7.0)
    hall.our_claim(Claim("hall", 30.0, 0.9), 7.4)  # louder, but its model fired 0.4 s later
    kitchen.peer_claim(Claim("hall", 30.0, 0.9), 7.4)
    hall.peer_claim(Claim("kitchen", 10.0, 0.9), 7.0)
    ours, theirs = kitchen.decide(8.0), hall.decide(8.3)
    assert ours is not None and ours.answer
    assert theirs is not None and not theirs.answer  # one answer, not two


def codec(box: str, secret: bytes = b"s3cret", clock: float = 1000.0) -> Codec:
    return Codec("home", secret, box, clock=lambda: clock)


def test_a_signed_message_is_taken_once() -> None:
    kitchen, hall = codec("kitchen"), codec("hall")
    datagram = kitchen.encode("claim", {"level_db": 20.0, "score": 0.9})
    message = hall.decode(datagram)
    assert (message.box, message.kind, message.data["score"]) == ("kitchen", "claim", 0.9)
    with pytest.raises(Rejected) as replayed:
        hall.decode(datagram)
    assert replayed.value.reason == "replayed"


@pytest.mark.parametrize("change, reason", [
    (lambda d: d[:10] + (b"0" if d[10:11] != b"0" else b"1") + d[11:], "signature"),
    (lambda d: d + b" " * MAX_BYTES, "oversized"),
    (lambda d: b"not signed at all", "signature"),
])
def test_a_tampered_oversized_or_unsigned_datagram_is_rejected(change, reason) -> None:  # type: ignore[no-untyped-def]
    datagram = codec("kitchen").encode("claim", {"level_db": 20.0, "score": 0.9})
    with pytest.raises(Rejected) as rejected:
        codec("hall").decode(change(datagram))
    assert rejected.value.reason == reason


def test_a_box_outside_the_home_or_from_long_ago_is_rejected() -> None:
    stranger = codec("intruder", secret=b"guessed")
    with pytest.raises(Rejected, match="signature"):
        codec("hall").decode(stranger.encode("claim", {}))
    old = codec("kitchen", clock=900.0).encode("claim", {})
    with pytest.raises(Rejected, match="stale"):
        codec("hall", clock=1000.0).decode(old)


def test_a_box_that_restarted_is_heard_again() -> None:
    hall = codec("hall")
    hall.decode(codec("kitchen", clock=999.0).encode("claim", {}))
    restarted = codec("kitchen", clock=1000.0)  # a new boot, its sequence from 1 again
    assert hall.decode(restarted.encode("claim", {})).seq == 1


def test_the_room_level_is_the_speech_over_the_rooms_noise_not_over_digital_silence() -> None:
    rng = np.random.default_rng(0)

    def chunk(dbfs: float | None) -> Pcm:
        if dbfs is None:
            return Pcm.silence(0.064)
        noise = rng.standard_normal(1024) * 32768 * 10 ** (dbfs / 20)
        return Pcm(noise.astype(np.int16).tobytes(), 16000)

    level = RoomLevel()
    t = 0.0
    for dbfs in [None] * 100 + [-60.0] * 50 + [-20.0] * 15:  # silence, the room, a voice
        t += 0.064
        level.feed(chunk(dbfs), t)
    assert level.over_floor() == pytest.approx(40.0, abs=1.5)


def test_a_peer_that_decided_before_our_claim_reached_it_answers_even_if_we_are_louder() -> None:
    late = Arbiter("kitchen", 0.15)
    late.peer_claim(Claim("hall", 10.0, 0.9), 20.0)  # the hall's window closed at ~20.15
    late.our_claim(Claim("kitchen", 30.0, 0.99), 20.3)  # our wake word model was behind
    decision = late.decide(20.45)
    assert not decision.answer and decision.winner == "hall"  # the hall answered alone: not twice


def test_scores_a_frame_apart_are_a_tie_the_id_decides() -> None:
    assert Claim("a-box", 20.0, 0.90).beats(Claim("b-box", 20.0, 0.93))
    assert Claim("b-box", 20.0, 0.99).beats(Claim("a-box", 20.0, 0.90))


def test_three_equal_rooms_agree_on_one_whatever_order_each_weighs_them() -> None:
    """Seen in the three-box bench: levels all equal, scores 0.85 / 0.90 / 0.91. Weighed pair by
    pair, the kitchen beat the hall (score), tied the office (id), the office beat the hall:
    the order of weighing picked the office on two boxes and the kitchen on the third."""
    claims = {"kitchen": Claim("kitchen", 47.9, 0.90), "hall": Claim("hall", 47.9, 0.85),
              "office": Claim("office", 47.9, 0.91)}
    winners = set()
    for box, ours in claims.items():
        arbiter = Arbiter(box, 0.15)
        at = arbiter.our_claim(ours, 5.0)
        for other, claim in claims.items():
            if other != box:
                arbiter.peer_claim(claim, 5.02)
        decision = arbiter.decide(at)
        winners.add(decision.winner)
        assert decision.answer == (decision.winner == box)
    assert winners == {"kitchen"}  # within 1 dB and 0.05 of the best score: the lowest id
