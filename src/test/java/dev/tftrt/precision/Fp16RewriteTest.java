package dev.tftrt.precision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.tftrt.convert.onnx.AttributeProto;
import dev.tftrt.convert.onnx.GraphProto;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.convert.onnx.NodeProto;
import dev.tftrt.convert.onnx.OperatorSetIdProto;
import dev.tftrt.convert.onnx.TensorProto;
import dev.tftrt.convert.onnx.TypeProto;
import dev.tftrt.convert.onnx.ValueInfoProto;
import dev.tftrt.runtime.OnnxRunner;
import dev.tftrt.tensor.HostTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The FP16 rewrite on small hand-built ONNX graphs: node by node, and run in ONNX Runtime. */
class Fp16RewriteTest {
  static final int F = TensorProto.DataType.FLOAT_VALUE;
  static final int H = TensorProto.DataType.FLOAT16_VALUE;

  static ValueInfoProto vi(String name, int type, long... dims) {
    TypeProto.Tensor.Builder t = TypeProto.Tensor.newBuilder().setElemType(type);
    var s = t.getShapeBuilder();
    for (long d : dims) s.addDimBuilder().setDimValue(d);
    return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(t)).build();
  }

  static TensorProto floats(String name, long[] dims, float... v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float x : v) b.putFloat(x);
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(F).setRawData(ByteString.copyFrom(b.array()));
    for (long d : dims) t.addDims(d);
    return t.build();
  }

  static TensorProto int8s(String name, long[] dims, byte... v) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT8_VALUE)
        .setRawData(ByteString.copyFrom(v));
    for (long d : dims) t.addDims(d);
    return t.build();
  }

  static NodeProto node(String op, String name, List<String> in, String... out) {
    return NodeProto.newBuilder().setOpType(op).setName(name).addAllInput(in).addAllOutput(List.of(out)).build();
  }

  static ModelProto model(GraphProto.Builder g) {
    return ModelProto.newBuilder().setIrVersion(8).setGraph(g)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17)).build();
  }

  static float[] rand(int n, long seed, float scale) {
    Random r = new Random(seed);
    float[] f = new float[n];
    for (int i = 0; i < n; i++) f[i] = (float) r.nextGaussian() * scale;
    return f;
  }


  /** x[1,8] -> MatMul(W) -> Add(B) -> Relu -> Exp -> y, and Relu -> Mul(big) -> z. */
  static ModelProto mlp(float big) {
    GraphProto.Builder g = GraphProto.newBuilder().setName("t")
        .addInput(vi("x", F, 1, 8)).addOutput(vi("y", F, 1, 4)).addOutput(vi("z", F, 1, 4))
        .addInitializer(floats("W", new long[] {8, 4}, rand(32, 1, 0.5f)))
        .addInitializer(floats("B", new long[] {4}, 0.1f, -0.2f, 0.3f, 0.05f))
        .addInitializer(floats("S", new long[] {1}, big))
        .addNode(node("MatMul", "mm", List.of("x", "W"), "h"))
        .addNode(node("Add", "add", List.of("h", "B"), "hb"))
        .addNode(node("Relu", "relu", List.of("hb"), "r"))
        .addNode(node("Exp", "exp", List.of("r"), "y"))
        .addNode(node("Mul", "mul", List.of("r", "S"), "z"));
    return model(g);
  }

  static Map<String, Integer> types(ModelProto m) {
    return ElementTypes.infer(m.getGraph());
  }

  static TensorProto init(ModelProto m, String name) {
    return m.getGraph().getInitializerList().stream().filter(t -> t.getName().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void computeRunsInFp16WeightsAreFp16AndTheModelsTypesStay() {
    ModelProto in = mlp(2f);
    ModelProto copy = in.toBuilder().build();
    PrecisionStage.Result r = PrecisionStage.apply(in, PrecisionStage.Options.of(Precision.FP16));
    assertEquals(copy, in, "the input model is not changed");
    PrecisionTable t = r.table();
    assertEquals("fp16", t.row("mm").precision());
    assertEquals("fp16", t.row("add").precision());
    assertEquals("fp16", t.row("relu").precision());
    assertEquals("fp16", t.row("mul").precision());
    assertEquals("fp32", t.row("exp").precision(), "Exp stays FP32");
    Map<String, Integer> ty = types(r.model());
    assertEquals(H, ty.get("h"));
    assertEquals(H, ty.get("r"));
    assertEquals(H, init(r.model(), "W").getDataType());
    assertEquals(H, init(r.model(), "B").getDataType());
    assertEquals(F, ty.get("y"), "outputs keep their dtype");
    assertEquals(F, ty.get("z"));
    assertEquals(List.of("x"), r.model().getGraph().getInputList().stream().map(ValueInfoProto::getName).toList());

    HostTensor x = HostTensor.ofFloats(new long[] {1, 8}, rand(8, 7, 1f));
    try (OnnxRunner a = new OnnxRunner(in.toByteArray(), "fp32"); OnnxRunner b = new OnnxRunner(r.model().toByteArray(), "fp16")) {
      Map<String, HostTensor> ra = a.run(Map.of("x", x));
      Map<String, HostTensor> rb = b.run(Map.of("x", x));
      for (String o : List.of("y", "z")) {
        for (int i = 0; i < 4; i++) {
          double want = ra.get(o).getDouble(i), got = rb.get(o).getDouble(i);
          assertTrue(Math.abs(want - got) <= 4e-3 * Math.abs(want) + 2e-3, o + "[" + i + "]: " + got + " vs " + want);
        }
        assertTrue(!ra.get(o).contentEquals(rb.get(o)) || o.equals("z"), "FP16 rounding shows in " + o);
      }
    }
  }

  @Test
  void valuesBeyondTheLimitInTheReferenceRunStayFp32() {
    PrecisionStage.Result r = PrecisionStage.apply(mlp(1000f), PrecisionStage.Options.of(Precision.FP16));
    PrecisionTable.Row mul = r.table().row("mul");
    assertEquals("fp32", mul.precision());
    assertTrue(mul.reason().contains("reference run"), mul.reason());
    assertEquals("fp16", r.table().row("relu").precision());
  }

  @Test
  void weightsBeyondFp16RangeStayFp32() {
    PrecisionStage.Result r = PrecisionStage.apply(mlp(1e6f), PrecisionStage.Options.of(Precision.FP16)
        .keepFp32(Set.of()));
    assertEquals("fp32", r.table().row("mul").precision());
    assertEquals(F, init(r.model(), "S").getDataType());
  }

  @Test
  void keepFp32NamesOpsNodesAndValues() {
    PrecisionStage.Result r = PrecisionStage.apply(mlp(2f), PrecisionStage.Options.of(Precision.FP16)
        .keepFp32(Set.of("MatMul", "r")));
    assertEquals("fp32", r.table().row("mm").precision());
    assertEquals("--keep-fp32 MatMul", r.table().row("mm").reason());
    assertEquals("fp32", r.table().row("relu").precision());
    assertEquals("fp16", r.table().row("add").precision());
    // W is used only by the FP32 MatMul: it stays FP32.
    assertEquals(F, init(r.model(), "W").getDataType());
  }

  /**
   * The INT8 interface: a Q/DQ graph (activations and weights quantized, the rest FP32) keeps its
   * Q/DQ arithmetic and scales in FP32; the Conv reads the DQ outputs as they are (FP32: a Cast
   * between a DequantizeLinear and its op stops TensorRT fusing them), and its output is cast
   * to FP16 for the Relu.
   */
  @Test
  void quantizeDequantizeStayFp32AndTheirOutputsAreCastForFp16Compute() {
    byte[] w = new byte[2 * 3 * 3 * 3];
    for (int i = 0; i < w.length; i++) w[i] = (byte) ((i * 37) % 255 - 127);
    GraphProto.Builder g = GraphProto.newBuilder().setName("qdq")
        .addInput(vi("x", F, 1, 3, 6, 6)).addOutput(vi("y", F, 1, 2, 4, 4))
        .addInitializer(floats("xs", new long[0], 0.02f))
        .addInitializer(int8s("xz", new long[0], (byte) 0))
        .addInitializer(int8s("wq", new long[] {2, 3, 3, 3}, w))
        .addInitializer(floats("ws", new long[] {2}, 0.01f, 0.005f))
        .addInitializer(int8s("wz", new long[] {2}, (byte) 0, (byte) 0))
        .addInitializer(floats("b", new long[] {2}, 0.1f, -0.1f))
        .addNode(node("QuantizeLinear", "q", List.of("x", "xs", "xz"), "xq"))
        .addNode(node("DequantizeLinear", "dq", List.of("xq", "xs", "xz"), "xd"))
        .addNode(node("DequantizeLinear", "wdq", List.of("wq", "ws", "wz"), "wd").toBuilder()
            .addAttribute(AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(0)).build())
        .addNode(node("Conv", "conv", List.of("xd", "wd", "b"), "c"))
        .addNode(node("Relu", "relu", List.of("c"), "y"));
    ModelProto in = model(g);
    PrecisionStage.Result r = PrecisionStage.apply(in, PrecisionStage.Options.of(Precision.FP16));
    PrecisionTable t = r.table();
    assertEquals("q/dq", t.row("q").precision());
    assertEquals("q/dq", t.row("dq").precision());
    assertEquals("q/dq", t.row("wdq").precision());
    assertEquals("int8", t.row("conv").precision());
    assertEquals("fp16", t.row("relu").precision());
    Map<String, Integer> ty = types(r.model());
    for (String s : List.of("xs", "ws")) assertEquals(F, init(r.model(), s).getDataType(), s + " stays FP32");
    assertEquals(F, ty.get("xd"));
    assertEquals(F, ty.get("wd"));
    NodeProto conv = r.model().getGraph().getNodeList().stream().filter(n -> n.getName().equals("conv")).findFirst().orElseThrow();
    for (int i = 0; i < 3; i++) assertEquals(F, ty.get(conv.getInput(i)), "Conv input " + i + " is FP32");
    assertEquals(List.of("xd", "wd", "b"), conv.getInputList(), "the Conv reads the DQ outputs directly");
    NodeProto relu = r.model().getGraph().getNodeList().stream().filter(n -> n.getName().equals("relu")).findFirst().orElseThrow();
    NodeProto castC = r.model().getGraph().getNodeList().stream()
        .filter(n -> n.getOutputList().contains(relu.getInput(0))).findFirst().orElseThrow();
    assertEquals("Cast", castC.getOpType());
    assertEquals("c", castC.getInput(0), "the Conv's output is cast for the FP16 Relu");
    assertEquals(F, init(r.model(), "b").getDataType());

    HostTensor x = HostTensor.ofFloats(new long[] {1, 3, 6, 6}, rand(108, 3, 1f));
    try (OnnxRunner a = new OnnxRunner(in.toByteArray(), "fp32"); OnnxRunner b = new OnnxRunner(r.model().toByteArray(), "fp16")) {
      HostTensor ya = a.run(Map.of("x", x)).get("y"), yb = b.run(Map.of("x", x)).get("y");
      for (int i = 0; i < 32; i++) assertEquals(ya.getDouble(i), yb.getDouble(i), 2e-3 + 2e-3 * Math.abs(ya.getDouble(i)));
    }
  }

  @Test
  void castPairsThatChangeNothingAreRemoved() {
    // i (int32) -> Cast(float) -> Add(x) : after the rewrite one Cast int32 -> fp16, not two.
    GraphProto.Builder g = GraphProto.newBuilder().setName("c")
        .addInput(vi("x", F, 4)).addInput(vi("i", TensorProto.DataType.INT32_VALUE, 4)).addOutput(vi("y", F, 4))
        .addNode(node("Cast", "cast", List.of("i"), "fi").toBuilder()
            .addAttribute(AttributeProto.newBuilder().setName("to").setType(AttributeProto.AttributeType.INT).setI(F)).build())
        .addNode(node("Relu", "relu", List.of("x"), "rx"))
        .addNode(node("Add", "add", List.of("rx", "fi"), "y"));
    PrecisionStage.Result r = PrecisionStage.apply(model(g), PrecisionStage.Options.of(Precision.FP16));
    List<NodeProto> casts = r.model().getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("Cast")).toList();
    // x -> fp16, i -> fp16 (the model's own Cast, retargeted), y -> fp32
    assertEquals(3, casts.size(), casts.toString());
    NodeProto fromInt = casts.stream().filter(n -> n.getInput(0).equals("i")).findFirst().orElseThrow();
    assertEquals(H, fromInt.getAttribute(0).getI());
    try (OnnxRunner b = new OnnxRunner(r.model().toByteArray(), "fp16")) {
      HostTensor y = b.run(Map.of("x", HostTensor.ofFloats(new long[] {4}, 1, -2, 3.5f, 0),
          "i", HostTensor.ofInts(new long[] {4}, 1, 2, 3, 4))).get("y");
      assertEquals(List.of(2.0, 2.0, 6.5, 4.0), List.of(y.getDouble(0), y.getDouble(1), y.getDouble(2), y.getDouble(3)));
    }
  }

  /**
   * What the CPU estimate rests on: the emulation rounds every FP16 value of the rewritten graph,
   * where ONNX Runtime running the FP16 model itself does not (it drops the casts between two ops
   * it lacks FP16 kernels for). 1 + 2^-11 + 2^-11 is 1 + 2^-10 in FP32, but 1 when the
   * intermediate sum is rounded to FP16 (a tie, to even).
   */
  @Test
  void theEmulationRoundsEveryIntermediateFp16Value() {
    float e = 0x1p-11f;
    for (String op : List.of("Add", "Mul")) {
      float c = op.equals("Add") ? e : 1 + e;
      GraphProto.Builder g = GraphProto.newBuilder().setName("r")
          .addInput(vi("x", F, 1)).addOutput(vi("y", F, 1))
          .addInitializer(floats("c", new long[] {1}, c))
          .addNode(node(op, "a1", List.of("x", "c"), "t"))
          .addNode(node("Add", "a2", List.of("t", "c"), "y"));
      ModelProto m = model(g);
      PrecisionStage.Result r = PrecisionStage.apply(m, PrecisionStage.Options.of(Precision.FP16));
      try (OnnxRunner b = new OnnxRunner(Fp16Emulation.of(r.model()).toByteArray(), "fp16 emulated")) {
        float x = 1f;
        float t = Half.round(op.equals("Add") ? x + Half.round(c) : x * Half.round(c));
        float want = Half.round(t + Half.round(c));
        double got = b.run(Map.of("x", HostTensor.ofFloats(new long[] {1}, x))).get("y").getDouble(0);
        assertEquals(want, got, 0.0, op + ": FP16 rounding of the intermediate value");
      }
    }
  }

  @Test
  void halfRoundsToNearestEven() {
    assertEquals(1.0f, Half.round(1.0f + 0x1p-11f), "a tie goes to the even neighbour");
    assertEquals(1.0f + 0x1p-9f, Half.round(1.0f + 0x1p-10f + 0x1p-11f), "a tie goes to the even neighbour");
    assertEquals(65504f, Half.round(65519f));
    assertEquals(Float.POSITIVE_INFINITY, Half.round(65520f));
    assertEquals(0x1p-24f, Half.round(0x1p-24f));
    assertEquals(0f, Half.round(0x1p-26f));
    assertEquals(-2.5f, Half.round(-2.5f));
  }
}
