FROM node:20
RUN --mount=type=cache,target=/root/.npm --mount=type=cache,target=/usr/local/share/.cache/yarn npm ci \
    && yarn build
RUN rm -rf /root/.npm
