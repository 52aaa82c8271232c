FROM python:3.12-slim AS poetry-export
RUN echo built elsewhere > /built

FROM python:3.12-slim AS poetry-export-2
WORKDIR /src
RUN pip install poetry==1.8.3 poetry-plugin-export
COPY pyproject.toml poetry.lock ./
RUN poetry export -f requirements.txt --output requirements.txt --without-hashes --only main

FROM python:3.12-slim
ENV POETRY_VIRTUALENVS_CREATE=false
WORKDIR /app
COPY pyproject.toml poetry.lock ./
COPY --from=poetry-export-2 /src/requirements.txt /tmp/requirements.txt
RUN pip install -r /tmp/requirements.txt
COPY --from=poetry-export /built /built
COPY . .
CMD ["python", "app.py"]
