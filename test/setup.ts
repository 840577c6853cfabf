// Shared test setup: filled in by the fake AWS (see test/fakes/aws).
export {};
