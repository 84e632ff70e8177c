# Two stages on Debian 12: build and test, then a slim runtime with only what runs: the
# binary (the migrations are embedded in it), its configuration, and the shared libraries,
# CA certificates and curl (for HEALTHCHECK) that `install-deps.sh --runtime` installs.
# Packages come from the same script the README uses. scripts/check-container.sh replays
# both stages in a debootstrap root, without a Docker engine.

FROM debian:12 AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
# Every test runs here but the two storage fault tests that mount a file system in a user
# namespace (unshare --user), which the build sandbox refuses (seccomp; a chroot too);
# scripts/test.sh runs them.
RUN rm -rf build build-asan \
 && scripts/build.sh build -DSEEDHOOK_TESTS=ON -DCMAKE_BUILD_TYPE=Release \
 && ctest --test-dir build --output-on-failure --timeout 180 \
      --exclude-regex '^StorageFaults\.(AFullDiskGives503AndTheServiceRecoversWhenSpaceReturns|AReadOnlyDatabaseAtStartupIsRefusedWithAClearMessage)$' \
 && strip build/seedhook

FROM debian:12-slim AS runtime
COPY scripts/install-deps.sh /tmp/install-deps.sh
RUN /tmp/install-deps.sh --runtime && rm -rf /var/lib/apt/lists/* /tmp/install-deps.sh \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin seedhook \
 && mkdir -p /data && chown seedhook:seedhook /data
COPY --from=build /src/build/seedhook /usr/local/bin/seedhook
COPY config/seedhook.json /app/config/seedhook.json
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
