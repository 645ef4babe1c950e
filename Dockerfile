# Production image of the CIL platform: runtime dependencies only, pinned by requirements.lock,
# served by gunicorn as an unprivileged user. See docker-compose.yml for the whole stack.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_ENV=production

# WeasyPrint's native libraries and a font for the PDFs.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 libfontconfig1 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 cil \
    && useradd --system --uid 10001 --gid cil --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin cil

WORKDIR /app

# Dependencies first, so that a code change does not reinstall them. (README.md is the
# project's long description: the build needs it.)
COPY pyproject.toml requirements.lock README.md ./
RUN pip install -c requirements.lock . \
    && rm -rf build *.egg-info

# The code belongs to root and stays read-only for the application user; only var/ (media,
# beat schedule) is writable.
COPY . .
RUN DJANGO_ENV=production SECRET_KEY=collectstatic-only-build-time-placeholder-not-a-secret-0000 \
        ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput \
    && mkdir -p var/media var/beat \
    && chown cil:cil var var/media var/beat

USER cil
EXPOSE 8000

ENTRYPOINT ["scripts/docker-entrypoint"]
CMD ["gunicorn", "cil.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--no-control-socket"]
