FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN --mount=type=bind,source=vendor,target=/app/vendor --mount=type=cache,target=/root/.cache/pip pip install --no-index --find-links vendor -r requirements.txt
COPY . .
CMD ["python", "app.py"]
