.PHONY: bench bench-short

# Side-by-side comparison with the peers (nats-server, JetStream, Benthos);
# rewrites the compare section of BENCHMARKS.md. About 10 minutes on 2 cores.
bench:
	cd bench && GOTOOLCHAIN=local go run ./cmd/compare

# Smoke test of every benchmark scenario with tiny counts.
bench-short:
	cd bench && GOTOOLCHAIN=local go test -short -count=1 ./...
