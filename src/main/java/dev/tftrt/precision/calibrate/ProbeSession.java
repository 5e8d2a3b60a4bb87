package dev.tftrt.precision.calibrate;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.tftrt.TftrtException;
import dev.tftrt.runtime.ort.Ort;
import dev.tftrt.runtime.ort.OrtErrors;
import dev.tftrt.tensor.HostTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.DataType;

/**
 * The calibration probe in ONNX Runtime: runs the segment with the tensors to calibrate as
 * outputs and hands them back as float views, without copying them. The outputs of DeepLab at
 * 513x513 are 190 MB per sample; ONNX Runtime writes them straight into direct buffers tftrt
 * allocated (pinned outputs) once per input shape, in {@value #SLOTS} slots, so the histograms of
 * one batch can be taken while the next batch runs. The first run at a new shape learns the
 * output shapes and dtypes (its outputs are copied once); a tensor that is not float is not read.
 */
final class ProbeSession implements AutoCloseable {
  static final int SLOTS = 2;

  private final String description;
  private final OrtSession session;
  private final Set<String> wanted;
  private final Slot[] slots = new Slot[SLOTS];
  private final Map<String, ByteBuffer> inputBuffers = new LinkedHashMap<>();

  /** One set of pinned outputs, for one input shape. */
  private static final class Slot {
    String shapeKey;
    Map<String, OnnxTensor> pinned;
    Map<String, FloatBuffer> views;
  }

  /** {@code optimization}: ONNX Runtime's graph optimisation level for the probe. */
  ProbeSession(byte[] model, String description, Collection<String> wanted, OrtSession.SessionOptions.OptLevel optimization) {
    this.description = description;
    this.wanted = new LinkedHashSet<>(wanted);
    for (int i = 0; i < SLOTS; i++) slots[i] = new Slot();
    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
      so.setSessionLogLevel(Ort.logLevel());
      so.setOptimizationLevel(optimization);
      session = Ort.environment().createSession(model, so);
      this.wanted.retainAll(session.getOutputNames()); // a model input is no output: it is not read
    } catch (OrtException e) {
      throw new TftrtException(description + " is not a valid ONNX model: " + OrtErrors.why(e) + ".", e);
    }
  }

  /**
   * Runs one batch into {@code slot}; the returned views (tensor name to its float values) stay
   * valid until the next run into the same slot. Wanted tensors that are not float are absent.
   */
  Map<String, FloatBuffer> run(Map<String, HostTensor> feed, int slot) {
    Slot s = slots[slot];
    if (wanted.isEmpty()) return Map.of();
    Map<String, OnnxTensor> in = new LinkedHashMap<>();
    try {
      StringBuilder key = new StringBuilder();
      for (Map.Entry<String, HostTensor> e : feed.entrySet()) {
        in.put(e.getKey(), input(e.getKey(), e.getValue()));
        key.append(e.getKey()).append(Arrays.toString(e.getValue().shape())).append(';');
      }
      if (key.toString().equals(s.shapeKey)) {
        if (!s.pinned.isEmpty()) session.run(in, Set.of(), s.pinned).close();
        return s.views;
      }
      release(s);
      Map<String, FloatBuffer> copies = new LinkedHashMap<>();
      Map<String, OnnxTensor> pinned = new LinkedHashMap<>();
      Map<String, FloatBuffer> views = new LinkedHashMap<>();
      try (OrtSession.Result r = session.run(in, wanted)) {
        for (Map.Entry<String, OnnxValue> e : r) {
          if (!(e.getValue() instanceof OnnxTensor t) || t.getInfo().type != OnnxJavaType.FLOAT) continue;
          FloatBuffer values = t.getByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
          copies.put(e.getKey(), values);
          ByteBuffer b = ByteBuffer.allocateDirect(values.remaining() * 4).order(ByteOrder.nativeOrder());
          FloatBuffer f = b.asFloatBuffer();
          pinned.put(e.getKey(), OnnxTensor.createTensor(Ort.environment(), f, t.getInfo().getShape()));
          views.put(e.getKey(), f);
        }
      }
      s.shapeKey = key.toString();
      s.pinned = pinned;
      s.views = views;
      return copies;
    } catch (OrtException e) {
      throw new TftrtException(description + " failed to run: " + OrtErrors.why(e) + ".", e);
    } finally {
      for (OnnxTensor t : in.values()) t.close();
    }
  }

  /** The feed in a direct buffer, reused from batch to batch (ONNX Runtime reads it in place). */
  private OnnxTensor input(String name, HostTensor t) throws OrtException {
    if (t.dtype() == DataType.DT_STRING) {
      throw new TftrtException(description + " takes string input '" + name + "', which calibration does not feed.");
    }
    ByteBuffer src = t.data().duplicate();
    ByteBuffer b = inputBuffers.get(name);
    if (b == null || b.capacity() < src.remaining()) {
      b = ByteBuffer.allocateDirect(src.remaining()).order(ByteOrder.nativeOrder());
      inputBuffers.put(name, b);
    }
    b.clear();
    b.put(src).flip();
    return OnnxTensor.createTensor(Ort.environment(), b, t.shape(), Ort.javaType(t.dtype()));
  }

  private static void release(Slot s) {
    if (s.pinned != null) for (OnnxTensor t : s.pinned.values()) t.close();
    s.pinned = null;
    s.views = null;
    s.shapeKey = null;
  }

  @Override
  public void close() {
    for (Slot s : slots) release(s);
    try {
      session.close();
    } catch (OrtException e) {
      throw new TftrtException(description + " could not be closed: " + OrtErrors.why(e) + ".", e);
    }
  }
}
