FROM python:3.12-slim
WORKDIR /app
COPY --from=ghcr.io/astral-sh/uv:0.8.23 /uv /uvx /bin/
# deps
RUN uv pip install --system --compile-bytecode --no-cache -r requirements.txt && uv pip install --system --compile-bytecode --no-cache --prerelease=allow gunicorn
CMD ["gunicorn", "app:app"]
