# keyleak in a container, for CI systems other than GitHub Actions (GitLab CI, Jenkins, Drone…):
#   docker build -t keyleak .
#   docker run --rm -v "$PWD:/src" keyleak dir /src
# A static (musl) binary on a distroless base: no shell, no package manager, runs as non-root.
# The image's entrypoint is keyleak itself; the work directory is /src.

FROM rust:1.95-alpine AS build
RUN apk add --no-cache musl-dev=~1
WORKDIR /build
COPY . .
ARG KEYLEAK_COMMIT=unknown
ENV KEYLEAK_COMMIT=${KEYLEAK_COMMIT}
RUN cargo build --release --locked \
    && cp target/release/keyleak /keyleak \
    && /keyleak --version

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /keyleak /usr/local/bin/keyleak
WORKDIR /src
ENTRYPOINT ["/usr/local/bin/keyleak"]
CMD ["dir", "."]
