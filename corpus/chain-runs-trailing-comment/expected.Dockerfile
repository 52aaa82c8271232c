FROM debian:bookworm-slim
RUN mkdir /a \
    && touch /a/b # marker file
RUN echo done
