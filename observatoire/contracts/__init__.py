"""The files the observatory imports, as contracts (pure Python, no Django):

- `demandes`: the `demandes` v1 contract (docs/formats-demandes.md), one line per demand;
- `rpls`: the RPLS open-data file as the State publishes it (docs/formats-rpls.md): columns
  found by name, the rest ignored;
- `financement`: the one table from RPLS financing codes to the platform's groups;
- `qpv`: the ANCT list of the QPV (one line per QPV, or per QPV and commune);
- `common`: what they share (communes and the Paris/Lyon/Marseille arrondissements).

Values typed by a person go through the same parsers as the `attributions` v1 contract
(`attributions.contract`): a date, an amount or a yes/no reads the same in every file.
"""
