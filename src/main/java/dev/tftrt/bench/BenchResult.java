package dev.tftrt.bench;

import dev.tftrt.runtime.Comparison;
import java.util.List;
import java.util.Map;

/**
 * What a benchmark measured: per model and batch size the latencies and throughput, and with a
 * baseline ({@code --vs}) the outputs' agreement and the speed-up of the model over it.
 */
public record BenchResult(Machine machine, BenchOptions options, List<ModelRun> models, List<Agreement> agreement) {

  /** One model's runs. {@code backends} says what ran it (a converted model: its engines' backends). */
  public record ModelRun(String model, String role, String backends, List<BatchRun> batches) {
    public BatchRun batch(Integer size) {
      return batches.stream().filter(b -> java.util.Objects.equals(b.batch(), size)).findFirst().orElseThrow();
    }
  }

  /**
   * One batch size of one model: {@code batch} null when the inputs' own shapes were used;
   * {@code samplesPerSecond} counts batch items (calls × batch) over the measured wall time;
   * {@code split} only when a backend timed its stages (TensorRT), else null.
   */
  public record BatchRun(Integer batch, Map<String, String> inputShapes, int calls, double seconds,
      LatencyStats latency, double callsPerSecond, double samplesPerSecond, double[] latenciesMs, StageSplit split) {}

  /** The model's outputs against the baseline's (the reference) on the same inputs, at one batch size. */
  public record Agreement(Integer batch, List<Comparison.Diff> diffs) {
    public boolean withinTolerance() {
      return diffs.stream().allMatch(Comparison.Diff::withinTolerance);
    }

    public double maxAbs() {
      return diffs.stream().mapToDouble(Comparison.Diff::maxAbs).max().orElse(0);
    }

    public double minCosine() {
      return diffs.stream().mapToDouble(Comparison.Diff::cosine).min().orElse(1);
    }
  }

  public boolean hasBaseline() {
    return models.size() > 1;
  }

  /** The model's throughput over the baseline's at a batch size; NaN without a baseline. */
  public double speedup(Integer batch) {
    if (!hasBaseline()) return Double.NaN;
    return models.get(0).batch(batch).samplesPerSecond() / models.get(1).batch(batch).samplesPerSecond();
  }

  public Agreement agreement(Integer batch) {
    return agreement.stream().filter(a -> java.util.Objects.equals(a.batch(), batch)).findFirst().orElse(null);
  }
}
