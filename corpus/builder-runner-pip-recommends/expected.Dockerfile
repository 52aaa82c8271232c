FROM ubuntu:22.04 AS builder

# python3-pip with recommends: build-essential and python3-dev come along
RUN apt-get update && apt-get install -y python3 python3-pip curl

WORKDIR /app
COPY requirements.txt .
RUN pip3 install --user -r requirements.txt

FROM ubuntu:22.04 AS runner
RUN apt-get update && apt-get install -y python3 python3-pip curl build-essential- python3-dev-
WORKDIR /app
COPY --from=builder /root/.local /root/.local
ENV PATH=/root/.local/bin:$PATH
COPY . .

EXPOSE 5000
CMD ["python3", "app.py"]
