"""Placeholder replaced by the bilan work item (stored, invalidated per conference × year)."""


def invalidate(*, conference_id: int, years: list[int]) -> None:
    return None
