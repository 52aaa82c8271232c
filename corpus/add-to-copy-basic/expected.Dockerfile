FROM nginx:1.25
COPY nginx.conf /etc/nginx/
COPY ./site/ /usr/share/nginx/html
COPY --chown=101:101 entrypoint.sh run /
