# syntax=docker/dockerfile:1.4
FROM alpine:3.19
RUN <<EOT
echo pinned
EOT
COPY app.sh /app.sh
