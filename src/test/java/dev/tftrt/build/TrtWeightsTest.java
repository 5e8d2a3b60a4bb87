package dev.tftrt.build;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import dev.tftrt.convert.OnnxCheck;
import dev.tftrt.convert.OnnxExporter;
import dev.tftrt.convert.TfBuilder;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.convert.onnx.NodeProto;
import dev.tftrt.convert.onnx.TensorProto;
import dev.tftrt.convert.ops.StandardConverters;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Output;
import org.tensorflow.proto.DataType;

/**
 * TensorRT takes a DequantizeLinear only on int8 with zero point 0: a converted model's uint8
 * weights (TensorFlow's quint8) are built from their float values instead, the same numbers.
 */
class TrtWeightsTest {
  @TempDir Path tmp;

  /** Conv2D on MIN_FIRST quint8 weights and one on SCALED qint8 ones, as the converter writes them. */
  private static byte[] converted() {
    Random r = new Random(3);
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", DataType.DT_FLOAT, 1, 6, 6, 4);
    Output<?> y = x;
    int i = 0;
    for (DataType t : new DataType[] {DataType.DT_QUINT8, DataType.DT_QINT8}) {
      byte[] levels = new byte[3 * 3 * 4 * 4];
      r.nextBytes(levels);
      Output<?> q = b.quantizedConst("q" + i, t, new long[] {3, 3, 4, 4}, levels);
      Output<?> w = b.op("Dequantize").name("w" + i).in(q, b.floats(new long[0], -0.4f), b.floats(new long[0], 0.6f))
          .attr("T", t).attr("mode", t == DataType.DT_QUINT8 ? "MIN_FIRST" : "SCALED").out();
      y = b.op("Conv2D").name("conv" + i++).in(y, w).attr("T", DataType.DT_FLOAT).attr("strides", new long[] {1, 1, 1, 1})
          .attr("padding", "SAME").out();
    }
    return new OnnxExporter(StandardConverters.registry()).export(b.graphDef(), List.of("x"), List.of("conv1")).toByteArray();
  }

  private static List<String> dequantized(byte[] onnx) throws Exception {
    ModelProto m = ModelProto.parseFrom(onnx);
    Map<String, Integer> types = new java.util.HashMap<>();
    for (TensorProto t : m.getGraph().getInitializerList()) types.put(t.getName(), t.getDataType());
    List<String> r = new ArrayList<>();
    for (NodeProto n : m.getGraph().getNodeList()) {
      if (n.getOpType().equals("DequantizeLinear")) r.add(types.get(n.getInput(0)) == TensorProto.DataType.UINT8_VALUE ? "uint8" : "int8");
    }
    return r;
  }

  private static float[] run(byte[] onnx, float[] x) throws Exception {
    try (OrtSession s = OnnxCheck.env().createSession(onnx);
         OnnxTensor t = OnnxTensor.createTensor(OnnxCheck.env(), FloatBuffer.wrap(x), new long[] {1, 6, 6, 4});
         OrtSession.Result res = s.run(Map.of("x:0", t))) {
      return ((OnnxTensor) res.get(0)).getFloatBuffer().array();
    }
  }

  @Test
  void uint8WeightsAreBuiltFromTheirFloatsAndInt8OnesStay() throws Exception {
    byte[] onnx = converted();
    assertEquals(List.of("uint8", "int8"), dequantized(onnx));
    byte[] forTrt = TrtWeights.forTensorRt(onnx);
    assertEquals(List.of("int8"), dequantized(forTrt), "the symmetric int8 weight stays for TensorRT to fuse");
    float[] x = new float[6 * 6 * 4];
    Random r = new Random(5);
    for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
    assertArrayEquals(run(onnx, x), run(forTrt, x), 1e-5f); // the same weights; the conv sums may run in another order
    assertSame(forTrt, TrtWeights.forTensorRt(forTrt), "nothing left to change: the same bytes");
  }

  @Test
  void theProviderHandsTensorRtTheMaterialisedWeights() throws Exception {
    List<byte[]> seen = new ArrayList<>();
    EngineProvider.Build fake = (name, onnx, profile, options, gpu, progress) -> {
      seen.add(onnx);
      return new EngineBuilder.Built(new byte[] {1}, null, 1);
    };
    byte[] onnx = converted();
    EngineProvider p = new EngineProvider(EngineCacheTest.H200, BuildOptions.defaults(), List.of(new EngineCache(tmp)), fake, null);
    EngineProvider.Provided built = p.provide(new EngineProvider.Request("TftrtEngine_0", onnx, "fp32", Map.of()), true);
    assertEquals(List.of("int8"), dequantized(seen.get(0)));
    assertEquals(EngineKey.of(onnx, "fp32", EngineCacheTest.H200, p.profile(
        new EngineProvider.Request("TftrtEngine_0", onnx, "fp32", Map.of())), BuildOptions.defaults()), built.key(),
        "the engine is keyed by the stored ONNX");
  }
}
