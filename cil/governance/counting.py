"""Quorum, proxies and votes of a session, as pure functions (no Django, no database).

CCH L.441-1-5 creates the conference and its three colleges but leaves its working rules
to the conference itself (its règlement intérieur). So every rule here is a parameter
(`Rules`, stored per conference in `GovernanceSettings`), with the usual defaults:

- **Quorum**: reached when the voting members present or represented are *at least*
  (`AU_MOINS`) — or, if the règlement says so, *more than* (`PLUS_DE`) — a fraction of the
  voting members (default: at least one half). A member without voting right (voix
  consultative) never counts, neither in the members nor among the present. A member
  replaced by its suppléant is present (once: the member has one voice, whoever sits).
  Remote participants count as present when the règlement admits it (`remote_counts`).
- **Proxies (pouvoirs)**: a voting member may give a proxy to another voting member of the
  same college who is present; the holder may not have given a proxy himself (no chain);
  a member holds at most `max_proxies` proxies (default one). A represented member counts
  for the quorum and votes through its holder.
- **Majority** (`MajorityRule`):
  - `simple` (default): majorité simple des suffrages exprimés — adopted when the votes
    for outnumber the votes against; abstentions are not votes cast and do not count;
    a tie rejects; with no vote cast, the item is rejected.
  - `absolue`: majorité absolue des membres présents ou représentés — the votes for must
    be more than half of the voters (abstentions and members not taking part weigh
    against).
  - `deux_tiers`: majorité des deux tiers des suffrages exprimés — votes for ≥ 2/3 of
    (for + against), with at least one vote for.
  There is no casting vote: the conference is co-chaired (préfet and président of the
  EPCI), so no single chair's voice can break a tie.

Votes are entered per college (the three colleges of L.441-1-5; key 0 = all voters when the
conference does not report by college). Each college's ballots may not exceed its voters;
the difference is « ne prend pas part au vote ».
"""

from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from math import floor

# Attendance statuses (the model's choices use the same values).
PRESENT = "present"
DISTANCE = "distance"
SUPPLEE = "supplee"
REPRESENTE = "represente"
EXCUSE = "excuse"
ABSENT = "absent"
UNKNOWN = ""  # not recorded yet: counts as absent

AU_MOINS = "au_moins"
PLUS_DE = "plus_de"

SIMPLE = "simple"
ABSOLUE = "absolue"
DEUX_TIERS = "deux_tiers"

ALL_COLLEGES = 0


@dataclass(frozen=True)
class Rules:
    quorum_fraction: Fraction = Fraction(1, 2)
    quorum_comparison: str = AU_MOINS
    remote_counts: bool = True
    max_proxies: int = 1
    majority: str = SIMPLE


@dataclass(frozen=True)
class Member:
    """One member of the body as the attendance sheet records it."""

    key: str
    name: str
    college: int
    voting: bool
    status: str = UNKNOWN
    proxy_to: str | None = None  # the holder's key, when status is REPRESENTE


def sits(member: Member, rules: Rules) -> bool:
    """Whether the member takes part in the session in person (or through its suppléant,
    or remotely when the règlement counts remote participants)."""
    if member.status in (PRESENT, SUPPLEE):
        return True
    return member.status == DISTANCE and rules.remote_counts


# --- Proxies ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProxyError:
    key: str  # the member who gave the proxy (or holds too many)
    message: str


def proxy_errors(members: list[Member], rules: Rules) -> list[ProxyError]:
    """Every breach of the proxy rules on the sheet, in French, naming the members."""
    by_key = {m.key: m for m in members}
    errors: list[ProxyError] = []
    held: Counter[str] = Counter()
    for member in members:
        if member.status != REPRESENTE:
            continue
        holder = by_key.get(member.proxy_to or "")
        if rules.max_proxies == 0:
            errors.append(
                ProxyError(member.key, "Le règlement de la conférence n'admet pas les pouvoirs.")
            )
            continue
        if holder is None:
            errors.append(
                ProxyError(
                    member.key, f"{member.name} : indiquez le membre qui détient le pouvoir."
                )
            )
            continue
        if holder.key == member.key:
            errors.append(
                ProxyError(member.key, f"{member.name} ne peut pas se donner pouvoir à lui-même.")
            )
            continue
        if not member.voting:
            errors.append(
                ProxyError(
                    member.key,
                    f"{member.name} n'a pas voix délibérative : il n'a pas de vote à confier.",
                )
            )
            continue
        if not holder.voting:
            errors.append(
                ProxyError(
                    member.key,
                    f"{holder.name} n'a pas voix délibérative : il ne peut pas recevoir de pouvoir.",
                )
            )
            continue
        if holder.college != member.college:
            errors.append(
                ProxyError(
                    member.key,
                    f"Le pouvoir de {member.name} doit être donné à un membre du même collège (collège {member.college}) ; {holder.name} est du collège {holder.college}.",
                )
            )
            continue
        if holder.status == REPRESENTE:
            errors.append(
                ProxyError(
                    member.key,
                    f"{holder.name} a lui-même donné pouvoir : un pouvoir ne se transmet pas en cascade.",
                )
            )
            continue
        if not sits(holder, rules):
            errors.append(
                ProxyError(
                    member.key,
                    f"{holder.name} n'est pas présent : il ne peut pas détenir le pouvoir de {member.name}.",
                )
            )
            continue
        held[holder.key] += 1
    for key, count in held.items():
        if count > rules.max_proxies:
            limit = "un pouvoir" if rules.max_proxies == 1 else f"{rules.max_proxies} pouvoirs"
            errors.append(
                ProxyError(
                    key,
                    f"{by_key[key].name} détiendrait {count} pouvoirs : le règlement en admet {limit} au plus par membre.",
                )
            )
    return errors


def valid_proxy(member: Member, by_key: dict[str, Member], rules: Rules) -> bool:
    holder = by_key.get(member.proxy_to or "")
    return (
        member.status == REPRESENTE
        and rules.max_proxies > 0
        and member.voting
        and holder is not None
        and holder.key != member.key
        and holder.voting
        and holder.college == member.college
        and holder.status != REPRESENTE
        and sits(holder, rules)
    )


# --- Quorum -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CollegeCount:
    college: int
    voting_members: int
    present: int
    represented: int

    @property
    def voters(self) -> int:
        return self.present + self.represented


@dataclass(frozen=True)
class Quorum:
    voting_members: int
    present: int
    represented: int
    required: int
    reached: bool
    colleges: tuple[CollegeCount, ...] = field(default_factory=tuple)

    @property
    def voters(self) -> int:
        return self.present + self.represented

    @property
    def missing(self) -> int:
        return max(self.required - self.voters, 0)

    def as_dict(self) -> dict:
        return {
            "membres_votants": self.voting_members,
            "presents": self.present,
            "representes": self.represented,
            "requis": self.required,
            "atteint": self.reached,
        }


def required_for_quorum(voting_members: int, rules: Rules) -> int:
    """The smallest number of members present or represented that reaches the quorum."""
    threshold = rules.quorum_fraction * voting_members
    if rules.quorum_comparison == PLUS_DE:
        return floor(threshold) + 1
    # « au moins » the fraction: the ceiling of an exact fraction.
    return -((-threshold.numerator) // threshold.denominator)


def quorum(members: list[Member], rules: Rules) -> Quorum:
    by_key = {m.key: m for m in members}
    colleges: dict[int, list[int]] = {}
    for member in members:
        if not member.voting:
            continue
        counts = colleges.setdefault(member.college, [0, 0, 0])
        counts[0] += 1
        if sits(member, rules):
            counts[1] += 1
        elif valid_proxy(member, by_key, rules):
            counts[2] += 1
    per_college = tuple(CollegeCount(college, *colleges[college]) for college in sorted(colleges))
    voting = sum(c.voting_members for c in per_college)
    present = sum(c.present for c in per_college)
    represented = sum(c.represented for c in per_college)
    required = required_for_quorum(voting, rules)
    return Quorum(
        voting_members=voting,
        present=present,
        represented=represented,
        required=required,
        reached=voting > 0 and present + represented >= required,
        colleges=per_college,
    )


def voters_by_college(members: list[Member], rules: Rules, *, by_college: bool) -> dict[int, int]:
    """How many voices each college holds now (present + represented voting members);
    one entry, ALL_COLLEGES, when votes are not reported by college."""
    counted = quorum(members, rules)
    if not by_college:
        return {ALL_COLLEGES: counted.voters}
    return {c.college: c.voters for c in counted.colleges}


# --- Votes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ballots:
    pour: int = 0
    contre: int = 0
    abstention: int = 0

    @property
    def cast(self) -> int:
        """Suffrages exprimés: abstentions are not votes cast."""
        return self.pour + self.contre

    @property
    def total(self) -> int:
        return self.pour + self.contre + self.abstention

    def __add__(self, other: "Ballots") -> "Ballots":
        return Ballots(
            self.pour + other.pour,
            self.contre + other.contre,
            self.abstention + other.abstention,
        )


@dataclass(frozen=True)
class VoteResult:
    adopted: bool
    totals: Ballots
    voters: int
    not_voting: int
    by_college: dict[int, Ballots]
    rule: str
    # Why, in French: « 12 voix pour, 3 contre : majorité simple des suffrages exprimés ».
    explanation: str


def ballot_errors(ballots: dict[int, Ballots], voters: dict[int, int]) -> list[str]:
    """Each college's ballots must be whole, non-negative numbers within its voters."""
    errors = []
    for college, counts in ballots.items():
        label = "l'ensemble des votants" if college == ALL_COLLEGES else f"le collège {college}"
        if min(counts.pour, counts.contre, counts.abstention) < 0:
            errors.append(f"Pour {label}, les nombres de voix ne peuvent pas être négatifs.")
            continue
        available = voters.get(college, 0)
        if counts.total > available:
            errors.append(
                f"Pour {label}, {counts.total} voix sont saisies alors que {available} membre{'s' if available > 1 else ''} seulement peu{'vent' if available > 1 else 't'} voter (présents ou représentés)."
            )
    return errors


def _voix(n: int) -> str:
    return f"{n} voix"


def vote_result(ballots: dict[int, Ballots], voters: dict[int, int], rules: Rules) -> VoteResult:
    """The result of a vote under the conference's majority rule (the module's doc)."""
    totals = sum(ballots.values(), Ballots())
    total_voters = sum(voters.values())
    if rules.majority == ABSOLUE:
        adopted = totals.pour * 2 > total_voters
        rule_text = "majorité absolue des membres présents ou représentés"
        needed = total_voters // 2 + 1
        detail = f"{_voix(needed)} pour étaient nécessaires sur {total_voters} votant{'s' if total_voters > 1 else ''}"
    elif rules.majority == DEUX_TIERS:
        adopted = totals.pour > 0 and totals.pour * 3 >= totals.cast * 2
        rule_text = "majorité des deux tiers des suffrages exprimés"
        detail = f"{totals.cast} suffrage{'s' if totals.cast > 1 else ''} exprimé{'s' if totals.cast > 1 else ''}"
    else:
        adopted = totals.pour > totals.contre
        rule_text = "majorité simple des suffrages exprimés, abstentions non comptées"
        detail = f"{totals.cast} suffrage{'s' if totals.cast > 1 else ''} exprimé{'s' if totals.cast > 1 else ''}"
    explanation = (
        f"{_voix(totals.pour)} pour, {_voix(totals.contre)} contre, "
        f"{totals.abstention} abstention{'s' if totals.abstention > 1 else ''} ({detail}) — "
        f"{'adopté' if adopted else 'non adopté'} à la {rule_text}."
    )
    return VoteResult(
        adopted=adopted,
        totals=totals,
        voters=total_voters,
        not_voting=max(total_voters - totals.total, 0),
        by_college=dict(sorted(ballots.items())),
        rule=rules.majority,
        explanation=explanation,
    )
