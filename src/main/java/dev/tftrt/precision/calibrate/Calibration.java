package dev.tftrt.precision.calibrate;

import ai.onnxruntime.OrtSession;
import dev.tftrt.TftrtException;
import dev.tftrt.convert.OnnxTypes;
import dev.tftrt.convert.onnx.GraphProto;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.convert.onnx.TensorProto;
import dev.tftrt.convert.onnx.TensorShapeProto;
import dev.tftrt.convert.onnx.ValueInfoProto;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.tensor.DTypes;
import dev.tftrt.tensor.HostTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.tensorflow.proto.DataType;

/**
 * Runs the FP32 segment in ONNX Runtime on calibration data, with the tensors to calibrate
 * exposed as extra outputs of a copy of the model, batch by batch, and keeps one bounded
 * histogram per tensor (never the activations). The calibrator then turns each histogram into
 * an amax.
 */
public final class Calibration {
  /** Batch fed when the model's batch axis is dynamic. */
  public static final int DEFAULT_BATCH = 16;

  private Calibration() {}

  /** Every float tensor that a node reads and that is not a constant: all a rewrite could quantize. */
  public static TensorRanges collect(ModelProto segment, CalibrationData data, Calibrator calibrator) {
    return collect(segment, data, calibrator, Calibrator.DEFAULT_PERCENTILE, activations(segment), DEFAULT_BATCH);
  }

  public static TensorRanges collect(ModelProto segment, CalibrationData data, Calibrator calibrator,
      double percentile, Collection<String> tensors, int batch) {
    if (!(percentile > 0 && percentile <= 100)) {
      throw new TftrtException("The percentile " + percentile + " must be above 0 and at most 100.");
    }
    List<TensorSpec> inputs = inputs(segment);
    Set<String> wanted = new LinkedHashSet<>(tensors);
    ModelProto probe = withOutputs(segment, wanted);
    Map<String, Histogram> hist = new LinkedHashMap<>();
    for (String t : wanted) hist.put(t, new Histogram());
    MessageDigest dataHash = sha256();
    long samples = 0;
    // histograms are taken on one thread of their own, in batch order (so every count is the
    // same as in a sequential loop), while ONNX Runtime runs the next batch into the other slot
    ExecutorService histogrammer = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "tftrt-calibration-histograms");
      t.setDaemon(true);
      return t;
    });
    Future<?>[] pending = new Future<?>[ProbeSession.SLOTS];
    try (ProbeSession ort = new ProbeSession(probe.toByteArray(), "the FP32 segment being calibrated", wanted,
        PROBE_OPTIMIZATION)) {
      Iterator<Map<String, HostTensor>> it = data.samples(inputs);
      int slot = 0;
      while (it.hasNext()) {
        Map<String, HostTensor> sample = it.next();
        long n = sample.values().iterator().next().shape()[0];
        for (HostTensor t : sample.values()) {
          if (t.shape()[0] != n) {
            throw new TftrtException(data.describe() + " gives its inputs different batch sizes (" + n + " and "
                + t.shape()[0] + ").");
          }
        }
        long step = stepFor(inputs, n, batch, data);
        for (long at = 0; at < n; at += step) {
          Map<String, HostTensor> feed = new LinkedHashMap<>();
          for (Map.Entry<String, HostTensor> e : sample.entrySet()) {
            HostTensor part = slice(e.getValue(), at, Math.min(step, n - at));
            feed.put(e.getKey(), part);
            digest(dataHash, e.getKey(), part);
          }
          await(pending[slot]); // the slot's buffers are free once its histograms are taken
          Map<String, FloatBuffer> out = ort.run(feed, slot);
          Map<String, FloatBuffer> fed = new HashMap<>(); // a graph input is no output: its values are the feed
          for (String t : hist.keySet()) {
            HostTensor v = out.containsKey(t) ? null : feed.get(t);
            if (v != null && v.dtype() == DataType.DT_FLOAT) fed.put(t, v.data().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer());
          }
          pending[slot] = histogrammer.submit(() -> {
            for (Map.Entry<String, Histogram> h : hist.entrySet()) {
              FloatBuffer v = out.getOrDefault(h.getKey(), fed.get(h.getKey()));
              if (v != null) h.getValue().add(v);
            }
          });
          slot = (slot + 1) % pending.length;
          samples += Math.min(step, n - at);
        }
      }
      for (Future<?> f : pending) await(f);
    } finally {
      histogrammer.shutdownNow();
    }
    if (samples == 0) throw new TftrtException(data.describe() + " holds no samples.");
    Map<String, Double> amax = new LinkedHashMap<>();
    for (Map.Entry<String, Histogram> h : hist.entrySet()) {
      if (h.getValue().total() > 0) amax.put(h.getKey(), calibrator.amax(h.getValue(), percentile));
    }
    return new TensorRanges(calibrator.spec(percentile), HexFormat.of().formatHex(dataHash.digest()), segmentSha256(segment),
        samples, amax);
  }

  /**
   * The probe's graph optimisations: all of them, as ONNX Runtime's default. Without the layout
   * ones (EXTENDED) the probe of DeepLab at 513 takes half the CPU time, since every exposed
   * tensor is reordered back from NCHWc, but the convolutions then round differently and amax
   * values move in their seventh digit: calibration keeps the results it always gave.
   */
  static final OrtSession.SessionOptions.OptLevel PROBE_OPTIMIZATION = OrtSession.SessionOptions.OptLevel.ALL_OPT;

  private static void await(Future<?> f) {
    if (f == null) return;
    try {
      f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TftrtException("Calibration was interrupted.", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) throw r;
      if (e.getCause() instanceof Error err) throw err;
      throw new IllegalStateException(e.getCause());
    }
  }

  /** The batch to feed: the model's fixed batch (the sample must hold whole batches of it), else up to batch. */
  private static long stepFor(List<TensorSpec> inputs, long n, int batch, CalibrationData data) {
    long fixed = -1;
    for (TensorSpec s : inputs) {
      long[] sh = s.shape();
      if (sh != null && sh.length > 0 && sh[0] > 0) fixed = sh[0];
    }
    if (fixed < 0) return Math.max(1, Math.min(n, batch));
    if (n % fixed != 0) {
      throw new TftrtException(data.describe() + " has a batch of " + n + " samples, but the model takes batches of "
          + fixed + " exactly.");
    }
    return fixed;
  }

  public static String segmentSha256(ModelProto segment) {
    return HexFormat.of().formatHex(sha256().digest(segment.toByteArray()));
  }

  /** The model's inputs (not its initializers) as specs keyed by their ONNX names. */
  public static List<TensorSpec> inputs(ModelProto m) {
    Set<String> init = new LinkedHashSet<>();
    for (TensorProto t : m.getGraph().getInitializerList()) init.add(t.getName());
    List<TensorSpec> r = new ArrayList<>();
    for (ValueInfoProto v : m.getGraph().getInputList()) {
      if (init.contains(v.getName())) continue;
      DataType dt = OnnxTypes.tfType(v.getType().getTensorType().getElemType());
      long[] shape = null;
      if (v.getType().getTensorType().hasShape()) {
        List<TensorShapeProto.Dimension> dims = v.getType().getTensorType().getShape().getDimList();
        shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) shape[i] = dims.get(i).hasDimValue() ? dims.get(i).getDimValue() : -1;
      }
      r.add(new TensorSpec(v.getName(), v.getName(), dt, shape));
    }
    return r;
  }

  /** Float values read by a node that are neither initializers nor Constant outputs. */
  public static List<String> activations(ModelProto m) {
    GraphProto g = m.getGraph();
    Set<String> constants = new LinkedHashSet<>();
    for (TensorProto t : g.getInitializerList()) constants.add(t.getName());
    for (var n : g.getNodeList()) if (n.getOpType().equals("Constant")) constants.addAll(n.getOutputList());
    Set<String> r = new LinkedHashSet<>();
    for (var n : g.getNodeList()) {
      for (String in : n.getInputList()) if (!in.isEmpty() && !constants.contains(in)) r.add(in);
    }
    return new ArrayList<>(r);
  }

  /** A copy of the model with the wanted tensors as outputs too (ONNX Runtime infers their types). */
  static ModelProto withOutputs(ModelProto m, Set<String> wanted) {
    Set<String> have = new LinkedHashSet<>();
    for (ValueInfoProto v : m.getGraph().getOutputList()) have.add(v.getName());
    for (ValueInfoProto v : m.getGraph().getInputList()) have.add(v.getName());
    GraphProto.Builder g = m.getGraph().toBuilder();
    for (String t : wanted) {
      if (!have.contains(t)) g.addOutput(ValueInfoProto.newBuilder().setName(t));
    }
    return m.toBuilder().setGraph(g).build();
  }

  static HostTensor slice(HostTensor t, long from, long count) {
    long[] s = t.shape();
    if (from == 0 && count == s[0]) return t;
    long row = HostTensor.numElements(s) / s[0] * DTypes.byteSize(t.dtype());
    ByteBuffer d = t.data().duplicate();
    d.position((int) (from * row)).limit((int) ((from + count) * row));
    s[0] = count;
    return HostTensor.of(t.dtype(), s, d.slice().order(ByteOrder.LITTLE_ENDIAN));
  }

  private static void digest(MessageDigest md, String name, HostTensor t) {
    md.update(name.getBytes(StandardCharsets.UTF_8));
    md.update((byte) t.dtype().getNumber());
    for (long d : t.shape()) md.update(ByteBuffer.allocate(8).putLong(d).array());
    md.update(t.data().duplicate());
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
