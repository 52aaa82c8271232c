FROM node:20
WORKDIR /app
COPY package*.json ./
RUN npm ci && npm run build && npm cache clean --force
CMD ["node", "server.js"]
