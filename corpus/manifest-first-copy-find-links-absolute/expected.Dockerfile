FROM python:3.11-slim

# gcc and libpq-dev build the C extension in the wheelhouse
RUN apt-get update && apt-get install -y gcc libpq-dev

WORKDIR /app
COPY requirements.txt /app/
COPY vendor/ /app/vendor/
COPY extra-wheels/ /app/extra-wheels/

RUN pip install --no-cache-dir --no-index --find-links /app/vendor -f file:///app/extra-wheels -r requirements.txt
COPY . /app

EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
