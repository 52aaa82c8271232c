FROM node:20-alpine
WORKDIR /usr/src/app
COPY package.json package-lock.json* npm-shrinkwrap.json* ./
RUN npm ci --omit=dev
COPY . .
CMD ["node", "server.js"]
