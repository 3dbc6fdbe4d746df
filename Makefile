# `make test` is the one command that runs every test; .ci/run calls it too. It runs them on
# SQLite, then the database-touching packages again on PostgreSQL (scripts/test).
.PHONY: test run build bench generate

test:
	scripts/test

run:
	go run .

build:
	go build -o keyport .

generate:
	go tool sqlc generate

# Load benchmark: keyport vs bare net/http floors, under wrk (apt-get install wrk), on SQLite
# and, when PostgreSQL is installed, on a throwaway cluster (bench/run, docs/PERFORMANCE.md).
# Seeded databases are cached in bench/results/seed. Pass flags with ARGS, e.g.
# make bench ARGS='-repeat 3' or ARGS='-datasets 1k -d 5s' or ARGS='-engines postgres'.
bench:
	go run ./bench/run $(ARGS)
