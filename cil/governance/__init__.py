"""Governance of the conference (CCH L.441-1-5): sessions, convocations, attendance and
proxies, quorum, votes, decisions and minutes."""
