# Loupe in a container: the same set-up as the README's `make run`.
FROM python:3.11-slim

# make is the only system package; the base image's Debian release fixes its version.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends make \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# Dependencies first, so code changes do not reinstall them.
COPY Makefile requirements.txt requirements-nodeps.txt ./
RUN make .venv/.installed PYTHON=python3.11

COPY . .
ENV LOUPE_HOME=/data/loupe
VOLUME ["/data/loupe"]
EXPOSE 8501
# `make run` builds the demo models on first start (a few minutes), then serves on 0.0.0.0:8501.
CMD ["make", "run"]
