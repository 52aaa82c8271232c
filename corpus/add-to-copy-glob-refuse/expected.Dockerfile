FROM debian:bookworm
ADD vendor/oracle/* /opt/oracle/
ADD ./* /pythonFrontEnd/
ADD file[0-9] data? /w/
COPY conf/*.yml /etc/app/
ADD glibc-2.35-r0.apk /tmp/
