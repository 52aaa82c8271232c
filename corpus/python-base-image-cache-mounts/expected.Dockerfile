FROM python:3.10-slim-bookworm

WORKDIR /app
COPY requirements.txt .
RUN --mount=type=cache,target=/root/.cache/pip pip3 install -r requirements.txt
COPY . .
CMD ["python3", "app.py"]
