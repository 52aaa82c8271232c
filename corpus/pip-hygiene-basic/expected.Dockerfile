FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt && python -m pip install --no-cache-dir gunicorn
CMD ["gunicorn", "app:app"]
