FROM python:3.11
COPY requirements.txt /srv/app/
WORKDIR /srv/app
# Install Python dependencies
RUN pip install -r requirements.txt
# Copy the application
COPY . /srv/app
EXPOSE 8000
