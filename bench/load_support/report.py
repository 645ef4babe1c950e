"""The figures of one locust run of bench/load, from the samples the locustfile wrote (every
request: name, time, failure): requests, requests per second, p50/p95/p99 and error rate,
overall, per role and per page group; the errors by message; the verdict against the
targets."""

import json
import math
from collections import Counter, defaultdict
from pathlib import Path

TARGET_P95_MS = 250  # at 100 users
TARGET_ERRORS = 0


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (the value below which `share` of the samples fall)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def figures(samples: list, seconds: float) -> dict:
    times = [s[1] for s in samples]
    failed = sum(s[2] for s in samples)
    return {
        "requests": len(samples),
        "rps": len(samples) / seconds if seconds else math.nan,
        "p50": percentile(times, 0.50),
        "p95": percentile(times, 0.95),
        "p99": percentile(times, 0.99),
        "max": max(times) if times else math.nan,
        "failed": failed,
        "error_rate": failed / len(samples) if samples else 0.0,
    }


def _row(label: str, f: dict) -> list[str]:
    return [
        label,
        f"{f['requests']}",
        f"{f['rps']:.1f}",
        f"{f['p50']:.0f}",
        f"{f['p95']:.0f}",
        f"{f['p99']:.0f}",
        f"{f['max']:.0f}",
        f"{f['failed']} ({f['error_rate'] * 100:.2f} %)",
    ]


def _table(rows: list[list[str]]) -> str:
    header = ["groupe", "requêtes", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "erreurs"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "+-" + "-+-".join("-" * w for w in widths) + "-+"

    def fmt(row):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        return "| " + " | ".join(cells) + " |"

    return "\n".join([line, fmt(header), line, *(fmt(r) for r in rows), line])


def report(path: Path, users: int) -> tuple[str, dict]:
    """The printed report and the overall figures of the measured window (from the moment
    every user has signed in to the end); the logins are counted over the whole run."""
    data = json.loads(path.read_text())
    clock, samples = data["clock"], data["samples"]
    logins = [s for s in samples if s[0].startswith("connexion")]
    notes = []
    window_start = clock.get("all_in")
    if window_start is None:
        window_start = clock["start"]
        done = data.get("logins", {}).get("done", 0)
        notes.append(
            f"Attention : {users - done} connexions sur {users} n'avaient pas abouti à la fin "
            "du tir (arrêté au bout de utilisateurs / rythme + durée + 120 s) : la fenêtre est "
            "alors tout le tir."
        )
    seconds = clock["end"] - window_start
    window = [s for s in samples if s[4] >= window_start and not s[0].startswith("connexion")]
    overall = figures(window, seconds)
    login_seconds = (clock.get("all_in") or clock["end"]) - clock["start"]
    by_role, by_name = defaultdict(list), defaultdict(list)
    for sample in window:
        role, _sep, _rest = sample[0].partition(" : ")
        by_role[role].append(sample)
        by_name[sample[0]].append(sample)
    rows = [_row("TOUTES LES PAGES (fenêtre mesurée)", overall)]
    rows += [
        _row(f"rôle {role}", figures(group, seconds)) for role, group in sorted(by_role.items())
    ]
    rows += [_row(name, figures(group, seconds)) for name, group in sorted(by_name.items())]
    if clock.get("all_in") is not None:
        early = [s for s in samples if s[4] < window_start and not s[0].startswith("connexion")]
        rows.append(
            _row("pages pendant les connexions (hors fenêtre)", figures(early, login_seconds))
        )
    rows.append(_row("connexion (formulaire + mot de passe)", figures(logins, login_seconds)))
    if not window:
        notes.append(
            "Serveur saturé : aucune page demandée dans la fenêtre n'a abouti avant la fin du tir "
            "(les requêtes en cours à l'arrêt ne sont pas comptées)."
        )
    out = [
        f"Connexion des {users} utilisateurs : {login_seconds:.0f} s ; fenêtre mesurée : "
        f"{seconds:.0f} s",
        *notes,
        _table(rows),
    ]
    failed_logins = sum(s[2] for s in logins)
    errors = Counter((s[0], s[3]) for s in [*window, *logins] if s[2])
    if errors:
        out.append("Erreurs :")
        out += [
            f"  - {count} × {name} : {message}" for (name, message), count in errors.most_common(15)
        ]
    overall["failed_logins"] = failed_logins
    return "\n".join(out), overall


def verdict(users: int, overall: dict) -> str:
    if not overall["requests"]:
        return "serveur saturé, aucune page mesurée : MANQUÉ"
    failed = overall["failed"] + overall["failed_logins"]
    errors = "OK" if failed <= TARGET_ERRORS else "MANQUÉ"
    text = f"erreurs {failed} (cible {TARGET_ERRORS}) : {errors}"
    if users == 100:
        p95 = "OK" if overall["p95"] <= TARGET_P95_MS else "MANQUÉ"
        text = f"p95 {overall['p95']:.0f} ms (cible ≤ {TARGET_P95_MS} ms) : {p95} ; " + text
    else:
        text = f"p95 {overall['p95']:.0f} ms (pas de cible de temps à {users}) ; " + text
    return text
