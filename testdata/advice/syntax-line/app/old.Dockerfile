# syntax=docker/dockerfile:1.2
FROM alpine:3.19
COPY --link app.sh /app.sh
