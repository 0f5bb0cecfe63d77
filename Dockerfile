# syntax=docker/dockerfile:1
# PhotoListing production image: one image for web (gunicorn), workers and beat; the command
# picks the role (compose.yaml). Multi-stage: build tools stay in the first stage, the runtime
# image is python:3.12-slim with the locked dependencies, the code and the collected static files,
# running as an unprivileged user.
#
#   docker build -t photolisting .
#   docker run --env-file ops/env/production.env -p 8000:8000 photolisting
#
# (Not built on the development machines: they have no Docker engine.)

ARG PYTHON_IMAGE=python:3.12-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv
RUN pip install --no-cache-dir uv
WORKDIR /app
# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
# Hashed, compressed static files (WhiteNoise's manifest storage) under production settings;
# the placeholders below only let the settings load: nothing is contacted at import.
RUN SECRET_KEY=build ALLOWED_HOSTS=build EMAIL_URL=consolemail:// SITE_URL=https://build \
    DATABASE_URL=postgres://build/build REDIS_URL=redis://build:6379/0 STORAGE_BACKEND=s3 \
    AWS_STORAGE_BUCKET_ORIGINALS=b AWS_STORAGE_BUCKET_PROCESSED=b \
    AWS_STORAGE_BUCKET_THUMBNAILS=b AWS_STORAGE_BUCKET_EXPORTS=b \
    JWT_PRIVATE_KEY="$(/opt/venv/bin/python -c 'from photolisting.settings.keys import new_private_key_pem as k; print(k())')" \
    PHOTOLISTING_VAR_DIR=/app/var \
    /opt/venv/bin/python manage.py collectstatic --no-input -v0

FROM ${PYTHON_IMAGE} AS runtime
# libgomp for OpenCV/dlib; nothing else the wheels do not bring.
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin photolisting
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=photolisting.settings.production \
    PHOTOLISTING_VAR_DIR=/var/lib/photolisting \
    PROMETHEUS_MULTIPROC_DIR=/run/photolisting/metrics \
    GUNICORN_BIND=0.0.0.0:8000
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=root:root /app /app
RUN mkdir -p /var/lib/photolisting /run/photolisting/metrics \
 && chown photolisting /var/lib/photolisting /run/photolisting/metrics
WORKDIR /app
USER photolisting
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "ops/healthcheck.py"]
# The web role; workers and beat override the command (compose.yaml).
CMD ["gunicorn", "-c", "ops/gunicorn.conf.py"]
