# arena/platform-runtime: CPython 3.12 and the platform's dependencies, no source. Built with no
# network by infra/platform-image/build.py, which puts into the context the host's CPython 3.12
# build (python/, pruned of its tests and static library), pip and every wheel (wheels/).
ARG BASE_IMAGE=arena/sandbox-base:latest

FROM ${BASE_IMAGE} AS install
# Marks this stage's leftover image, which the builder prunes after the build.
LABEL arena.build-stage=install
COPY python /opt/python
COPY wheels /wheels
# The interpreter was built with a shared libpython under another prefix: the loader finds it here.
RUN echo /opt/python/lib > /etc/ld.so.conf.d/arena-python.conf && ldconfig \
    && pip_wheel="$(echo /wheels/pip-*.whl)" \
    && /opt/python/bin/python3.12 "$pip_wheel/pip" install --no-index --find-links /wheels --no-cache-dir \
            --disable-pip-version-check --no-warn-script-location --root-user-action=ignore \
            --prefix /opt/python -r /wheels/requirements.txt \
    && /opt/python/bin/python3.12 -c "import ssl, sqlite3, ctypes, lzma, bz2, zlib, uuid, decimal; \
import django, celery, kombu, redis, psycopg, numpy, sklearn, boto3, storages, docker, gunicorn, prometheus_client"

# The wheels stay behind in the first stage: the image only gets the installed packages.
FROM ${BASE_IMAGE}
COPY --from=install /opt/python /opt/python
RUN echo /opt/python/lib > /etc/ld.so.conf.d/arena-python.conf && ldconfig \
    && ln -s /opt/python/bin/python3.12 /usr/local/bin/python \
    && echo "arena:x:10001:10001:AffectArena:/app:/usr/sbin/nologin" >> /etc/passwd \
    && echo "arena:x:10001:" >> /etc/group \
    && mkdir -p /var/lib/arena && chown 10001:10001 /var/lib/arena
ENV PATH=/opt/python/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
