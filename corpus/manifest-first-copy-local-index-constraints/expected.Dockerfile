FROM python:3.11-slim
COPY requirements.txt constraints.txt /srv/app/
COPY simple/ /srv/app/simple/
WORKDIR /srv/app
RUN pip install --index-url file:///srv/app/simple -c constraints.txt -r requirements.txt \
    && rm -rf /root/.cache
RUN rm -rf /var/lib/apt/lists/*
COPY . /srv/app
CMD ["python", "main.py"]
