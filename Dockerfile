# example-server: multi-stage build, runs as a non-root user, SQLite kept on a volume.
#   docker build -t rbac-example-server .
#   docker run -p 8088:8088 -v rbac-data:/data -e RBAC_ADMIN_PASSWORD=change-me rbac-example-server
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p example-server \
 && cp target/release/example-server /example-server

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --create-home rbac
COPY --from=build /example-server /usr/local/bin/example-server
USER rbac
WORKDIR /data
VOLUME ["/data"]
ENV RBAC_LISTEN=0.0.0.0:8088 \
    RBAC_DATABASE_URL=sqlite:///data/rbac.db
EXPOSE 8088
HEALTHCHECK --interval=10s --timeout=3s CMD ["/bin/sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/8088 && printf 'GET /readyz HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q ready <&3"]
ENTRYPOINT ["example-server"]
CMD ["serve"]
