# syntax=docker/dockerfile:1
# yaffw images: one target per process, all from one dependency layer.
#   docker build --target api          -t yaffw-api .
#   docker build --target transcode    -t yaffw-transcode .    (FFmpeg: libx264, NVENC, VAAPI, QSV)
#   docker build --target scan         -t yaffw-scan .         (FFmpeg for ffprobe)
#   docker build --target lease-reaper -t yaffw-lease-reaper .
#   docker build --target migrate      -t yaffw-migrate .      (also creates the S3 bucket)
# The code keeps the repository's layout under /app (lib/, functions/, db/migrations/): yaffw finds
# db/migrations and functions/<name>/main.py relative to its own package, as it does in a checkout.
# Every image runs as the unprivileged user 10001 under tini, which passes SIGTERM on to the process
# (the transcode worker drains on it) and reaps FFmpeg children.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- dependencies: a virtualenv with yaffw's requirements and yaffw itself (editable -> /app/lib)
FROM ${PYTHON_IMAGE} AS deps
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY pyproject.toml ./
COPY lib/ ./lib/
RUN pip install -e . && rm -rf /app/lib/*.egg-info

# --- common runtime: Python, the virtualenv, the shared package and the migrations
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH PORT=8080
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 yaffw \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin yaffw
COPY --from=deps /opt/venv /opt/venv
WORKDIR /app
COPY pyproject.toml ./
COPY lib/ ./lib/
COPY db/ ./db/
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--"]

# --- runtime with FFmpeg (Debian's build has libx264 and the NVENC, VAAPI and QSV encoders)
FROM runtime AS runtime-ffmpeg
USER root
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg \
    && rm -rf /var/lib/apt/lists/*
USER 10001:10001

FROM runtime AS api
COPY functions/api/ ./functions/api/
CMD ["python", "functions/api/main.py"]

FROM runtime-ffmpeg AS transcode
COPY functions/transcode/ ./functions/transcode/
CMD ["python", "functions/transcode/main.py"]

FROM runtime-ffmpeg AS scan
COPY functions/scan/ ./functions/scan/
CMD ["yaffw", "function", "scan"]

FROM runtime AS lease-reaper
COPY functions/lease-reaper/ ./functions/lease-reaper/
CMD ["yaffw", "function", "lease-reaper"]

FROM runtime AS migrate
CMD ["yaffw", "migrate"]
