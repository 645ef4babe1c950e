"""Demo data of the observatory: demand and offer consistent with the demo attributions, and
a fictional boundaries file for the map (cil.demo.DEMO_STEPS)."""


def add_observatoire(ctx) -> None:
    """Filled by the observatory's demo work (issue 5)."""
