FROM node:20-slim
WORKDIR /home/node/app
COPY --chown=node:node package.json yarn.lock* ./
USER node
RUN yarn install --frozen-lockfile
COPY --chown=node:node . .
