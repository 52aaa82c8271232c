FROM gcc:13
COPY src /src
RUN (export CFLAGS=-O2 && make -C /src) \
    && (TMP=/tmp/build; mkdir -p $TMP) \
    && make -C /src install
