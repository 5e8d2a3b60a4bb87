package dev.tftrt.runtime;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.tftrt.TftrtException;
import dev.tftrt.model.GraphDefs;
import dev.tftrt.runtime.ort.Ort;
import dev.tftrt.runtime.ort.OrtErrors;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.tensor.HostTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.DataType;

/**
 * Runs an ONNX model with ONNX Runtime on the CPU. Its inputs and outputs are keyed by their
 * ONNX names, which tftrt's exporter makes the TensorFlow tensor names ("node:0"), so they pair
 * with the TensorFlow model they came from.
 */
public final class OnnxRunner implements ModelRunner {
  private final String description;
  private final OrtSession session;
  private final List<TensorSpec> inputs;
  private final List<TensorSpec> outputs;

  public OnnxRunner(byte[] model, String description) {
    this.description = description;
    try {
      OrtSession.SessionOptions so = new OrtSession.SessionOptions();
      so.setSessionLogLevel(Ort.logLevel());
      session = Ort.environment().createSession(model, so);
      inputs = specs(session.getInputInfo());
      outputs = specs(session.getOutputInfo());
    } catch (OrtException e) {
      throw new TftrtException(description + " is not a valid ONNX model: " + OrtErrors.why(e) + ".", e);
    }
  }

  public static OnnxRunner open(Path file) {
    return new OnnxRunner(GraphDefs.readBytes(file), file.toString());
  }

  private static List<TensorSpec> specs(Map<String, NodeInfo> infos) {
    List<TensorSpec> r = new ArrayList<>();
    for (Map.Entry<String, NodeInfo> e : infos.entrySet()) {
      if (!(e.getValue().getInfo() instanceof TensorInfo ti)) {
        throw new TftrtException("ONNX value '" + e.getKey() + "' is not a tensor, which tftrt does not support.");
      }
      r.add(new TensorSpec(e.getKey(), e.getKey(), Ort.dtype(ti.type, e.getKey()), ti.getShape()));
    }
    return r;
  }

  @Override
  public String describe() {
    return description;
  }

  @Override
  public List<TensorSpec> inputs() {
    return inputs;
  }

  @Override
  public List<TensorSpec> outputs() {
    return outputs;
  }

  @Override
  public Map<String, HostTensor> run(Map<String, HostTensor> feeds) {
    Feeds.check(inputs, feeds, description);
    Map<String, OnnxTensor> in = new LinkedHashMap<>();
    try {
      for (TensorSpec s : inputs) in.put(s.key(), toOnnx(feeds.get(s.key())));
      Map<String, HostTensor> out = new LinkedHashMap<>();
      try (OrtSession.Result r = session.run(in)) {
        for (TensorSpec s : outputs) {
          OnnxTensor t = (OnnxTensor) r.get(s.key()).orElseThrow();
          out.put(s.key(), fromOnnx(t, s));
        }
      }
      return out;
    } catch (OrtException e) {
      throw new TftrtException(description + " failed to run: " + OrtErrors.why(e) + ".", e);
    } finally {
      for (OnnxTensor t : in.values()) t.close();
    }
  }

  static OnnxTensor toOnnx(HostTensor t) throws OrtException {
    if (t.dtype() == DataType.DT_STRING) {
      String[] s = new String[(int) t.numElements()];
      for (int i = 0; i < s.length; i++) s[i] = new String(t.string(i), java.nio.charset.StandardCharsets.UTF_8);
      return OnnxTensor.createTensor(Ort.environment(), s, t.shape());
    }
    ByteBuffer direct = ByteBuffer.allocateDirect(t.data().remaining()).order(ByteOrder.nativeOrder());
    direct.put(t.data()).flip();
    return OnnxTensor.createTensor(Ort.environment(), direct, t.shape(), Ort.javaType(t.dtype()));
  }

  static HostTensor fromOnnx(OnnxTensor t, TensorSpec s) throws OrtException {
    TensorInfo info = t.getInfo();
    DataType dt = Ort.dtype(info.type, s.key());
    if (dt == DataType.DT_STRING) {
      String[] flat = (String[]) flatten(t.getValue(), (int) info.getNumElements());
      byte[][] b = new byte[flat.length][];
      for (int i = 0; i < flat.length; i++) b[i] = flat[i].getBytes(java.nio.charset.StandardCharsets.UTF_8);
      return HostTensor.ofStrings(info.getShape(), b);
    }
    return HostTensor.of(dt, info.getShape(), t.getByteBuffer().order(ByteOrder.LITTLE_ENDIAN));
  }

  private static Object flatten(Object v, int n) {
    String[] out = new String[n];
    int[] at = {0};
    flattenInto(v, out, at);
    return out;
  }

  private static void flattenInto(Object v, String[] out, int[] at) {
    if (v instanceof String s) {
      out[at[0]++] = s;
    } else {
      for (Object o : (Object[]) v) flattenInto(o, out, at);
    }
  }

  private static String firstLine(Exception e) {
    String m = e.getMessage() == null ? e.toString() : e.getMessage().strip();
    int nl = m.indexOf('\n');
    m = nl > 0 ? m.substring(0, nl) : m;
    return m.endsWith(".") ? m.substring(0, m.length() - 1) : m;
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException e) {
      throw new TftrtException(description + " could not be closed: " + firstLine(e) + ".", e);
    }
  }
}
