# One image, three roles: `clickstream api | etl | migrate` (helm/clickstream
# runs it all three ways). Dependencies come from uv.lock only.
#
# The base is a build argument so that machines without a registry can build
# from a locally imported Debian rootfs (scripts/k8s/base-image.sh); both
# stages must use the same base because the virtualenv links to its python3.
ARG BASE_IMAGE=docker.io/library/python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
ARG UV_VERSION=0.13.9
ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1 \
    UV_PROJECT_ENVIRONMENT=/opt/clickstream
# Machines behind a TLS-inspecting proxy pass its CA bundle as a build secret
# (`--secret id=build-ca,src=/etc/ssl/certs/ca-certificates.crt`): it is used
# for downloads in this stage only and never lands in a layer.
RUN printf '%s\n' '#!/bin/sh' \
        'if [ -s /run/secrets/build-ca ]; then' \
        '    export SSL_CERT_FILE=/run/secrets/build-ca PIP_CERT=/run/secrets/build-ca' \
        'fi' \
        'exec "$@"' > /usr/local/bin/with-build-ca \
    && chmod +x /usr/local/bin/with-build-ca
RUN --mount=type=secret,id=build-ca \
    python3 -m venv /opt/uv \
    && with-build-ca /opt/uv/bin/pip install "uv==${UV_VERSION}"
WORKDIR /src
# Dependencies first: this layer is rebuilt only when the lock changes.
COPY pyproject.toml uv.lock ./
RUN --mount=type=secret,id=build-ca \
    with-build-ca /opt/uv/bin/uv sync --frozen --no-dev --no-install-project --python python3
COPY README.md ./
# The product only: src/clickstream_local (the development stack) is no part of the image.
COPY src/clickstream ./src/clickstream
# --no-editable: the package is copied into the venv, so /src is not needed at runtime.
RUN --mount=type=secret,id=build-ca \
    with-build-ca /opt/uv/bin/uv sync --frozen --no-dev --no-editable --python python3

FROM ${BASE_IMAGE} AS runtime
# Bytecode was compiled at build time (UV_COMPILE_BYTECODE); the root
# filesystem is read-only in Kubernetes, so nothing may try to write .pyc files.
# HOME points at /tmp (an emptyDir in the chart) because some tools write under
# ~ (gunicorn's control socket, for example).
ENV PATH=/opt/clickstream/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    TMPDIR=/tmp
RUN groupadd --gid 10001 clickstream \
    && useradd --uid 10001 --gid 10001 --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin clickstream
COPY --from=build /opt/clickstream /opt/clickstream
# Numeric so that Kubernetes' runAsNonRoot can verify it without /etc/passwd.
USER 10001:10001
WORKDIR /tmp
EXPOSE 8000 9108
ENTRYPOINT ["clickstream"]
CMD ["api"]
