package dev.tftrt.bench;

import dev.tftrt.TftrtException;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.runtime.Comparison;
import dev.tftrt.runtime.ConvertedRunner;
import dev.tftrt.runtime.Matching;
import dev.tftrt.runtime.ModelRunner;
import dev.tftrt.runtime.OnnxRunner;
import dev.tftrt.runtime.engine.EngineTimings;
import dev.tftrt.tensor.HostTensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Benchmarks a model, alone or against a baseline: for each batch size, warm-up calls, then
 * measured calls from {@code threads} concurrent callers, each call timed from host tensors in to
 * host tensors out (so both sides pay the same copies). With a baseline, the two take turns at
 * each batch size, in rounds, on the same inputs, and their outputs are compared once.
 */
public final class Bench {
  private Bench() {}

  /**
   * Runs the benchmark. {@code given} holds inputs the user gave, by the model's input keys
   * (repeated to fill each batch); the rest are seeded random values. {@code baseline} may be null.
   */
  public static BenchResult run(ModelRunner model, ModelRunner baseline, Map<String, HostTensor> given,
      BenchOptions o, GpuStatus gpu) {
    List<Integer> batches = o.batches().isEmpty() ? Arrays.asList((Integer) null) : o.batches();
    Matching match = baseline == null ? null : Matching.of(model, baseline);
    // Every refusal before anything is measured, so a bad --batch costs nothing.
    for (Integer b : batches) {
      if (b == null) continue;
      BatchFeeds.checkBatch(model, b);
      if (baseline != null) BatchFeeds.checkBatch(baseline, b);
    }
    Machine machine = Machine.describe(gpu);
    List<BenchResult.BatchRun> runsA = new ArrayList<>();
    List<BenchResult.BatchRun> runsB = new ArrayList<>();
    List<BenchResult.Agreement> agreement = new ArrayList<>();
    for (Integer b : batches) {
      Map<String, HostTensor> feeds = BatchFeeds.make(model, given, o.shapes(), b, o.seed());
      Map<String, HostTensor> ra = model.run(feeds); // also the first warm-up call
      Map<String, HostTensor> feedsB = null;
      if (baseline != null) {
        feedsB = new LinkedHashMap<>();
        for (Map.Entry<String, HostTensor> e : feeds.entrySet()) {
          String key = match.inputs().get(e.getKey());
          if (key != null) feedsB.put(key, e.getValue());
        }
        Map<String, HostTensor> rb = baseline.run(feedsB);
        agreement.add(new BenchResult.Agreement(b, compare(model, ra, rb, match, o)));
      }
      if (baseline == null) {
        runsA.add(measure(List.of(model), List.of(feeds), b, o).get(0));
      } else {
        List<BenchResult.BatchRun> both = measure(List.of(model, baseline), List.of(feeds, feedsB), b, o);
        runsA.add(both.get(0));
        runsB.add(both.get(1));
      }
    }
    List<BenchResult.ModelRun> models = new ArrayList<>();
    models.add(new BenchResult.ModelRun(model.describe(), "model", backends(model), runsA));
    if (baseline != null) models.add(new BenchResult.ModelRun(baseline.describe(), "baseline", backends(baseline), runsB));
    return new BenchResult(machine, o, models, agreement);
  }

  /** The model's outputs (by its keys) against the baseline's, the reference. */
  private static List<Comparison.Diff> compare(ModelRunner model, Map<String, HostTensor> ra,
      Map<String, HostTensor> rb, Matching match, BenchOptions o) {
    List<String> names = new ArrayList<>();
    Map<String, HostTensor> reference = new LinkedHashMap<>();
    for (TensorSpec out : model.outputs()) {
      names.add(out.key());
      reference.put(out.key(), rb.get(match.outputs().get(out.key())));
    }
    return Comparison.compare(names, ra, reference, o.rtol(), o.atol());
  }

  /**
   * Rounds a comparison's measured calls are split into, alternating the model and the baseline,
   * so that a change in the machine's load during the benchmark hits both alike.
   */
  static final int ROUNDS = 5;

  /** One model's measurement at one batch size, accumulated over rounds. */
  private static final class Meter {
    final ModelRunner runner;
    final Map<String, HostTensor> feeds;
    final StageSplit.Collector collector = new StageSplit.Collector();
    final List<double[]> latencies = new ArrayList<>();
    double seconds;

    Meter(ModelRunner runner, Map<String, HostTensor> feeds) {
      this.runner = runner;
      this.feeds = feeds;
    }

    BenchResult.BatchRun result(Integer batch) {
      double[] all = latencies.stream().flatMapToDouble(Arrays::stream).toArray();
      if (all.length == 0) throw new TftrtException("the measurement was over before one call of " + runner.describe() + " finished.");
      int items = batch == null ? 1 : batch;
      return new BenchResult.BatchRun(batch, BatchFeeds.shapes(feeds), all.length, seconds, LatencyStats.of(all),
          all.length / seconds, (double) all.length * items / seconds, all, collector.perCall(all.length));
    }
  }

  /**
   * Warm-up for each, then the measured calls: all at once for one model; for several, in
   * {@link #ROUNDS} rounds taking turns. Stage times are collected during measured calls only.
   */
  static List<BenchResult.BatchRun> measure(List<ModelRunner> runners, List<Map<String, HostTensor>> feeds,
      Integer batch, BenchOptions o) {
    ExecutorService pool = Executors.newFixedThreadPool(o.threads(), r -> {
      Thread t = new Thread(r, "tftrt-bench");
      t.setDaemon(true);
      return t;
    });
    try {
      List<Meter> meters = new ArrayList<>();
      for (int i = 0; i < runners.size(); i++) meters.add(new Meter(runners.get(i), feeds.get(i)));
      for (Meter m : meters) {
        AtomicInteger warm = new AtomicInteger(o.warmup());
        all(pool, o.threads(), () -> {
          while (warm.getAndDecrement() > 0) m.runner.run(m.feeds);
          return null;
        });
      }
      int rounds = meters.size() == 1 ? 1 : o.seconds() > 0 ? ROUNDS : Math.min(ROUNDS, o.iterations());
      for (int round = 0; round < rounds; round++) {
        // A count: round k gets its share (the first ones one more); a duration: an equal slice.
        int calls = o.seconds() > 0 ? 0 : o.iterations() / rounds + (round < o.iterations() % rounds ? 1 : 0);
        for (Meter m : meters) timed(pool, m, calls, o.seconds() / rounds, o.threads());
      }
      List<BenchResult.BatchRun> r = new ArrayList<>();
      for (Meter m : meters) r.add(m.result(batch));
      return r;
    } finally {
      pool.shutdownNow();
    }
  }

  /** calls measured calls (or, when 0, calls for seconds) of m from threads callers. */
  private static void timed(ExecutorService pool, Meter m, int calls, double seconds, int threads) {
    AtomicInteger left = new AtomicInteger(calls);
    EngineTimings.install(m.collector);
    long start = System.nanoTime();
    long deadline = calls == 0 ? start + (long) (seconds * 1e9) : Long.MAX_VALUE;
    try {
      m.latencies.addAll(all(pool, threads, () -> {
        List<Double> mine = new ArrayList<>();
        // A duration: call until it is up (a call under way then finishes); a count: share it out.
        while (calls == 0 ? System.nanoTime() < deadline : left.getAndDecrement() > 0) {
          long t0 = System.nanoTime();
          m.runner.run(m.feeds);
          mine.add((System.nanoTime() - t0) / 1e6);
        }
        return mine.stream().mapToDouble(Double::doubleValue).toArray();
      }));
    } finally {
      EngineTimings.install(null);
      m.seconds += (System.nanoTime() - start) / 1e9;
    }
  }

  /** Runs task on n threads of pool and returns their results; the first failure is thrown as is. */
  private static <T> List<T> all(ExecutorService pool, int n, java.util.concurrent.Callable<T> task) {
    List<Future<T>> fs = new ArrayList<>();
    for (int i = 0; i < n; i++) fs.add(pool.submit(task));
    List<T> r = new ArrayList<>();
    try {
      for (Future<T> f : fs) r.add(f.get());
    } catch (ExecutionException e) {
      for (Future<T> f : fs) f.cancel(true);
      if (e.getCause() instanceof RuntimeException re) throw re;
      if (e.getCause() instanceof Error err) throw err;
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TftrtException("interrupted while benchmarking.", e);
    }
    return r;
  }

  /** What runs a model: a converted model's engine backends, ONNX Runtime, or TensorFlow. */
  static String backends(ModelRunner r) {
    if (r instanceof ConvertedRunner c) {
      TreeSet<String> used = new TreeSet<>(c.model().backends().values());
      return "converted, engines on " + String.join(", ", used) + " (the rest in TensorFlow)";
    }
    if (r instanceof OnnxRunner) return "onnxruntime";
    return "tensorflow";
  }
}
