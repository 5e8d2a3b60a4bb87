package dev.tftrt.convert;

import dev.tftrt.convert.ops.StandardConverters;
import dev.tftrt.graph.TensorInfoTable;

import dev.tftrt.model.TensorNames;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.convert.onnx.NodeProto;
import dev.tftrt.tensor.DTypes;
import dev.tftrt.tensor.HostTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tensorflow.Session;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;

/**
 * The converter test harness: runs a TensorFlow graph on given inputs, exports it to ONNX, runs
 * the ONNX model with ONNX Runtime on the same inputs and compares every output with stated
 * tolerances (|onnx - tf| <= atol + rtol * |tf|; integers and bools exactly).
 */
public final class OnnxCheck {
  /** Op types converted in comparisons that passed, per test thread (see CoverageExtension). */
  static final ThreadLocal<Set<String>> CHECKED_OPS = ThreadLocal.withInitial(HashSet::new);

  /** The process's one environment, made as tftrt makes it (a test that made its own first would refuse the pipeline's). */
  public static OrtEnvironment env() {
    return dev.tftrt.runtime.ort.Ort.environment();
  }

  private final TfBuilder builder;
  private final Map<String, HostTensor> feeds = new LinkedHashMap<>();
  private final List<String> outputs = new ArrayList<>();
  private double rtol = 1e-5;
  private double atol = 1e-5;
  private OnnxExporter exporter = new OnnxExporter(StandardConverters.registry());
  private ModelProto model;

  private OnnxCheck(TfBuilder b) {
    this.builder = b;
  }

  public static OnnxCheck of(TfBuilder b) {
    return new OnnxCheck(b);
  }

  /** Feeds a Placeholder (its name, or "name:0"); fed tensors are the ONNX inputs. */
  public OnnxCheck feed(String tensor, HostTensor value) {
    feeds.put(TensorNames.canonical(tensor), value);
    return this;
  }

  public OnnxCheck outputs(String... tensors) {
    for (String t : tensors) outputs.add(TensorNames.canonical(t));
    return this;
  }

  public OnnxCheck tol(double rtol, double atol) {
    this.rtol = rtol;
    this.atol = atol;
    return this;
  }

  public OnnxCheck exporter(OnnxExporter e) {
    this.exporter = e;
    return this;
  }

  /** The exported model of the last run. */
  public ModelProto model() {
    return model;
  }

  /** Number of ONNX nodes of an op type in the last exported model. */
  public long count(String onnxOp) {
    return model.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals(onnxOp)).count();
  }

  /** Runs both sides and compares; returns this for inspecting the model. */
  public OnnxCheck run() {
    GraphDef gd = builder.graphDef();
    Map<String, HostTensor> expected = runTf(gd);
    model = exporter.export(gd, new ArrayList<>(feeds.keySet()), outputs);
    Map<String, HostTensor> actual = runOnnx(model);
    for (String o : outputs) compare(o, expected.get(o), actual.get(o));
    TfGraph tg = new TfGraph(gd, TensorInfoTable.of(gd));
    for (String n : OnnxExporter.topologicalOrder(tg, feeds.keySet(), outputs)) {
      CHECKED_OPS.get().add(tg.node(n).getOp());
    }
    return this;
  }

  /** What the standard registry says about a node of the built graph. */
  public static Optional<String> validate(TfBuilder b, String node) {
    TfGraph g = TfGraph.of(b.graphDef());
    return StandardConverters.registry().validate(g.view(node));
  }

  private Map<String, HostTensor> runTf(GraphDef gd) {
    try (Session s = new Session(builder.graph())) {
      HostTensor[] out = dev.tftrt.testing.TfGraphs.run(s, feeds, outputs);
      Map<String, HostTensor> r = new HashMap<>();
      for (int i = 0; i < out.length; i++) r.put(outputs.get(i), out[i]);
      return r;
    }
  }

  private Map<String, HostTensor> runOnnx(ModelProto m) {
    Map<String, HostTensor> r = new HashMap<>();
    List<OnnxTensor> in = new ArrayList<>();
    try (OrtSession s = env().createSession(m.toByteArray())) {
      Map<String, OnnxTensor> feedMap = new HashMap<>();
      for (Map.Entry<String, HostTensor> e : feeds.entrySet()) {
        OnnxTensor t = toOrt(e.getValue());
        in.add(t);
        feedMap.put(e.getKey(), t);
      }
      try (OrtSession.Result res = s.run(feedMap)) {
        for (String o : outputs) {
          OnnxValue v = res.get(o).orElseThrow(() -> new AssertionError("ONNX Runtime gave no " + o));
          r.put(o, fromOrt((OnnxTensor) v));
        }
      }
    } catch (OrtException e) {
      throw new AssertionError("ONNX Runtime failed: " + e.getMessage() + "\n" + describe(m), e);
    } finally {
      for (OnnxTensor t : in) t.close();
    }
    return r;
  }

  static String describe(ModelProto m) {
    StringBuilder b = new StringBuilder();
    for (NodeProto n : m.getGraph().getNodeList()) {
      b.append("  ").append(n.getOpType()).append(n.getInputList()).append(" -> ")
          .append(n.getOutputList()).append('\n');
    }
    return b.toString();
  }

  static OnnxTensor toOrt(HostTensor t) throws OrtException {
    ByteBuffer src = t.data();
    ByteBuffer b = ByteBuffer.allocateDirect(src.remaining()).order(ByteOrder.nativeOrder());
    b.put(src);
    b.flip();
    return OnnxTensor.createTensor(env(), b, t.shape(), javaType(t.dtype()));
  }

  static OnnxJavaType javaType(DataType t) {
    return dev.tftrt.runtime.ort.Ort.javaType(t); // the mapping the runtime uses, not a second copy
  }

  static DataType tfType(OnnxJavaType t) {
    return dev.tftrt.runtime.ort.Ort.dtype(t, t.name());
  }


  static HostTensor fromOrt(OnnxTensor t) {
    ai.onnxruntime.TensorInfo info = t.getInfo();
    DataType dt = tfType(info.type);
    ByteBuffer b = t.getByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    return HostTensor.of(dt, info.getShape(), b);
  }

  private void compare(String name, HostTensor want, HostTensor got) {
    assertEquals(want.dtype(), got.dtype(), name + ": dtype");
    assertArrayEquals(want.shape(), got.shape(), name + ": shape");
    boolean exact = !DTypes.isFloating(want.dtype());
    long n = want.numElements();
    int bad = 0;
    StringBuilder msg = new StringBuilder();
    for (long i = 0; i < n; i++) {
      double w = want.getDouble(i);
      double g = got.getDouble(i);
      boolean ok = exact ? w == g
          : (Double.isNaN(w) && Double.isNaN(g)) || w == g || Math.abs(g - w) <= atol + rtol * Math.abs(w);
      if (!ok && bad++ < 5) msg.append(String.format(" [%d] tf=%s onnx=%s;", i, w, g));
    }
    if (bad > 0) {
      fail(name + ": " + bad + " of " + n + " elements differ (rtol " + rtol + ", atol " + atol
          + "):" + msg + "\n" + describe(model));
    }
  }
}
