FROM python:3.11
COPY pip.conf /etc/pip.conf
RUN pip install --no-cache-dir a
FROM python:3.11
RUN printf "[global]\ncache-dir=/pc\n" > /etc/pip.conf && pip install --no-cache-dir b
FROM python:3.11
RUN pip config set global.cache-dir /pc
RUN pip install --no-cache-dir c
FROM python:3.11
RUN mkdir -p /root/.pip && echo "[global]\nindex-url = https://mirror.example/simple" > /root/.pip/pip.conf
RUN --mount=type=cache,target=/root/.cache/pip pip install d
