FROM centos:7
RUN { yum -y update; yum clean all; } \
    && { yum -y install httpd; } \
    && echo done
