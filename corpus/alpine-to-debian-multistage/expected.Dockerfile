FROM node:20-bookworm AS assets
WORKDIR /src
COPY . .
RUN npm ci && npm run build

FROM nginx:1.27-bookworm
COPY --from=assets /src/dist /usr/share/nginx/html
