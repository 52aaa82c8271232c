FROM python:3.11-slim
RUN --mount=type=cache,target=/root/.cache/pip pip install --upgrade pip
WORKDIR /srv
COPY requirements.txt .
RUN --mount=type=bind,source=wheels,target=/srv/wheels pip install --no-index --find-links=wheels/ -r requirements.txt
COPY . .
RUN python -m compileall -q .
CMD ["python", "app.py"]
