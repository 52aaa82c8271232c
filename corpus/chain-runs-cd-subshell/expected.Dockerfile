FROM gcc:13
WORKDIR /build
COPY . .
RUN (cd src && make) \
    && make -C src install \
    && rm -rf src
