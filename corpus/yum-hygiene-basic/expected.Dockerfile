FROM centos:7
RUN yum install -y httpd && yum install -y php && yum clean all
RUN dnf -q install -y vim \
    && dnf clean all \
    && echo done
