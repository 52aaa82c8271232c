FROM debian:12
RUN (command cd /tmp) \
    && pwd > /where \
    && (read A < /etc/hostname) \
    && echo "host=$A" > /host
