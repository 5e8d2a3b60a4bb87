package dev.tftrt.bench;

import dev.tftrt.TftrtException;
import java.util.List;
import java.util.Map;

/**
 * How to benchmark: the batch sizes (empty: the inputs' own shapes), calls to warm up with, then
 * a number of calls or a duration, the number of concurrent callers, input shapes and seed, and
 * the tolerance the outputs' agreement is judged by. Each field has a {@code with} method.
 */
public record BenchOptions(List<Integer> batches, int warmup, int iterations, double seconds, int threads,
    Map<String, long[]> shapes, long seed, double rtol, double atol) {

  public static final int DEFAULT_WARMUP = 5;
  public static final int DEFAULT_ITERATIONS = 50;
  public static final int MAX_THREADS = 256;

  public BenchOptions {
    batches = List.copyOf(batches);
    shapes = Map.copyOf(shapes);
    for (int b : batches) if (b < 1) throw new TftrtException("--batch " + b + " is not a batch size: give whole numbers of 1 or more.");
    if (batches.stream().distinct().count() != batches.size()) throw new TftrtException("--batch " + batches + " names a batch size twice.");
    if (warmup < 0) throw new TftrtException("--warmup " + warmup + " is negative.");
    if (seconds > 0 && iterations > 0) throw new TftrtException("--iterations and --seconds both given: give one.");
    if (!(seconds > 0) && iterations < 1) throw new TftrtException("--iterations " + iterations + " must be 1 or more.");
    if (seconds < 0 || Double.isNaN(seconds) || seconds > 24 * 3600) throw new TftrtException("--seconds " + seconds + " is not a duration from 0 to a day.");
    if (threads < 1 || threads > MAX_THREADS) throw new TftrtException("--threads " + threads + " must be from 1 to " + MAX_THREADS + ".");
  }

  public static BenchOptions defaults() {
    return new BenchOptions(List.of(), DEFAULT_WARMUP, DEFAULT_ITERATIONS, 0, 1, Map.of(), 0, 1e-3, 1e-4);
  }

  public BenchOptions withBatches(List<Integer> v) {
    return new BenchOptions(v, warmup, iterations, seconds, threads, shapes, seed, rtol, atol);
  }

  public BenchOptions withWarmup(int v) {
    return new BenchOptions(batches, v, iterations, seconds, threads, shapes, seed, rtol, atol);
  }

  /** A fixed number of measured calls (and no duration). */
  public BenchOptions withIterations(int v) {
    return new BenchOptions(batches, warmup, v, 0, threads, shapes, seed, rtol, atol);
  }

  /** Calls for a duration (and no fixed number). */
  public BenchOptions withSeconds(double v) {
    return new BenchOptions(batches, warmup, 0, v, threads, shapes, seed, rtol, atol);
  }

  public BenchOptions withThreads(int v) {
    return new BenchOptions(batches, warmup, iterations, seconds, v, shapes, seed, rtol, atol);
  }

  public BenchOptions withShapes(Map<String, long[]> v) {
    return new BenchOptions(batches, warmup, iterations, seconds, threads, v, seed, rtol, atol);
  }

  public BenchOptions withSeed(long v) {
    return new BenchOptions(batches, warmup, iterations, seconds, threads, shapes, v, rtol, atol);
  }

  public BenchOptions withTolerance(double relative, double absolute) {
    return new BenchOptions(batches, warmup, iterations, seconds, threads, shapes, seed, relative, absolute);
  }
}
