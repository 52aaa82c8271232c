FROM debian:bookworm
COPY vendor/oracle/* /opt/oracle/
