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
 * host tensors out (so both sides pay the same copies). With a baseline, the two are measured one
 * after the other at each batch size on the same inputs, and their outputs compared once.
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
    StageSplit.Collector collector = new StageSplit.Collector();
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
      runsA.add(measure(model, feeds, b, o, collector));
      if (baseline != null) runsB.add(measure(baseline, feedsB, b, o, collector));
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

  /** Warm-up, then the measured calls; the stage split is collected during the latter only. */
  static BenchResult.BatchRun measure(ModelRunner runner, Map<String, HostTensor> feeds, Integer batch,
      BenchOptions o, StageSplit.Collector collector) {
    ExecutorService pool = Executors.newFixedThreadPool(o.threads(), r -> {
      Thread t = new Thread(r, "tftrt-bench");
      t.setDaemon(true);
      return t;
    });
    try {
      AtomicInteger warm = new AtomicInteger(o.warmup());
      all(pool, o.threads(), () -> {
        while (warm.getAndDecrement() > 0) runner.run(feeds);
        return null;
      });
      collector.reset();
      EngineTimings.install(collector);
      AtomicInteger left = new AtomicInteger(o.iterations());
      long start = System.nanoTime();
      long deadline = o.seconds() > 0 ? start + (long) (o.seconds() * 1e9) : Long.MAX_VALUE;
      List<double[]> perThread;
      try {
        perThread = all(pool, o.threads(), () -> {
          List<Double> mine = new ArrayList<>();
          // A duration: call until it is up (a call under way then finishes); a count: share it out.
          while (o.seconds() > 0 ? System.nanoTime() < deadline : left.getAndDecrement() > 0) {
            long t0 = System.nanoTime();
            runner.run(feeds);
            mine.add((System.nanoTime() - t0) / 1e6);
          }
          return mine.stream().mapToDouble(Double::doubleValue).toArray();
        });
      } finally {
        EngineTimings.install(null);
      }
      double wall = (System.nanoTime() - start) / 1e9;
      double[] all = perThread.stream().flatMapToDouble(Arrays::stream).toArray();
      if (all.length == 0) throw new TftrtException("--seconds " + o.seconds() + " was over before one call of " + runner.describe() + " finished.");
      int items = batch == null ? 1 : batch;
      return new BenchResult.BatchRun(batch, BatchFeeds.shapes(feeds), all.length, wall, LatencyStats.of(all),
          all.length / wall, (double) all.length * items / wall, all, collector.perCall(all.length));
    } finally {
      pool.shutdownNow();
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
