FROM node:20 AS build
WORKDIR /app
COPY package.json package-lock.json* npm-shrinkwrap.json* ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci
COPY . .
RUN npm run build
