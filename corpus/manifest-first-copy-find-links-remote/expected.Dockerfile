FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -f https://download.pytorch.org/whl/torch_stable.html -r requirements.txt
COPY . .
CMD ["python", "train.py"]
