FROM python:3.11-slim
RUN --mount=type=cache,target=/root/.cache/pip pip install --upgrade pip
WORKDIR /app
COPY --chmod=755 requirements.txt .
COPY --chmod=755 vendor/ vendor/
RUN pip install --no-index --find-links vendor -r requirements.txt
COPY --chmod=755 . .
CMD ["python", "app.py"]
