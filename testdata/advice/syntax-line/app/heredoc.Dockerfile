FROM alpine:3.19
RUN <<EOT
set -e
echo building
EOT
COPY app.sh /app.sh
