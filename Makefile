# `make test` is the one command that runs every test; .ci/run calls it too.
.PHONY: test run build bench generate

test:
	go test -count=1 ./...

run:
	go run .

build:
	go build -o keyport .

generate:
	go tool sqlc generate
