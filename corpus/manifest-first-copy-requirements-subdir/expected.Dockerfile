FROM python:3.12
WORKDIR /code
COPY requirements/ requirements/
RUN pip install --requirement=requirements/prod.txt gunicorn
COPY . .
