FROM rust:1.78-slim AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry --mount=type=cache,target=/usr/local/cargo/git cargo build --release --locked

FROM debian:bookworm-slim
COPY --from=build /src/target/release/app /usr/local/bin/app
