package dev.tftrt.convert;

import dev.tftrt.convert.passes.OnnxPass;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
import dev.tftrt.convert.onnx.AttributeProto;
import dev.tftrt.convert.onnx.GraphProto;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.convert.onnx.NodeProto;
import dev.tftrt.convert.onnx.OperatorSetIdProto;
import dev.tftrt.convert.onnx.TensorProto;
import dev.tftrt.convert.passes.PruneUnusedPass;
import dev.tftrt.convert.passes.TransposeCancelPass;
import dev.tftrt.convert.passes.TransposePushPass;
import dev.tftrt.tensor.HostTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;

/**
 * Each push rule on a small hand-written ONNX graph: ONNX Runtime gives the same outputs before
 * and after the passes, and the transposes left are counted. x is NCHW; t = Transpose(x) is its
 * NHWC view, as converted TensorFlow ops see it.
 */
class TransposePushRulesTest {
  private static final DataType F32 = DataType.DT_FLOAT;
  private static final long[] NHWC = {0, 2, 3, 1};
  private static final long[] NCHW = {0, 3, 1, 2};
  private final Rand rand = new Rand(5);

  /** A small ONNX graph under construction. */
  private static final class G {
    final GraphProto.Builder g = GraphProto.newBuilder().setName("rules");
    final Map<String, HostTensor> feeds = new LinkedHashMap<>();
    int k;

    String input(String name, HostTensor value) {
      g.addInput(OnnxExporter.valueInfo(name, value.dtype(), value.shape(), null));
      feeds.put(name, value);
      return name;
    }

    void output(String name, DataType dtype) {
      g.addOutput(OnnxExporter.valueInfo(name, dtype, null, null));
    }

    /** A node with attributes as name, value pairs; returns its output. */
    String node(String op, List<String> in, Object... attrs) {
      String out = op.toLowerCase(java.util.Locale.ROOT) + k++;
      NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(out).addAllInput(in).addOutput(out);
      for (int i = 0; i < attrs.length; i += 2) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName((String) attrs[i]);
        Object v = attrs[i + 1];
        if (v instanceof Long l) a.setType(AttributeProto.AttributeType.INT).setI(l);
        else if (v instanceof Integer l) a.setType(AttributeProto.AttributeType.INT).setI(l);
        else if (v instanceof long[] ls) {
          a.setType(AttributeProto.AttributeType.INTS);
          for (long x : ls) a.addInts(x);
        } else if (v instanceof String s) a.setType(AttributeProto.AttributeType.STRING).setS(ByteString.copyFromUtf8(s));
        else if (v instanceof Float f) a.setType(AttributeProto.AttributeType.FLOAT).setF(f);
        else throw new IllegalArgumentException(String.valueOf(v));
        n.addAttribute(a);
      }
      g.addNode(n);
      return out;
    }

    String node(String op, String in, Object... attrs) {
      return node(op, List.of(in), attrs);
    }

    String transpose(String x, long[] perm) {
      return node("Transpose", x, "perm", perm);
    }

    String int64s(long... v) {
      return init(TensorProto.DataType.INT64_VALUE, new long[] {v.length}, v, 8);
    }

    String int32s(long... v) {
      return init(TensorProto.DataType.INT32_VALUE, new long[] {v.length}, v, 4);
    }

    String floats(long[] dims, float... v) {
      ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
      for (float f : v) b.putFloat(f);
      b.flip();
      return addInit(TensorProto.newBuilder().setDataType(TensorProto.DataType.FLOAT_VALUE), dims, b);
    }

    private String init(int type, long[] dims, long[] v, int size) {
      ByteBuffer b = ByteBuffer.allocate(size * v.length).order(ByteOrder.LITTLE_ENDIAN);
      for (long x : v) {
        if (size == 8) b.putLong(x);
        else b.putInt((int) x);
      }
      b.flip();
      return addInit(TensorProto.newBuilder().setDataType(type), dims, b);
    }

    private String addInit(TensorProto.Builder t, long[] dims, ByteBuffer data) {
      String name = "c" + k++;
      for (long d : dims) t.addDims(d);
      g.addInitializer(t.setName(name).setRawData(ByteString.copyFrom(data)));
      return name;
    }

    ModelProto model(GraphProto graph) {
      return ModelProto.newBuilder().setIrVersion(8).setProducerName("test")
          .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17)).setGraph(graph).build();
    }
  }

  private static Map<String, HostTensor> run(ModelProto m, Map<String, HostTensor> feeds) {
    Map<String, HostTensor> r = new HashMap<>();
    List<OnnxTensor> in = new ArrayList<>();
    try (OrtSession s = OnnxCheck.env().createSession(m.toByteArray())) {
      Map<String, OnnxTensor> feedMap = new HashMap<>();
      for (Map.Entry<String, HostTensor> e : feeds.entrySet()) {
        OnnxTensor t = OnnxCheck.toOrt(e.getValue());
        in.add(t);
        feedMap.put(e.getKey(), t);
      }
      try (OrtSession.Result res = s.run(feedMap)) {
        for (var e : res) r.put(e.getKey(), OnnxCheck.fromOrt((OnnxTensor) e.getValue()));
      }
    } catch (OrtException e) {
      throw new AssertionError("ONNX Runtime failed: " + e.getMessage() + "\n" + OnnxCheck.describe(m), e);
    } finally {
      for (OnnxTensor t : in) t.close();
    }
    return r;
  }

  private static GraphProto optimize(GraphProto g, TransposePushPass push) {
    for (OnnxPass p : List.of(push, new TransposeCancelPass(), new PruneUnusedPass())) g = p.apply(g);
    return g;
  }

  /**
   * Runs the graph as built and after the passes, checks every output is the same, checks the
   * transposes left, and returns the optimized model.
   */
  private static ModelProto check(G b, int transposesLeft) {
    GraphProto raw = b.g.build();
    ModelProto before = b.model(raw);
    ModelProto after = b.model(optimize(raw, new TransposePushPass()));
    Map<String, HostTensor> want = run(before, b.feeds);
    Map<String, HostTensor> got = run(after, b.feeds);
    for (String o : want.keySet()) {
      HostTensor w = want.get(o);
      HostTensor g = got.get(o);
      assertEquals(w.dtype(), g.dtype(), o + ": dtype");
      assertArrayEquals(w.shape(), g.shape(), o + ": shape");
      for (long i = 0; i < w.numElements(); i++) {
        double a = w.getDouble(i);
        double c = g.getDouble(i);
        if (Math.abs(a - c) > 1e-6 * (1 + Math.abs(a))) {
          fail(o + "[" + i + "]: " + a + " before the passes, " + c + " after\n" + OnnxCheck.describe(after));
        }
      }
    }
    assertEquals(transposesLeft, OnnxExporter.countTransposes(after), OnnxCheck.describe(after));
    return after;
  }

  private static int singleReaderCount(G b) {
    return TransposePushPass.count(optimize(b.g.build(), TransposePushPass.singleReadersOnly()));
  }

  private static long count(ModelProto m, String op) {
    return m.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals(op)).count();
  }

  private static NodeProto only(ModelProto m, String op) {
    List<NodeProto> ns = m.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals(op)).toList();
    assertEquals(1, ns.size(), op + " nodes");
    return ns.get(0);
  }

  private static long intAttr(NodeProto n, String name) {
    for (AttributeProto a : n.getAttributeList()) if (a.getName().equals(name)) return a.getI();
    throw new AssertionError(n.getOpType() + " has no " + name);
  }

  /** The DeepLab head: logits read by ArgMax and Softmax, one path back to NCHW. */
  @Test
  void argMaxAndSoftmaxBothTakeTheTranspose() {
    G b = new G();
    String t = b.transpose(b.input("x", rand.floats(1, 3, 4, 5)), NHWC);
    String a = b.node("ArgMax", t, "axis", 3L, "keepdims", 0L);
    b.output(a, DataType.DT_INT64);
    String s = b.node("Softmax", t, "axis", -1L);
    String r = b.node("Relu", b.transpose(s, NCHW));
    b.output(r, F32);
    ModelProto m = check(b, 0);
    assertEquals(1, intAttr(only(m, "ArgMax"), "axis"));
    assertEquals(1, intAttr(only(m, "Softmax"), "axis"));
    assertEquals(2, singleReaderCount(b), "a transpose below one reader only stays above both");
  }

  @Test
  void argMinKeepingTheAxisAndLogSoftmax() {
    G b = new G();
    String t = b.transpose(b.input("x", rand.floats(2, 3, 4, 5)), NHWC);
    b.output(b.transpose(b.node("ArgMin", t, "axis", -1L, "keepdims", 1L), NCHW), DataType.DT_INT64);
    b.output(b.transpose(b.node("LogSoftmax", t, "axis", 2L), NCHW), F32);
    b.output(b.node("ArgMax", t, "axis", 1L, "keepdims", 0L), DataType.DT_INT64); // [2, 5, 3]: transposed back
    check(b, 1);
  }

  @Test
  void resizeNearestWithSizesAndLinearWithScales() {
    G b = new G();
    String t = b.transpose(b.input("x", rand.floats(1, 3, 4, 5)), NHWC);
    String n = b.node("Resize", List.of(t, "", "", b.int64s(1, 7, 9, 3)), "mode", "nearest",
        "coordinate_transformation_mode", "align_corners", "nearest_mode", "round_prefer_ceil");
    b.output(b.transpose(n, NCHW), F32);
    String l = b.node("Resize", List.of(t, "", b.floats(new long[] {4}, 1f, 2f, 1.5f, 1f)), "mode", "linear",
        "coordinate_transformation_mode", "half_pixel");
    b.output(b.transpose(l, NCHW), F32);
    ModelProto m = check(b, 0);
    assertEquals(2, count(m, "Resize"));
  }

  /** Which axes a linear Resize changes is unknown with sizes: NHWC to NCHW might break it. */
  @Test
  void linearResizeWithSizesStaysPut() {
    G b = new G();
    String t = b.transpose(b.input("x", rand.floats(1, 3, 4, 5)), NHWC);
    String l = b.node("Resize", List.of(t, "", "", b.int64s(1, 8, 10, 3)), "mode", "linear");
    b.output(b.transpose(l, NCHW), F32);
    check(b, 2);
  }

  @Test
  void sliceAxesExplicitImplicitNegativeAndInt32() {
    G b = new G();
    String t = b.transpose(b.input("x", rand.floats(2, 3, 6, 5)), NHWC);
    b.output(b.transpose(b.node("Slice", List.of(t, b.int64s(1), b.int64s(3), b.int64s(-1))), NCHW), F32);
    b.output(b.transpose(b.node("Slice", List.of(t, b.int64s(0, 1), b.int64s(1, 4))), NCHW), F32);
    b.output(b.transpose(b.node("Slice", List.of(t, b.int32s(4, -1), b.int32s(0, -100), b.int32s(2, 1),
        b.int32s(-1, -2))), NCHW), F32);
    b.output(b.transpose(b.node("Slice", List.of(t, b.int64s(1), b.int64s(5), b.int64s(2), b.int64s(2))), NCHW), F32);
    check(b, 0);
  }

  @Test
  void squeezeAndUnsqueezeRemapAxesAndPerm() {
    G b = new G();
    String x = b.input("x", rand.floats(2, 1, 4, 5));
    String t = b.transpose(x, NHWC);
    b.output(b.node("Squeeze", List.of(t, b.int64s(-1))), F32); // NCHW [2,1,4,5] -> [2,4,5]: no transpose
    b.output(b.node("Unsqueeze", List.of(t, b.int64s(2, -1))), F32); // rank 6: one transpose after it
    String u = b.node("Unsqueeze", List.of(b.node("Relu", t), b.int64s(0)));
    b.output(b.transpose(u, new long[] {0, 1, 4, 2, 3}), F32); // back to NCHW behind a new axis
    check(b, 1);
  }

  /** NHWC [n,h,w,1] to NCHW is only inserting the 1 elsewhere: the Transpose disappears. */
  @Test
  void transposeAfterUnsqueezeBecomesOtherAxes() {
    G b = new G();
    String x = b.input("x", rand.floats(2, 4, 5));
    String u = b.node("Unsqueeze", List.of(x, b.int64s(3)));
    String r = b.node("Resize", List.of(b.transpose(u, NCHW), "", "", b.int64s(2, 1, 7, 9)), "mode", "nearest");
    b.output(b.node("Squeeze", List.of(b.transpose(r, NHWC), b.int64s(3))), F32);
    // Not when the transpose reorders the input's own axes.
    String v = b.node("Unsqueeze", List.of(x, b.int64s(0)));
    b.output(b.transpose(v, new long[] {0, 1, 3, 2}), F32);
    ModelProto m = check(b, 1);
    assertEquals(2, count(m, "Unsqueeze"));
  }

  /** Concat reads t and Mul(t): Mul goes first, Concat reads its NCHW result. */
  @Test
  void aReaderOfAnotherReadersOutput() {
    G b = new G();
    String t = b.transpose(b.input("x", rand.floats(1, 3, 4, 5)), NHWC);
    String m = b.node("Mul", List.of(t, b.floats(new long[] {3}, 1f, -2f, 3f)));
    String c = b.node("Concat", List.of(m, t), "axis", 3L);
    b.output(b.transpose(c, NCHW), F32);
    check(b, 0);
    assertEquals(2, singleReaderCount(b));
  }

  @Test
  void padCastClipAndReduceTogether() {
    G b = new G();
    String t = b.transpose(b.input("x", rand.floats(1, 3, 4, 5)), NHWC);
    b.output(b.transpose(b.node("Pad", List.of(t, b.int64s(0, 1, 0, 2, 0, 0, 3, 0))), NCHW), F32);
    b.output(b.transpose(b.node("Cast", t, "to", (long) TensorProto.DataType.DOUBLE_VALUE), NCHW), DataType.DT_DOUBLE);
    b.output(b.transpose(b.node("Clip", List.of(t, b.floats(new long[] {}, -0.5f), b.floats(new long[] {}, 0.5f))), NCHW), F32);
    b.output(b.node("ReduceMean", t, "axes", new long[] {1, 2}, "keepdims", 0L), F32);
    b.output(b.node("ReduceSum", List.of(t, b.int64s(-1)), "keepdims", 1L), F32);
    check(b, 1); // ReduceSum's [1,4,5,1] output is NHWC
  }

  /** Copies of a transpose that reach NHWC outputs would leave more than the one they replace. */
  @Test
  void stuckCopiesAreNotKept() {
    G b = new G();
    String t = b.transpose(b.input("x", rand.floats(1, 3, 4, 5)), NHWC);
    b.output(b.node("Relu", t), F32);
    b.output(b.node("Sigmoid", t), F32);
    check(b, 1);
  }

  /** A transpose that is a graph output stays; copies below its readers cancel. */
  @Test
  void transposedGraphOutputStays() {
    G b = new G();
    String t = b.transpose(b.input("x", rand.floats(1, 3, 4, 5)), NHWC);
    b.output(t, F32);
    b.output(b.transpose(b.node("Relu", t), NCHW), F32);
    b.output(b.transpose(b.node("Exp", t), NCHW), F32);
    ModelProto m = check(b, 1);
    assertEquals(3, singleReaderCount(b));
    assertTrue(m.getGraph().getNodeList().stream().anyMatch(n -> n.getOutput(0).equals(t)));
  }
}
