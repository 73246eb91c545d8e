FROM alpine:3.19
RUN --mount=type=bind,source=app.sh,target=/tmp/app.sh sh /tmp/app.sh
