"""The circuit of the document d'orientation as data, and `abilities()`: pure, no database."""

from dataclasses import dataclass

import pytest

from cil.permissions import PERMISSIONS
from cil.roles import RoleName
from conventions import circuit
from conventions.circuit import State


@dataclass
class Doc:
    state: str
    is_current: bool = True


ALL = set(RoleName)
SEC, PREF, BAILLEUR = RoleName.SECRETARIAT, RoleName.PREFECTURE, RoleName.BAILLEUR


def test_every_state_of_the_stepper_is_reached_by_a_manual_step():
    targets = {t.target for t in circuit.MANUAL}
    assert set(circuit.STEPS) - {State.BROUILLON} <= targets
    for step in circuit.TRANSITIONS:
        assert step.permission in PERMISSIONS
        if not step.automatic:
            assert all((step.url_name, step.slug, step.notify, step.email_subject))


def test_the_circuit_table():
    table = {
        t.name: (sorted(t.source), t.target, t.permission, t.notify) for t in circuit.TRANSITIONS
    }
    assert table["soumettre"] == (
        ["brouillon"],
        "consultation",
        "orientations.advance",
        "conference",
    )
    assert table["adopter"] == (
        ["consultation"],
        "adopte_cil",
        "orientations.advance",
        "prefecture",
    )
    assert table["deliberer"] == (
        ["adopte_cil"],
        "delibere_epci",
        "orientations.advance",
        "prefecture",
    )
    assert table["agreer"] == (
        ["delibere_epci"],
        "agree_prefet",
        "orientations.approve",
        "secretariat",
    )
    assert table["refuser"] == (
        ["delibere_epci"],
        "brouillon",
        "orientations.approve",
        "secretariat",
    )
    assert table["mettre_en_vigueur"] == (
        ["agree_prefet"],
        "en_vigueur",
        "orientations.advance",
        "conference",
    )
    assert circuit.transition("refuser").comment_required
    fields = {t.name: [f.name for f in t.fields] for t in circuit.MANUAL}
    assert fields["adopter"] == ["date_seance", "voix_pour", "voix_contre", "abstentions"]
    assert fields["deliberer"] == ["numero", "date_deliberation", "deliberation"]
    assert fields["mettre_en_vigueur"] == ["date_effet"]


def test_approval_is_the_prefecture_s_alone():
    assert PERMISSIONS["orientations.approve"] == frozenset({PREF})
    for role in ALL - {PREF}:
        assert not circuit.abilities({role}, Doc(State.DELIBERE_EPCI)) & {"agreer", "refuser"}
    assert {"agreer", "refuser"} <= circuit.abilities({PREF}, Doc(State.DELIBERE_EPCI))


@pytest.mark.parametrize(
    ("roles", "state", "expected"),
    [
        ({SEC}, State.BROUILLON, {"view", "edit", "comment", "resolve_comments", "generate_pdf", "soumettre"}),
        ({SEC}, State.CONSULTATION, {"view", "edit", "comment", "resolve_comments", "generate_pdf", "adopter"}),
        ({SEC}, State.ADOPTE_CIL, {"view", "edit", "comment", "resolve_comments", "generate_pdf", "deliberer"}),
        ({SEC}, State.DELIBERE_EPCI, {"view", "edit", "comment", "resolve_comments", "generate_pdf"}),
        ({SEC}, State.AGREE_PREFET, {"view", "edit", "comment", "resolve_comments", "generate_pdf", "mettre_en_vigueur"}),
        ({SEC}, State.EN_VIGUEUR, {"view", "revise", "resolve_comments", "generate_pdf"}),
        ({PREF}, State.DELIBERE_EPCI, {"view", "comment", "generate_pdf", "agreer", "refuser"}),
        ({PREF}, State.CONSULTATION, {"view", "comment", "generate_pdf"}),
        ({BAILLEUR}, State.CONSULTATION, {"view", "comment"}),
        ({BAILLEUR}, State.EN_VIGUEUR, {"view"}),
        ({RoleName.MEMBRE}, State.BROUILLON, {"view", "comment"}),
        ({SEC, PREF}, State.DELIBERE_EPCI, {"view", "edit", "comment", "resolve_comments", "generate_pdf", "agreer", "refuser"}),
        (set(), State.BROUILLON, set()),
    ],
)  # fmt: skip
def test_abilities(roles, state, expected):
    assert circuit.abilities(roles, Doc(state)) == expected


def test_a_past_document_is_read_only():
    assert circuit.abilities({SEC}, Doc(State.REMPLACE, is_current=False)) == {
        "view",
        "generate_pdf",
    }
    assert circuit.abilities({SEC}, Doc(State.EN_VIGUEUR, is_current=False)) == {
        "view",
        "generate_pdf",
    }


def test_stepper():
    assert circuit.stepper(State.BROUILLON)["current"] == 1
    stepper = circuit.stepper(State.DELIBERE_EPCI)
    assert (stepper["current"], stepper["total"]) == (4, 6)
    assert stepper["next_title"] == "Agréé par le préfet"
    assert [s["done"] for s in stepper["steps"]] == [True, True, True, False, False, False]
    assert circuit.stepper(State.EN_VIGUEUR)["next_title"] == ""
    assert circuit.stepper(State.REMPLACE)["current"] == 6


def test_facts_are_french():
    facts = circuit.facts(
        "adopter",
        {"date_seance": "2026-03-12", "voix_pour": 40, "voix_contre": 2, "abstentions": 1},
    )
    assert facts == [
        ("Date de la séance plénière", "12/03/2026"),
        ("Voix pour", "40"),
        ("Voix contre", "2"),
        ("Abstentions", "1"),
    ]
    assert circuit.facts("reprendre", {"version": 4, "motif": "Section « A » modifiée"}) == [
        ("Nouvelle version", "4"),
        ("Modification", "Section « A » modifiée"),
    ]


def test_unknown_step_raises():
    with pytest.raises(LookupError, match="Étape inconnue"):
        circuit.transition("valider")
