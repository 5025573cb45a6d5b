# syntax=docker/dockerfile:1
# The portal's image. One image for every process (compose.yaml): the web process (gunicorn, the
# default command), the Celery worker and Celery beat; all read the same environment
# (config.env.sample), secrets as files (NAME_FILE=/run/secrets/...).
#
# Debian bookworm with Python 3.11, the Python the locks are made for. Only the runtime lock is
# installed (requirements.lock, with its hashes): no test tool, no browser.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: the virtual environment, the compiled translations, the collected static files ----
FROM ${PYTHON_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

# gettext: msgfmt, for compilemessages (the .mo files are not committed).
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv
COPY requirements.lock /tmp/requirements.lock
RUN /opt/venv/bin/pip install --require-hashes -r /tmp/requirements.lock \
    && /opt/venv/bin/pip check

WORKDIR /app
COPY . .

# The settings refuse to load in production without these; the values below exist for these
# two commands only and stay in no layer's environment. collectstatic writes files readable by
# their owner's group only (FILE_UPLOAD_PERMISSIONS): the image's user must read them.
RUN export DJANGO_ENV=production \
        DJANGO_SECRET_KEY=build-only-not-a-secret-build-only-not-a-secret-0000 \
        DJANGO_ALLOWED_HOSTS=build.invalid \
        DATABASE_URL=postgres://build@build.invalid:5432/build \
        REDIS_URL=redis://build.invalid:6379/0 \
        EDS_WAREHOUSE_KEY=build-only-not-a-secret-build-only-0000 \
        EDS_PROVISIONING_KEY=build-only-not-a-secret-build-only-0000 \
    && /opt/venv/bin/python manage.py compilemessages --ignore=.venv --ignore=var -v 0 \
    && /opt/venv/bin/python manage.py collectstatic --no-input -v 0 \
    && chmod -R a+rX var locale

# --- runtime -----------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}

# WeasyPrint (decision letters and register answers as PDF) loads Pango, its FreeType backend and
# HarfBuzz with its subsetting library; the letters ask for the DejaVu fonts (fontconfig).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 \
        fontconfig fonts-dejavu-core fonts-dejavu-extra \
    && rm -rf /var/lib/apt/lists/*

# A fixed, unprivileged account: the shared volumes' files belong to it (uid 10001).
RUN groupadd --system --gid 10001 eds \
    && useradd --system --uid 10001 --gid eds --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin eds \
    && mkdir -p /data/datasets /data/var/private \
    && chown -R eds:eds /data

COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_ENV=production \
    EDS_DATASETS_DIR=/data/datasets \
    EDS_PRIVATE_STORAGE_DIR=/data/var/private

WORKDIR /app
USER eds
EXPOSE 8000

# Workers: WEB_CONCURRENCY (gunicorn reads it; 1 by default). The worker's heartbeat file lives in
# memory (/dev/shm), not on the container's layered file system. No control socket (gunicornc):
# it would go to $HOME, which the image's user may not write.
CMD ["gunicorn", "eds_portal.wsgi", "--bind", "0.0.0.0:8000", "--worker-tmp-dir", "/dev/shm", \
     "--access-logfile", "-", "--no-control-socket"]
