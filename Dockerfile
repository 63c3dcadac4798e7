# The keysweep GitHub Action's image (action.yml: runs.using docker, image Dockerfile).
# The base is named through an argument so that a locally made image can stand in for it
# (tests/test_action_image.py builds on a debootstrap Debian with buildah); pinned by major
# version, Debian-based, as GitHub recommends for container actions.
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# keysweep from this checkout, into a virtual environment: Debian's own Python refuses a system
# pip install (PEP 668), and a venv behaves the same on the official image. Absolute paths
# throughout, no WORKDIR: the runner mounts the workspace and makes it the working directory.
COPY pyproject.toml README.md /opt/keysweep-src/
COPY scanner /opt/keysweep-src/scanner
RUN python3 -m venv /opt/keysweep \
    && /opt/keysweep/bin/pip install /opt/keysweep-src \
    && rm -rf /opt/keysweep-src
ENV PATH=/opt/keysweep/bin:$PATH

# Smoke test: the installed command starts.
RUN keysweep --version

COPY entrypoint.sh /entrypoint.sh

# No USER: the action runs as root, the only user that can read the mounted workspace.
ENTRYPOINT ["/entrypoint.sh"]
