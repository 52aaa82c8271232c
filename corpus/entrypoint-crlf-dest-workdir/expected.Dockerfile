FROM node:20-slim
WORKDIR /app
COPY ./start.sh /app
RUN sed -i 's/\r$//' /app/start.sh
CMD ["/app/start.sh"]
