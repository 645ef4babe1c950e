# Plateforme CIL — developer and CI entry points. `make help` lists them.
#
# Everything runs from the project's virtual environment (.venv), installed from
# pyproject.toml under the pins of requirements.lock.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON3 ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON := $(BIN)/python
STAMP := $(VENV)/.installed

# Address of the development server (make demo / make run).
ADDR ?= 0.0.0.0:8000
# PostgreSQL used by the tests and the migrations check (pytest-django creates test_<name>).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/cil
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-x -k tenant"` or `PYTEST_ARGS="-n auto"`.
PYTEST_ARGS ?=

# Programs started from recipes (pytest's subprocesses, bench scripts) find the venv first.
export PATH := $(CURDIR)/$(BIN):$(PATH)
export VIRTUAL_ENV := $(CURDIR)/$(VENV)

.PHONY: help install demo run worker beat test quality lint format-check migrations-check \
	deploy-check security bandit pip-audit pytest format services system-deps lock bench proof clean

help:
	@echo "Cibles principales :"
	@echo "  make demo      installe, migre, charge le territoire de démonstration et lance http://localhost:8000"
	@echo "  make test      installe et exécute toute la chaîne qualité + tests (PostgreSQL)"
	@echo "Autres cibles :"
	@echo "  make install   crée .venv et installe les dépendances figées (requirements.lock)"
	@echo "  make run       lance le serveur de développement ($(ADDR))"
	@echo "  make worker    lance un worker Celery (CELERY_BROKER_URL requis)"
	@echo "  make beat      lance l'ordonnanceur Celery beat (CELERY_BROKER_URL requis)"
	@echo "  make quality   ruff (lint + format) et vérification des migrations"
	@echo "  make security  bandit (code) et pip-audit (vulnérabilités connues des dépendances)"
	@echo "  make format    reformate le code et applique les corrections automatiques de ruff"
	@echo "  make lock      régénère requirements.lock depuis pyproject.toml"
	@echo "  make bench     exécute les bancs d'essai de bench/"
	@echo "  make proof     affiche toutes les mesures de preuve (sécurité, pannes, charge, accessibilité)"
	@echo "  make clean     supprime .venv, les caches et les fichiers générés (garde var/cil.sqlite3)"

# --- Installation ---------------------------------------------------------------------

install: $(STAMP)

# Re-run only when the dependencies or their pins changed; the stamp lives in the venv, so
# removing .venv starts over.
$(STAMP): pyproject.toml requirements.lock
	@test -x $(PYTHON) || $(PYTHON3) -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	@touch $@

# Regenerate the pins: newest versions allowed by pyproject.toml, resolved in a throw-away
# venv (never the project's own, so nothing stale leaks in).
lock:
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(PYTHON3) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip; \
	"$$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[dev]'; \
	{ \
	  echo "# Pinned versions of every dependency, runtime and dev extras, all transitive ones included."; \
	  echo "# Used as a constraints file:"; \
	  echo "#   pip install -c requirements.lock -e '.[dev]'   (make install: development, tests, CI)"; \
	  echo "#   pip install -c requirements.lock .             (Dockerfile: runtime only)"; \
	  echo "# Do not edit by hand. To change a dependency, edit [project] in pyproject.toml, then run"; \
	  echo "# \`make lock\`: it resolves the newest allowed versions in a throw-away venv and rewrites"; \
	  echo "# this file from \`pip freeze --exclude-editable\`."; \
	  echo "# Generated with $$("$$tmp/venv/bin/python" --version) on $$(uname -m)."; \
	  "$$tmp/venv/bin/python" -m pip freeze --exclude-editable; \
	} > requirements.lock.new; \
	mv requirements.lock.new requirements.lock; \
	echo "requirements.lock régénéré ($$(grep -vc '^#' requirements.lock) paquets)."

# --- Running --------------------------------------------------------------------------

# With no environment set: SQLite in var/cil.sqlite3, Celery tasks run inline, mails on
# the console.
demo: install
	@mkdir -p var
	$(PYTHON) manage.py migrate --noinput
	$(PYTHON) manage.py load_demo
	@echo "Démonstration prête : http://localhost:$(lastword $(subst :, ,$(ADDR))) (identifiants : voir README.md)."
	$(PYTHON) manage.py runserver $(ADDR)

run: install
	@mkdir -p var
	$(PYTHON) manage.py runserver $(ADDR)

define require_broker
	@if [ -z "$${CELERY_BROKER_URL:-}" ]; then \
	  echo "CELERY_BROKER_URL n'est pas défini (ex. redis://127.0.0.1:6379/0) : sans courtier," >&2; \
	  echo "les tâches s'exécutent déjà dans le processus web et un worker n'a rien à faire." >&2; \
	  exit 1; \
	fi
endef

worker: install
	$(require_broker)
	$(BIN)/celery -A cil worker -l info

beat: install
	$(require_broker)
	@mkdir -p var
	$(BIN)/celery -A cil beat -l info --schedule var/celerybeat-schedule

# --- Quality and tests ----------------------------------------------------------------

# Every step runs even when an earlier one fails (make -k), so one run reports every
# problem; pytest comes last so that its summary closes the output.
test: install services system-deps
	@$(MAKE) -k lint format-check migrations-check deploy-check security pytest || { \
	  echo "ÉCHEC : au moins une étape de « make test » a échoué (voir les erreurs ci-dessus)." >&2; \
	  exit 1; \
	}

quality: install
	@$(MAKE) -k lint format-check migrations-check || { \
	  echo "ÉCHEC : au moins une vérification de « make quality » a échoué (voir ci-dessus)." >&2; \
	  exit 1; \
	}

lint: install
	$(BIN)/ruff check .

format-check: install
	$(BIN)/ruff format --check .

migrations-check: install
	DATABASE_URL=$(TEST_DATABASE_URL) $(PYTHON) manage.py makemigrations --check --dry-run

# The production settings must pass Django's deployment checklist with no warning. The key
# is random for each run: nothing here may depend on a known secret.
deploy-check: install
	DJANGO_ENV=production \
	SECRET_KEY="$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(64))')" \
	ALLOWED_HOSTS=cil.example.fr \
	$(PYTHON) manage.py check --deploy --fail-level WARNING

# Security gates. bandit: findings of medium severity and confidence or more over the shipped
# code (configuration in pyproject.toml, [tool.bandit]); ruff's S rules run in `lint`.
# pip-audit: known vulnerabilities of the pinned dependencies; where the vulnerability
# service cannot be reached, scripts/pip-audit-gate says so and does not fail.
security: install
	@$(MAKE) -k bandit pip-audit

bandit: install
	$(BIN)/bandit -c pyproject.toml -r . --severity-level medium --confidence-level medium -q

pip-audit: install
	@scripts/pip-audit-gate

# pytest's own exit code goes through unchanged; 5 (no test collected) is an error too.
pytest: install
	@rc=0; \
	env -u DJANGO_SETTINGS_MODULE DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "ÉCHEC : pytest n'a collecté aucun test." >&2; fi; \
	exit $$rc

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

services:
	@scripts/services-up

system-deps:
	@scripts/ensure-system-deps

# --- Benchmarks -----------------------------------------------------------------------

bench: install services
	@found=0; \
	for script in bench/*; do \
	  if [ -f "$$script" ] && [ -x "$$script" ]; then \
	    found=1; echo "==> $$script"; "$$script"; \
	  fi; \
	done; \
	if [ $$found -eq 0 ]; then echo "Aucun banc d'essai exécutable dans bench/."; fi

# Every figure of the proof under load, faults and hostile input, in one run (scripts/proof;
# PROOF_SKIP_LOAD=1 leaves out the ten-minute load run).
proof: install services system-deps
	@scripts/proof

# --- Cleaning -------------------------------------------------------------------------

# Keeps the demo database (var/cil.sqlite3) and uploaded files (var/media).
clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info tests/artifacts \
		var/static var/celerybeat-schedule*
	find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
