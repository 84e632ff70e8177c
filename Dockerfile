# Two stages on Debian 12: build and test, then a slim runtime with the binary, the
# migrations and the configuration. Packages come from the same script the README uses.

FROM debian:12 AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN rm -rf build build-asan \
 && scripts/build.sh build -DSEEDHOOK_TESTS=ON -DCMAKE_BUILD_TYPE=Release \
 && ctest --test-dir build --output-on-failure --timeout 180 \
 && strip build/seedhook

FROM debian:12-slim AS runtime
COPY scripts/install-deps.sh /tmp/install-deps.sh
RUN /tmp/install-deps.sh --runtime && rm -rf /var/lib/apt/lists/* /tmp/install-deps.sh \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin seedhook \
 && mkdir -p /data && chown seedhook:seedhook /data
COPY --from=build /src/build/seedhook /usr/local/bin/seedhook
COPY migrations /app/migrations
COPY config /app/config
WORKDIR /app
USER seedhook
VOLUME ["/data"]
EXPOSE 8443
ENV SEEDHOOK_DATABASE_PATH=/data/seedhook.db
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD curl -fsk https://127.0.0.1:8443/readyz || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/seedhook"]
CMD ["--config", "/app/config/seedhook.json"]
