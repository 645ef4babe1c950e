"""Demo sessions (cil.demo.DEMO_STEPS)."""


def add_sessions(ctx) -> None:
    """Filled by the governance work (issue 6)."""
