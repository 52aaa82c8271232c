FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
# dependencies first, so the layer is cached
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt
COPY . .
CMD ["python", "app.py"]
