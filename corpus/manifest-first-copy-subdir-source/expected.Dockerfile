FROM node:20
WORKDIR /app
COPY frontend/package.json frontend/package-lock.json* frontend/npm-shrinkwrap.json* ./frontend/
RUN cd frontend && npm ci
COPY frontend/ ./frontend/
