FROM python:3.12-slim
ENV POETRY_VIRTUALENVS_CREATE=false
WORKDIR /app
COPY pyproject.toml poetry.lock* ./
RUN pip install poetry && poetry install --no-interaction --only main --no-root
COPY . .
RUN poetry install --no-interaction --only main
CMD ["python", "-m", "app"]
