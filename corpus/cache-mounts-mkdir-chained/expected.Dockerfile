FROM golang:1.21
ENV GOPATH /go
RUN mkdir /go \
    && go get -d -v example.com/x/upload
