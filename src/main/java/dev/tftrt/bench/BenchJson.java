package dev.tftrt.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tftrt.runtime.Comparison;
import dev.tftrt.util.AtomicFiles;
import java.nio.file.Path;
import java.util.Map;

/**
 * A benchmark's full figures as JSON (format {@value #FORMAT}): the machine and versions, the
 * options, per model and batch every latency with its statistics, throughput and the stage split,
 * and with a baseline the speed-up and the outputs' agreement. Figures that are not numbers (the
 * cosine of outputs of different shapes) are null, so any JSON reader takes the file.
 */
public final class BenchJson {
  public static final String FORMAT = "tftrt-bench";
  public static final int VERSION = 1;
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private BenchJson() {}

  /** Writes the JSON to target, whole or not at all (the caller checked target with OutputTargets). */
  public static void write(BenchResult r, Path target) {
    AtomicFiles.write(target, writer(r));
  }

  /** The JSON, for {@link AtomicFiles#write(Map)} with other files. */
  public static AtomicFiles.Writer writer(BenchResult r) {
    byte[] bytes;
    try {
      bytes = JSON.writeValueAsBytes(tree(r));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("the benchmark's figures did not serialize", e);
    }
    return out -> out.write(bytes);
  }

  static ObjectNode tree(BenchResult r) {
    ObjectNode root = JSON.createObjectNode();
    root.put("format", FORMAT);
    root.put("version", VERSION);
    Machine m = r.machine();
    ObjectNode machine = root.putObject("machine");
    machine.put("os", m.os());
    machine.put("arch", m.arch());
    machine.put("cpu", m.cpu());
    machine.put("cores", m.cores());
    machine.put("maxHeapBytes", m.maxHeapBytes());
    machine.put("gpu", m.gpu());
    machine.put("gpuDescription", m.gpuDescription());
    machine.put("noGpuReason", m.noGpuReason());
    machine.put("header", m.header());
    ObjectNode versions = root.putObject("versions");
    versions.put("tftrt", m.tftrt());
    versions.put("java", m.java());
    versions.put("tensorflow", m.tensorflow());
    versions.put("onnxRuntime", m.onnxRuntime());
    BenchOptions o = r.options();
    ObjectNode opts = root.putObject("options");
    ArrayNode batches = opts.putArray("batches");
    o.batches().forEach(batches::add);
    opts.put("warmup", o.warmup());
    if (o.seconds() > 0) opts.put("seconds", o.seconds());
    else opts.put("iterations", o.iterations());
    opts.put("threads", o.threads());
    opts.put("seed", o.seed());
    opts.put("rtol", o.rtol());
    opts.put("atol", o.atol());
    ArrayNode models = root.putArray("models");
    for (BenchResult.ModelRun mr : r.models()) {
      ObjectNode mn = models.addObject();
      mn.put("model", mr.model());
      mn.put("role", mr.role());
      mn.put("backends", mr.backends());
      ArrayNode runs = mn.putArray("batches");
      for (BenchResult.BatchRun b : mr.batches()) runs.add(batch(b));
    }
    if (r.hasBaseline()) {
      ArrayNode cmp = root.putArray("comparison");
      for (BenchResult.BatchRun b : r.models().get(0).batches()) {
        ObjectNode c = cmp.addObject();
        putBatch(c, b.batch());
        num(c, "speedup", r.speedup(b.batch()));
        BenchResult.Agreement a = r.agreement(b.batch());
        c.put("withinTolerance", a.withinTolerance());
        ArrayNode outs = c.putArray("outputs");
        for (Comparison.Diff d : a.diffs()) {
          ObjectNode dn = outs.addObject();
          dn.put("name", d.name());
          num(dn, "maxAbsDiff", d.maxAbs());
          num(dn, "maxRelDiff", d.maxRel());
          num(dn, "cosine", d.cosine());
          dn.put("identical", d.identical());
          dn.put("withinTolerance", d.withinTolerance());
          if (d.problem() != null) dn.put("problem", d.problem());
        }
      }
    }
    return root;
  }

  private static ObjectNode batch(BenchResult.BatchRun b) {
    ObjectNode n = JSON.createObjectNode();
    putBatch(n, b.batch());
    ObjectNode shapes = n.putObject("inputShapes");
    for (Map.Entry<String, String> e : b.inputShapes().entrySet()) shapes.put(e.getKey(), e.getValue());
    n.put("calls", b.calls());
    num(n, "seconds", b.seconds());
    num(n, "callsPerSecond", b.callsPerSecond());
    num(n, "samplesPerSecond", b.samplesPerSecond());
    LatencyStats l = b.latency();
    ObjectNode lat = n.putObject("latencyMs");
    num(lat, "min", l.min());
    num(lat, "median", l.median());
    num(lat, "p90", l.p90());
    num(lat, "p95", l.p95());
    num(lat, "p99", l.p99());
    num(lat, "max", l.max());
    num(lat, "mean", l.mean());
    if (b.split() != null) {
      ObjectNode s = n.putObject("stageMsPerCall");
      num(s, "hostToDevice", b.split().hostToDeviceMs());
      num(s, "compute", b.split().computeMs());
      num(s, "deviceToHost", b.split().deviceToHostMs());
      s.put("engineRuns", b.split().engineRuns());
    }
    ArrayNode all = n.putArray("latenciesMs");
    for (double v : b.latenciesMs()) all.add(v);
    return n;
  }

  private static void putBatch(ObjectNode n, Integer batch) {
    if (batch == null) n.putNull("batch");
    else n.put("batch", batch);
  }

  private static void num(ObjectNode n, String key, double v) {
    if (Double.isFinite(v)) n.put(key, v);
    else n.putNull(key);
  }
}
