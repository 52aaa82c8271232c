# Alpine base image that contains python 3.7
FROM python:3.7-slim-bookworm

# define the directory to work in
WORKDIR /code

# copy the requirements.txt file to the work directory
COPY requirements.txt .

# Install some system deps in a virtual environment named .build-deps, you can name it what ever you want

# install pip dependencies in the same layer

RUN apt-get update && apt-get install -y --no-install-recommends \
    build-essential libssl-dev pkg-config libffi-dev \
    libcups2-dev libjpeg-dev && rm -rf /var/lib/apt/lists/* && \
    pip install --no-cache-dir -r requirements.txt && \
    apt-mark auto build-essential libssl-dev pkg-config libffi-dev libcups2-dev libjpeg-dev && apt-get autoremove -y --purge # delete the .build-deps in the same layer

# Copy rest of the source code
COPY src/ src/

# EXPOSE the needed ports, for example 8080
EXPOSE 8080

# Running Command or Entry Point
CMD python src/app.py
