FROM ubuntu:22.04
RUN apt-get update && apt-get install -y python3-pip curl && rm -rf /var/lib/apt/lists/*
RUN apt-get update && apt-get install --no-install-recommends -y python3-pip build-essential python3-dev python3-setuptools && rm -rf /var/lib/apt/lists/*
RUN pip3 install uwsgi
