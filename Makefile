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

# Load benchmark: keyport vs a bare net/http + SQLite floor, under wrk (apt-get install wrk),
# then keyport on PostgreSQL vs a pgx INSERT floor on one throwaway cluster (bench/pg).
# Seeded databases are cached in bench/results/seed. Pass flags with ARGS, e.g.
# make bench ARGS='-repeat 3' or ARGS='-datasets 1k -d 5s'.
bench:
	go run ./bench/run $(ARGS)
	@if scripts/pgcluster found; then go run ./bench/pg; else echo "bench: no PostgreSQL rows (PostgreSQL not installed)"; fi
