# syntax=docker/dockerfile:1

# Build a static binary: the SQLite driver is pure Go, so no cgo and no libc.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath \
        -ldflags "-s -w -X github.com/commonplace/commonplace/server.Version=${VERSION}" \
        -o /out/commonplace ./cmd/commonplace \
    && mkdir /out/data

# distroless/static has CA certificates and time zones, no shell, and runs as
# nonroot (uid 65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/commonplace /usr/local/bin/commonplace
# A directory owned by nonroot, so a fresh named volume mounted here is writable.
COPY --from=build --chown=65532:65532 /out/data /data
ENV COMMONPLACE_DATA_DIR=/data \
    COMMONPLACE_LISTEN=:8080
VOLUME /data
EXPOSE 8080
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/commonplace"]
CMD ["serve"]
