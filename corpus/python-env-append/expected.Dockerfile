FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1
WORKDIR /app
# dependencies
RUN pip install -r requirements.txt
COPY . .
CMD ["gunicorn", "app:app"]
