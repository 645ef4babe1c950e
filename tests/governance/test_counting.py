"""Quorum, proxies and vote counting (cil/governance/counting.py) on small hand-made
sheets: every expected figure can be checked by hand."""

from fractions import Fraction

import pytest

from cil.governance import counting
from cil.governance.counting import (
    ABSENT,
    DISTANCE,
    EXCUSE,
    PRESENT,
    REPRESENTE,
    SUPPLEE,
    UNKNOWN,
    Ballots,
    Member,
    Rules,
)

DEFAULT = Rules()  # at least one half, remote counts, one proxy, simple majority


def sheet(*specs) -> list[Member]:
    """specs: (key, college, status[, proxy_to][, voting])."""
    members = []
    for spec in specs:
        key, college, status, *rest = spec
        proxy_to = rest[0] if rest and isinstance(rest[0], str) else None
        voting = rest[-1] if rest and isinstance(rest[-1], bool) else True
        members.append(Member(key, f"Membre {key}", college, voting, status, proxy_to))
    return members


# --- Quorum -------------------------------------------------------------------------------


def test_exactly_half_reaches_an_at_least_half_quorum():
    # 10 voting members, 5 present: 5 ≥ 10 × 1/2.
    members = sheet(
        *[(f"p{i}", 1, PRESENT) for i in range(5)], *[(f"a{i}", 2, ABSENT) for i in range(5)]
    )
    quorum = counting.quorum(members, DEFAULT)
    assert (quorum.voting_members, quorum.present, quorum.represented) == (10, 5, 0)
    assert quorum.required == 5
    assert quorum.reached


def test_exactly_half_misses_a_more_than_half_quorum():
    members = sheet(
        *[(f"p{i}", 1, PRESENT) for i in range(5)], *[(f"a{i}", 2, ABSENT) for i in range(5)]
    )
    quorum = counting.quorum(members, Rules(quorum_comparison=counting.PLUS_DE))
    assert quorum.required == 6
    assert not quorum.reached
    assert quorum.missing == 1


@pytest.mark.parametrize(
    ("voting", "fraction", "comparison", "required"),
    [
        (9, Fraction(1, 2), counting.AU_MOINS, 5),  # 4.5 → at least 5
        (9, Fraction(1, 2), counting.PLUS_DE, 5),  # more than 4.5 → 5
        (10, Fraction(1, 2), counting.PLUS_DE, 6),  # more than 5 → 6
        (12, Fraction(2, 3), counting.AU_MOINS, 8),  # exactly 8
        (13, Fraction(2, 3), counting.AU_MOINS, 9),  # 8.67 → 9
        (7, Fraction(1, 3), counting.AU_MOINS, 3),  # 2.33 → 3
        (0, Fraction(1, 2), counting.AU_MOINS, 0),
    ],
)
def test_required_members(voting, fraction, comparison, required):
    rules = Rules(quorum_fraction=fraction, quorum_comparison=comparison)
    assert counting.required_for_quorum(voting, rules) == required


def test_a_conference_without_voting_member_never_has_a_quorum():
    members = sheet(("x", 1, PRESENT, False))
    assert not counting.quorum(members, DEFAULT).reached


def test_proxies_count_towards_the_quorum():
    # 6 voting members: 2 present, 1 represented by a present member: 3 ≥ 3.
    members = sheet(
        ("a", 1, PRESENT), ("b", 1, REPRESENTE, "a"), ("c", 2, PRESENT),
        ("d", 2, ABSENT), ("e", 3, EXCUSE), ("f", 3, UNKNOWN),
    )  # fmt: skip
    quorum = counting.quorum(members, DEFAULT)
    assert (quorum.present, quorum.represented, quorum.required) == (2, 1, 3)
    assert quorum.reached
    by_college = {c.college: (c.voting_members, c.present, c.represented) for c in quorum.colleges}
    assert by_college == {1: (2, 1, 1), 2: (2, 1, 0), 3: (2, 0, 0)}


def test_a_proxy_to_an_absent_member_does_not_count():
    members = sheet(
        ("a", 1, ABSENT), ("b", 1, REPRESENTE, "a"), ("c", 1, PRESENT), ("d", 1, ABSENT)
    )
    quorum = counting.quorum(members, DEFAULT)
    assert (quorum.present, quorum.represented) == (1, 0)
    assert not quorum.reached  # 1 < 2


def test_a_member_replaced_by_its_suppleant_counts_once():
    # The titulaire is absent, the suppléant sits: the member is present, with one voice.
    members = sheet(("a", 1, SUPPLEE), ("b", 1, ABSENT), ("c", 2, ABSENT), ("d", 2, PRESENT))
    quorum = counting.quorum(members, DEFAULT)
    assert (quorum.voting_members, quorum.present) == (4, 2)
    assert quorum.reached


def test_a_member_without_voting_right_counts_neither_as_member_nor_as_present():
    # 4 voting members, 1 present, plus 3 members with voix consultative, all present.
    members = sheet(
        ("a", 1, PRESENT), ("b", 1, ABSENT), ("c", 2, ABSENT), ("d", 3, ABSENT),
        ("x", 1, PRESENT, False), ("y", 2, PRESENT, False), ("z", 3, PRESENT, False),
    )  # fmt: skip
    quorum = counting.quorum(members, DEFAULT)
    assert (quorum.voting_members, quorum.present, quorum.required) == (4, 1, 2)
    assert not quorum.reached


def test_remote_members_count_only_if_the_rules_say_so():
    members = sheet(("a", 1, DISTANCE), ("b", 1, DISTANCE), ("c", 2, ABSENT), ("d", 2, ABSENT))
    assert counting.quorum(members, DEFAULT).reached
    assert not counting.quorum(members, Rules(remote_counts=False)).reached


# --- Proxies ------------------------------------------------------------------------------


def _messages(members, rules=DEFAULT) -> list[str]:
    return [e.message for e in counting.proxy_errors(members, rules)]


def test_a_valid_proxy_has_no_error():
    assert _messages(sheet(("a", 2, PRESENT), ("b", 2, REPRESENTE, "a"))) == []


def test_a_proxy_goes_to_a_member_of_the_same_college():
    errors = _messages(sheet(("a", 1, PRESENT), ("b", 2, REPRESENTE, "a")))
    assert errors == [
        "Le pouvoir de Membre b doit être donné à un membre du même collège (collège 2) ; Membre a est du collège 1."
    ]


def test_at_most_one_proxy_per_member_by_default():
    members = sheet(("a", 1, PRESENT), ("b", 1, REPRESENTE, "a"), ("c", 1, REPRESENTE, "a"))
    assert _messages(members) == [
        "Membre a détiendrait 2 pouvoirs : le règlement en admet un pouvoir au plus par membre."
    ]
    assert _messages(members, Rules(max_proxies=2)) == []
    # The quorum counts only the valid proxies' members... both are valid under 2.
    assert counting.quorum(members, Rules(max_proxies=2)).represented == 2


def test_no_proxy_to_a_member_who_is_absent_or_excused():
    for status in (ABSENT, EXCUSE, UNKNOWN):
        assert _messages(sheet(("a", 1, status), ("b", 1, REPRESENTE, "a"))) == [
            "Membre a n'est pas présent : il ne peut pas détenir le pouvoir de Membre b."
        ]


def test_no_chain_of_proxies():
    members = sheet(("a", 1, PRESENT), ("b", 1, REPRESENTE, "a"), ("c", 1, REPRESENTE, "b"))
    assert _messages(members, Rules(max_proxies=2)) == [
        "Membre b a lui-même donné pouvoir : un pouvoir ne se transmet pas en cascade."
    ]
    # c is not represented: the chain gives no voice.
    assert counting.quorum(members, Rules(max_proxies=2)).represented == 1


def test_no_proxy_to_oneself_nor_to_or_from_a_member_without_voting_right():
    assert _messages(sheet(("a", 1, REPRESENTE, "a"))) == [
        "Membre a ne peut pas se donner pouvoir à lui-même."
    ]
    assert _messages(sheet(("x", 1, PRESENT, False), ("b", 1, REPRESENTE, "x"))) == [
        "Membre x n'a pas voix délibérative : il ne peut pas recevoir de pouvoir."
    ]
    assert _messages(sheet(("a", 1, PRESENT), ("y", 1, REPRESENTE, "a", False))) == [
        "Membre y n'a pas voix délibérative : il n'a pas de vote à confier."
    ]


def test_proxies_refused_when_the_rules_admit_none():
    members = sheet(("a", 1, PRESENT), ("b", 1, REPRESENTE, "a"))
    assert _messages(members, Rules(max_proxies=0)) == [
        "Le règlement de la conférence n'admet pas les pouvoirs."
    ]
    assert counting.quorum(members, Rules(max_proxies=0)).represented == 0


def test_a_remote_holder_is_present_only_if_remote_members_count():
    members = sheet(("a", 1, DISTANCE), ("b", 1, REPRESENTE, "a"))
    assert _messages(members) == []
    assert _messages(members, Rules(remote_counts=False)) == [
        "Membre a n'est pas présent : il ne peut pas détenir le pouvoir de Membre b."
    ]


# --- Votes --------------------------------------------------------------------------------


def test_simple_majority_ignores_abstentions():
    # 4 for, 3 against, 5 abstentions: adopted (4 > 3) although 4 < 12 / 2.
    result = counting.vote_result({0: Ballots(4, 3, 5)}, {0: 12}, DEFAULT)
    assert result.adopted
    assert result.totals.cast == 7
    assert result.explanation == (
        "4 voix pour, 3 voix contre, 5 abstentions (7 suffrages exprimés) — adopté à la "
        "majorité simple des suffrages exprimés, abstentions non comptées."
    )


def test_a_tie_rejects():
    result = counting.vote_result({0: Ballots(5, 5, 0)}, {0: 10}, DEFAULT)
    assert not result.adopted


def test_only_abstentions_reject():
    assert not counting.vote_result({0: Ballots(0, 0, 4)}, {0: 4}, DEFAULT).adopted


def test_absolute_majority_counts_abstentions_and_non_voters_against():
    rules = Rules(majority=counting.ABSOLUE)
    # 12 voters: 6 for is not more than half; 7 is.
    assert not counting.vote_result({0: Ballots(6, 1, 5)}, {0: 12}, rules).adopted
    result = counting.vote_result({0: Ballots(7, 0, 0)}, {0: 12}, rules)
    assert result.adopted
    assert result.not_voting == 5
    assert "7 voix pour étaient nécessaires sur 12 votants" in result.explanation


def test_two_thirds_of_votes_cast():
    rules = Rules(majority=counting.DEUX_TIERS)
    assert counting.vote_result({0: Ballots(8, 4, 3)}, {0: 15}, rules).adopted  # 8 = 2/3 × 12
    assert not counting.vote_result({0: Ballots(7, 4, 3)}, {0: 15}, rules).adopted  # 7 < 7.33


def test_votes_by_college_add_up():
    ballots = {1: Ballots(3, 1, 0), 2: Ballots(2, 2, 1), 3: Ballots(1, 0, 0)}
    voters = {1: 4, 2: 6, 3: 2}
    result = counting.vote_result(ballots, voters, DEFAULT)
    assert result.totals == Ballots(6, 3, 1)
    assert result.voters == 12
    assert result.not_voting == 2  # 1 in college 2, 1 in college 3
    assert result.adopted


def test_ballots_may_not_exceed_voters_of_a_college():
    errors = counting.ballot_errors({1: Ballots(3, 1, 1), 2: Ballots(1, 0, 0)}, {1: 4, 2: 1})
    assert errors == [
        "Pour le collège 1, 5 voix sont saisies alors que 4 membres seulement peuvent voter (présents ou représentés)."
    ]
    assert counting.ballot_errors({2: Ballots(-1, 0, 0)}, {2: 3}) == [
        "Pour le collège 2, les nombres de voix ne peuvent pas être négatifs."
    ]


def test_a_proxy_gives_its_holder_one_more_voice_and_a_suppleant_one_voice():
    # College 1: a present holding b's proxy, c replaced by its suppléant, d absent,
    # x without voting right: voices = a, b (through a), c = 3.
    members = sheet(
        ("a", 1, PRESENT), ("b", 1, REPRESENTE, "a"), ("c", 1, SUPPLEE), ("d", 1, ABSENT),
        ("x", 1, PRESENT, False), ("e", 2, PRESENT),
    )  # fmt: skip
    assert counting.voters_by_college(members, DEFAULT, by_college=True) == {1: 3, 2: 1}
    assert counting.voters_by_college(members, DEFAULT, by_college=False) == {0: 4}
