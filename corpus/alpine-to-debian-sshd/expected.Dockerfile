FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends openssh-client openssh-server ca-certificates && rm -rf /var/lib/apt/lists/* && mkdir -p /run/sshd
CMD ["/usr/sbin/sshd", "-D", "-e"]
