package dev.tftrt.bench;

import java.io.PrintWriter;
import java.util.List;

/** The console table of a benchmark: a header saying where it ran, then a row per model and batch. */
public final class BenchTable {
  private BenchTable() {}

  public static void print(PrintWriter out, BenchResult r) {
    Machine m = r.machine();
    BenchOptions o = r.options();
    out.println("tftrt bench: " + m.header());
    out.printf("machine: %s, %d cores, %s; TensorFlow %s, ONNX Runtime %s%n", m.cpu(), m.cores(), m.java(),
        m.tensorflow(), m.onnxRuntime());
    List<BenchResult.ModelRun> models = r.models();
    for (BenchResult.ModelRun mr : models) out.printf("%-9s %s (%s)%n", mr.role() + ":", mr.model(), mr.backends());
    if (m.gpu() && models.stream().noneMatch(x -> x.backends().contains("tensorrt"))) {
      // A GPU in the header must not pass CPU figures off as GPU ones.
      out.println("note: nothing here runs on TensorRT, so these are CPU figures despite the GPU");
    }
    out.printf("%d warm-up call(s), then %s, %d thread(s); latency per call in ms, host inputs to host outputs%n",
        o.warmup(), o.seconds() > 0 ? String.format("%.3g s of calls", o.seconds()) : o.iterations() + " measured calls",
        o.threads());
    for (BenchResult.BatchRun b : models.get(0).batches()) {
      out.println("inputs" + (b.batch() == null ? "" : " at batch " + b.batch()) + ": " + String.join(", ",
          b.inputShapes().entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).toList()));
    }
    boolean split = models.stream().flatMap(x -> x.batches().stream()).anyMatch(b -> b.split() != null);
    StringBuilder head = new StringBuilder(String.format("%-8s %5s %6s %9s %9s %9s %9s %9s %9s %9s %10s",
        "", "batch", "calls", "min", "median", "p90", "p95", "p99", "max", "calls/s", "samples/s"));
    if (split) head.append(String.format(" %9s %9s %9s", "H2D", "GPU", "D2H"));
    out.println(head);
    for (int i = 0; i < models.get(0).batches().size(); i++) {
      for (BenchResult.ModelRun mr : models) {
        BenchResult.BatchRun b = mr.batches().get(i);
        LatencyStats l = b.latency();
        StringBuilder row = new StringBuilder(String.format("%-8s %5s %6d %9s %9s %9s %9s %9s %9s %9s %10s",
            mr.role(), b.batch() == null ? "-" : b.batch(), b.calls(), ms(l.min()), ms(l.median()), ms(l.p90()),
            ms(l.p95()), ms(l.p99()), ms(l.max()), rate(b.callsPerSecond()), rate(b.samplesPerSecond())));
        if (split) {
          StageSplit s = b.split();
          row.append(s == null ? String.format(" %9s %9s %9s", "-", "-", "-")
              : String.format(" %9s %9s %9s", ms(s.hostToDeviceMs()), ms(s.computeMs()), ms(s.deviceToHostMs())));
        }
        out.println(row);
      }
    }
    if (split) out.println("H2D, GPU, D2H: host-to-device copies, GPU compute and device-to-host copies per call (CUDA events, summed over engines)");
    if (!r.hasBaseline()) return;
    for (BenchResult.BatchRun b : models.get(0).batches()) {
      BenchResult.Agreement a = r.agreement(b.batch());
      String tol = String.format("rtol %g, atol %g", o.rtol(), o.atol());
      out.printf("%s: speed-up %.2fx (model over baseline, samples/s); outputs: max abs diff %.3g, min cosine %.6f, %s%n",
          b.batch() == null ? "shapes as given" : "batch " + b.batch(), r.speedup(b.batch()), a.maxAbs(), a.minCosine(),
          a.withinTolerance() ? "within " + tol : "OUT OF TOLERANCE (" + tol + "): " + String.join(", ",
              a.diffs().stream().filter(d -> !d.withinTolerance()).map(d -> d.name() + " " + d.problem()).toList()));
    }
  }

  /** Calls or samples per second: whole numbers from 1000, else three significant digits. */
  static String rate(double v) {
    if (v >= 1000) return String.format("%.0f", v);
    if (v >= 100) return String.format("%.1f", v);
    if (v >= 10) return String.format("%.2f", v);
    return String.format("%.3f", v);
  }

  /** Milliseconds with three significant digits, at least two decimals under 10 ms. */
  static String ms(double v) {
    if (v >= 100) return String.format("%.1f", v);
    if (v >= 10) return String.format("%.2f", v);
    return String.format("%.3f", v);
  }
}
