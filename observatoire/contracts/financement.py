"""From the financing code of an RPLS dwelling to the platform's financing groups (PLAI, PLUS,
PLS, PLI, autre): the ONE table the import uses (docs/formats-rpls.md shows it).

Source of the codes: the list of "financement initial du logement locatif social" of the RPLS
collection format (arrêtés taken under CCH R.411-3, the 2010 arrêté and its successors):
before 1977 (1983 overseas) 50 HBM, 51 PLR/PSR, 52 HLM/O, 53 ILM, 54 ILN, 55 prêts spéciaux du
CFF, 99 autre; from 1977 10 PLA d'intégration, 11 PLA loyer minoré / très social / insertion,
12 PLA ordinaire, 13 PLUS, 14 PLS / PPLS / PCLS / PLA CFF, 15 PAP locatif, 16 PLI, 17 PCL,
49 autre. That the SDES open-data file uses exactly these codes in every millésime is NOT
confirmed (domain-reference §4.3): the raw code is always kept (`Dwelling.financement_code`),
a code absent from this table is counted as unknown in the import's report and grouped as
« autre », and changing the table changes only the group.

The grouping (which older financing counts with which current one) is the platform's
reading, not a legal rule [M]: the old PLA (intégration, très social, insertion) are the
PLAI's predecessors, the PLA ordinaire and the pre-1977 HLM/O, HBM and PLR/PSR stock are
counted with the PLUS (as the SDES publications count a "PLUS financé avant 1977"), ILM and
ILN (intermediate rents) with the PLI.
"""

from dataclasses import dataclass

PLAI, PLUS, PLS, PLI, AUTRE = "PLAI", "PLUS", "PLS", "PLI", "autre"


@dataclass(frozen=True)
class FinancingCode:
    code: str
    label: str
    group: str


FINAN_CODES: tuple[FinancingCode, ...] = (
    FinancingCode("10", "PLA d'intégration (LLTS dans les DOM)", PLAI),
    FinancingCode("11", "PLA loyer minoré, très social ou insertion", PLAI),
    FinancingCode("12", "PLA ordinaire", PLUS),
    FinancingCode("13", "PLUS (LLS dans les DOM)", PLUS),
    FinancingCode("14", "PLS, PPLS, PCLS, PLA CFF", PLS),
    FinancingCode("15", "PAP locatif", AUTRE),
    FinancingCode("16", "PLI", PLI),
    FinancingCode("17", "PCL (conventionné ou non)", AUTRE),
    FinancingCode("49", "Autre financement (depuis 1977)", AUTRE),
    FinancingCode("50", "HBM", PLUS),
    FinancingCode("51", "PLR, PSR", PLUS),
    FinancingCode("52", "HLM/O", PLUS),
    FinancingCode("53", "ILM", PLI),
    FinancingCode("54", "ILN", PLI),
    FinancingCode("55", "Prêts spéciaux du CFF", AUTRE),
    FinancingCode("99", "Autre financement (avant 1977)", AUTRE),
)
GROUP_OF_CODE = {row.code: row.group for row in FINAN_CODES}
# `finan_cus`: the financing group a bailleur under a CUS declares for rent ceilings (CCH
# R.411-3 g, L.445-2), given as the group's name.
CUS_GROUPS = {PLAI: PLAI, PLUS: PLUS, PLS: PLS, PLI: PLI}


def normalised_code(raw: str) -> str:
    """A FINAN code as written ("13", "13.0" from a spreadsheet, " 13 "): its digits, without
    a decimal part; any other text upper-cased as is."""
    value = str(raw).strip()
    if value.endswith(".0") and value[:-2].isdigit():
        value = value[:-2]
    return value.upper()


KNOWN, UNKNOWN, ABSENT = "known", "unknown", "absent"


def group_of(finan: str, finan_cus: str = "") -> tuple[str, str]:
    """(group, status) of a dwelling: the group of its FINAN code; when that code is blank or
    not in the table, the group its `finan_cus` names (PLAI, PLUS, PLS or PLI); else « autre ».
    `status`: KNOWN (a group was found), UNKNOWN (a FINAN code the table does not list, and
    no CUS group), ABSENT (no financing given at all)."""
    code = normalised_code(finan) if finan else ""
    group = GROUP_OF_CODE.get(code)
    if group is not None:
        return group, KNOWN
    cus = CUS_GROUPS.get(str(finan_cus).strip().upper()) if finan_cus else None
    if cus is not None:
        return cus, KNOWN
    return AUTRE, UNKNOWN if code else ABSENT
