/**
 * What `build` returns, built once, on the first call. valibot builds each schema from a few objects and closures;
 * building them all when the Worker starts would add ≈ 1 ms to its startup (docs/benchmarks.md), so the request
 * bodies and the settings are built on the first request that needs them.
 */
export function lazily<T>(build: () => T): () => T {
  let built: T | undefined;
  return () => (built ??= build());
}
