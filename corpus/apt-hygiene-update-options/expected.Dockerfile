FROM debian:jessie
RUN echo "deb http://archive.debian.org/debian jessie main" > /etc/apt/sources.list && \
    apt-get -qq -o Acquire::Check-Valid-Until=false update
RUN apt-get -o Acquire::Check-Valid-Until=false update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*
