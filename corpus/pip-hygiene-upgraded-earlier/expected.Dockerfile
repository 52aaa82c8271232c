FROM nvidia/cuda:cudnn-ubuntu14.04
RUN apt-get update && apt-get install -y python-pip python3-pip
RUN pip install -U pip && pip install --no-cache-dir theano && pip3 install six
RUN pip install --no-cache-dir keras
