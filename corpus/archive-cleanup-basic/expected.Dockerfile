FROM debian:bookworm
WORKDIR /tmp
RUN wget https://example.org/tool-1.2.tar.gz \
    && tar xzf tool-1.2.tar.gz -C /opt \
    && rm -f tool-1.2.tar.gz
RUN curl -fsSLo /tmp/p.zip https://example.org/p.zip && cd /opt && unzip /tmp/p.zip && rm -f /tmp/p.zip
