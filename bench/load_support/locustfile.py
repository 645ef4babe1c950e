"""The scenario of bench/load, run by locust (in .venv-load, never in the application's venv).

Three kinds of simulated users, each signed in once (on_start) with one of the benchmark's
accounts of a target conference, then browsing with a think time between pages:

- bailleur: conference home, its bilan (own view: objectives and progress), its attribution
  list (first pages), and, less often, an import of a small `attributions` v1 file:
  upload → preview → confirmation → result;
- élu: conference home, bilan (aggregates), the observatory (analysis page, commune list,
  a commune's page, territory map);
- secrétariat: members, representatives, users, audit log, documents.

A request counts as failed when its status is not the expected one, or when a page ends on
the login form (a lost session would otherwise pass as a 200). A refused login fails the
`connexion` request with the reason and stops that simulated user: it is counted, never
silent. Every request's time is also written, at the end, to the file named by
LOAD_SAMPLES, for bench/load's report (exact percentiles per page group).

The users are spawned at the rate bench/load gives; each browses as soon as it has signed
in. The measured window starts once every user has signed in (PBKDF2 costs about 0.4 s of
processor time per login, on purpose) and lasts LOAD_DURATION seconds; then the run stops.

Environment: LOAD_SCENARIO (JSON written by bench/load), LOAD_SAMPLES, LOAD_WAIT
(« min,max » think time in seconds), LOAD_DURATION (seconds).
"""

import itertools
import json
import os
import random
import re
import time
import uuid
from pathlib import Path

import gevent
from locust import HttpUser, between, events, task
from locust.exception import StopUser

SCENARIO = json.loads(Path(os.environ["LOAD_SCENARIO"]).read_text())
WAIT = tuple(float(v) for v in os.environ.get("LOAD_WAIT", "2,8").split(","))
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
IMPORT_LINES = 20
DURATION = float(os.environ.get("LOAD_DURATION", "60"))
SAMPLES: list[tuple[str, float, int, str, float]] = []  # (name, ms, failed, error, start)
CLOCK: dict[str, float] = {}
LOGINS = {"done": 0}
_numbers = itertools.count()
# Random pages and file contents of a load pattern, nothing secret.
rng = random.Random()  # noqa: S311  # nosec B311


@events.request.add_listener
def _record(name, response_time, exception, **_kwargs):
    started = time.time() - response_time / 1000
    SAMPLES.append((name, response_time, int(exception is not None), str(exception or ""), started))


@events.test_start.add_listener
def _start(**_kwargs):
    CLOCK["start"] = time.time()


@events.quitting.add_listener
def _write(**_kwargs):
    CLOCK.setdefault("end", time.time())
    path = os.environ.get("LOAD_SAMPLES")
    if path:
        Path(path).write_text(json.dumps({"clock": CLOCK, "logins": LOGINS, "samples": SAMPLES}))


@events.test_stop.add_listener
def _stop(**_kwargs):
    CLOCK["end"] = time.time()


def _signed_in(environment) -> None:
    """Once every simulated user has signed in (or failed to), the measured window starts;
    it lasts LOAD_DURATION seconds, then the run stops."""
    LOGINS["done"] += 1
    runner = environment.runner
    LOGINS["users"] = runner.target_user_count
    if LOGINS["done"] == runner.target_user_count and "all_in" not in CLOCK:
        CLOCK["all_in"] = time.time()
        gevent.spawn_later(DURATION, runner.quit)


def _csrf(response) -> str | None:
    found = CSRF.search(response.text or "")
    return found.group(1) if found else None


class Member(HttpUser):
    abstract = True
    role = ""
    wait_time = between(*WAIT)

    def on_start(self):
        number = next(_numbers)
        conferences = SCENARIO["conferences"]
        self.conference = conferences[number % len(conferences)]
        self.base = f"/{self.conference['slug']}/"
        accounts = self.conference["accounts"][self.role]
        self.email = accounts[(number // len(conferences)) % len(accounts)]
        try:
            self.login()
        except StopUser:  # refused: counted as an error, and this user has finished signing in
            _signed_in(self.environment)
            raise
        _signed_in(self.environment)

    def login(self):
        with self.client.get(
            "/connexion/", name="connexion (formulaire)", catch_response=True
        ) as r:
            token = _csrf(r) if r.status_code == 200 else None
            if token is None:
                r.failure(f"formulaire de connexion sans jeton CSRF (HTTP {r.status_code})")
                raise StopUser
        with self.client.post(
            "/connexion/",
            data={
                "username": self.email,
                "password": SCENARIO["password"],
                "csrfmiddlewaretoken": token,
                "next": self.base,
            },
            name="connexion",
            allow_redirects=False,
            catch_response=True,
        ) as r:
            if r.status_code != 302 or r.headers.get("Location") != self.base:
                reason = "compte bloqué (axes)" if r.status_code == 429 else "connexion refusée"
                r.failure(f"{reason} pour {self.email} (HTTP {r.status_code})")
                raise StopUser

    def page(self, path: str, name: str, params: dict | None = None):
        """GET a page of the conference; fails unless 200 and still signed in."""
        with self.client.get(
            self.base + path, params=params, name=f"{self.role} : {name}", catch_response=True
        ) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code}")
            elif "/connexion/" in r.url:
                r.failure("renvoyé au formulaire de connexion (session perdue)")
            return r


class Bailleur(Member):
    role = "bailleur"
    weight = 4

    @task(2)
    def home(self):
        self.page("", "accueil de la conférence")

    @task(3)
    def bilan(self):
        self.page("bilan/", "bilan (objectifs, avancement)")

    @task(3)
    def attributions(self):
        page = rng.choice([None, None, 2, 3, 4, 5])
        self.page("attributions/", "liste des attributions", {"page": page} if page else None)

    @task(1)
    def import_file(self):
        """A small file: upload (checked at once: under CIL_IMPORT_ASYNC_LINES), preview,
        confirmation, result."""
        form = self.page("imports/", "import : formulaire")
        token = _csrf(form)
        if token is None:
            return
        content = self._file().encode("utf-8-sig")
        with self.client.post(
            self.base + "imports/",
            data={"csrfmiddlewaretoken": token},
            files={"file": ("attributions.csv", content, "text/csv")},
            name=f"{self.role} : import : dépôt et vérification",
            allow_redirects=False,
            catch_response=True,
        ) as r:
            if r.status_code != 302:
                r.failure(f"dépôt refusé (HTTP {r.status_code})")
                return
            detail = r.headers["Location"]
        with self.client.get(
            detail, name=f"{self.role} : import : aperçu", catch_response=True
        ) as r:
            token = _csrf(r)
            if r.status_code != 200 or token is None or "Confirmer l'import" not in r.text:
                r.failure(f"fichier non prêt à importer (HTTP {r.status_code})")
                return
        with self.client.post(
            detail + "confirmer/",
            data={"csrfmiddlewaretoken": token},
            name=f"{self.role} : import : confirmation",
            allow_redirects=False,
            catch_response=True,
        ) as r:
            if r.status_code != 302:
                r.failure(f"confirmation refusée (HTTP {r.status_code})")
                return
        with self.client.get(
            detail, name=f"{self.role} : import : résultat", catch_response=True
        ) as r:
            if r.status_code != 200 or "Résultat de l'import" not in r.text:
                r.failure(f"import non terminé (HTTP {r.status_code})")

    def _file(self) -> str:
        header = (
            "reference;bailleur_siren;date_signature_bail;commune_insee;typologie;financement;"
            "reservataire;nb_personnes;nb_enfants_moins_14;revenu_annuel;dalo;prioritaire"
        )
        batch = uuid.uuid4().hex[:12]
        lines = [header]
        for i in range(IMPORT_LINES):
            size = rng.randint(1, 5)
            lines.append(
                ";".join(
                    [
                        f"{SCENARIO['import_prefix']}{batch}-{i:03d}",
                        self.conference["bailleur_siren"],
                        f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{SCENARIO['year']}",
                        rng.choice(self.conference["communes"]),
                        rng.choice(["T1", "T2", "T3", "T4", "T5"]),
                        rng.choice(["PLAI", "PLUS", "PLS"]),
                        rng.choice(["non_reserve", "action_logement", "etat_prioritaires"]),
                        str(size),
                        str(rng.randint(0, size - 1)),
                        f"{rng.randint(0, 40000)},{rng.randint(0, 99):02d}",
                        rng.choice(["oui", "non", "non", "non"]),
                        rng.choice(["oui", "non"]),
                    ]
                )
            )
        return "\r\n".join(lines) + "\r\n"


class Elu(Member):
    role = "elu"
    weight = 4

    @task(1)
    def home(self):
        self.page("", "accueil de la conférence")

    @task(3)
    def bilan(self):
        self.page("bilan/", "bilan (agrégats)")

    @task(1)
    def observatoire(self):
        self.page("observatoire/", "observatoire : analyse")

    @task(2)
    def communes(self):
        self.page("observatoire/communes/", "observatoire : communes")

    @task(3)
    def commune(self):
        insee = rng.choice(self.conference["communes"])
        self.page(f"observatoire/communes/{insee}/", "observatoire : page d'une commune")

    @task(2)
    def carte(self):
        self.page("observatoire/carte/", "observatoire : carte")


class Secretariat(Member):
    role = "secretariat"
    weight = 2

    @task(1)
    def home(self):
        self.page("", "accueil de la conférence")

    @task(3)
    def members(self):
        self.page("membres/", "membres")

    @task(1)
    def representatives(self):
        self.page("representants/", "représentants")

    @task(2)
    def users(self):
        self.page("utilisateurs/", "utilisateurs")

    @task(2)
    def audit(self):
        self.page("journal/", "journal d'audit")

    @task(2)
    def documents(self):
        self.page("documents/", "documents")
