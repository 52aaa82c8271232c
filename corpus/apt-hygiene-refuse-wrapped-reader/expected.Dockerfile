FROM ubuntu:20.04
RUN apt-get update
RUN apt-get update && apt-get install -y curl gdebi-core
COPY packages.txt x.deb /tmp/
RUN xargs apt-get install -y < /tmp/packages.txt
RUN eatmydata apt-get install -y vim && timeout 600 apt-get install -y less
RUN su root -c 'apt-get install -y git'
RUN sudo -u root apt-get update && sudo -u root apt-get install -y make
RUN gdebi -n /tmp/x.deb
