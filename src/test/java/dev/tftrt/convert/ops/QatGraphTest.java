package dev.tftrt.convert.ops;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.convert.OnnxExporter;
import dev.tftrt.convert.TfBuilder;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.runtime.OnnxRunner;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.testing.TfGraphs;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tensorflow.Output;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;

/**
 * A quantization-aware-trained graph shaped like DeepLab's (uint8 image, x * 2/255 - 1, a
 * FakeQuant on [-1, 1], conv + ReLU6 blocks each followed by a FakeQuant) converts to Q/DQ that
 * agrees with TensorFlow on random input as well as on real-looking input.
 */
class QatGraphTest {
  static final int SIDE = 16;

  static GraphDef deeplabStyle(long seed) {
    Random r = new Random(seed);
    try (TfBuilder b = new TfBuilder()) {
      Output<?> img = b.placeholder("ImageTensor", DataType.DT_UINT8, 1, SIDE, SIDE, 3);
      Output<?> x = b.op("Cast").in(img).attr("SrcT", DataType.DT_UINT8).attr("DstT", DataType.DT_FLOAT).out();
      x = b.op("Mul").in(x, b.floats(new long[0], 2f / 255f)).out();
      x = b.op("Sub").in(x, b.floats(new long[0], 1f)).out();
      x = fq(b, x, -1f, 1f);
      int cin = 3;
      for (int layer = 0; layer < 6; layer++) {
        int cout = 8;
        float[] w = new float[3 * 3 * cin * cout];
        for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextGaussian() * Math.sqrt(2.0 / (9 * cin)));
        Output<?> filter = b.floats(new long[] {3, 3, cin, cout}, w); // weight FakeQuants fold to constants before export
        x = b.op("Conv2D").in(x, filter).attr("strides", new long[] {1, 1, 1, 1}).attr("padding", "SAME").out();
        float[] bias = new float[cout];
        for (int i = 0; i < cout; i++) bias[i] = (float) (r.nextGaussian() * 0.1);
        x = b.op("BiasAdd").in(x, b.floats(new long[] {cout}, bias)).out();
        x = b.op("Relu6").in(x).out();
        x = fq(b, x, 0f, 6f);
        cin = cout;
      }
      b.op("Identity").name("logits").in(x).build();
      return b.graphDef();
    }
  }

  static Output<?> fq(TfBuilder b, Output<?> x, float lo, float hi) {
    return b.op("FakeQuantWithMinMaxVars").in(x, b.floats(new long[0], lo), b.floats(new long[0], hi))
        .attr("num_bits", 8L).attr("narrow_range", false).out();
  }

  static HostTensor image(Random r, int bound) {
    byte[] px = new byte[SIDE * SIDE * 3];
    for (int i = 0; i < px.length; i++) px[i] = (byte) r.nextInt(bound);
    return HostTensor.of(DataType.DT_UINT8, new long[] {1, SIDE, SIDE, 3}, ByteBuffer.wrap(px));
  }

  static double cosine(HostTensor a, HostTensor b) {
    double ab = 0, aa = 0, bb = 0;
    for (long i = 0; i < a.numElements(); i++) {
      ab += a.getDouble(i) * b.getDouble(i);
      aa += a.getDouble(i) * a.getDouble(i);
      bb += b.getDouble(i) * b.getDouble(i);
    }
    return ab / Math.sqrt(aa * bb);
  }

  /**
   * Op by op on every uint8 pixel: DeepLab's x * 2/255 - 1 into a [-1, 1] FakeQuant puts each
   * pixel on an exact tie (x / scale = k - 127.5). TensorFlow rounds ties up, ONNX to even: the
   * documented difference, at most one level, and only there.
   */
  @Test
  void firstFakeQuantDiffersFromTensorFlowOnlyAtTiesByOneLevel() {
    GraphDef gd;
    try (TfBuilder b = new TfBuilder()) {
      Output<?> img = b.placeholder("px", DataType.DT_UINT8, 256);
      Output<?> x = b.op("Cast").in(img).attr("SrcT", DataType.DT_UINT8).attr("DstT", DataType.DT_FLOAT).out();
      x = b.op("Mul").in(x, b.floats(new long[0], 2f / 255f)).out();
      x = b.op("Sub").name("pre").in(x, b.floats(new long[0], 1f)).out();
      b.op("Identity").name("fq").in(fq(b, x, -1f, 1f)).build();
      gd = b.graphDef();
    }
    byte[] px = new byte[256];
    for (int i = 0; i < 256; i++) px[i] = (byte) i;
    HostTensor in = HostTensor.of(DataType.DT_UINT8, new long[] {256}, ByteBuffer.wrap(px));
    Map<String, HostTensor> tf = TfGraphs.runGraph(gd, Map.of("px:0", in), List.of("fq:0", "pre:0"));
    ModelProto onnx = new OnnxExporter(dev.tftrt.convert.ops.StandardConverters.registry()).export(gd, List.of("px:0"), List.of("fq:0"));
    HostTensor ox;
    try (OnnxRunner ort = new OnnxRunner(onnx.toByteArray(), "fq")) {
      ox = ort.run(Map.of("px:0", in)).get("fq:0");
    }
    float scale = Quantization.nudge(-1f, 1f, false)[0];
    int differ = 0;
    for (int i = 0; i < 256; i++) {
      double d = Math.abs(tf.get("fq:0").getDouble(i) - ox.getDouble(i));
      double t = tf.get("pre:0").getDouble(i) / scale; // where the level falls
      boolean tie = Math.abs(t - Math.floor(t) - 0.5) < 1e-3;
      if (d > 1e-6) {
        differ++;
        assertTrue(tie, "pixel " + i + " differs but is no tie (" + t + ")");
        assertTrue(d <= scale * 1.0001, "pixel " + i + " differs by " + d / scale + " levels");
      }
    }
    System.out.println("QAT first FakeQuant: " + differ + " of 256 pixel values one level apart (ties)");
    assertTrue(differ <= 128, differ + " pixel values differ: more than the ties rounding to even can explain");
  }

  @Test
  void randomAndPhotoLikeInputsAgreeWithTensorFlow() {
    GraphDef gd = deeplabStyle(1);
    ModelProto onnx = new OnnxExporter(dev.tftrt.convert.ops.StandardConverters.registry()).export(gd, List.of("ImageTensor:0"), List.of("logits:0"));
    try (OnnxRunner ort = new OnnxRunner(onnx.toByteArray(), "qat")) {
      Random r = new Random(9);
      for (int bound : new int[] {10, 256}) {
        HostTensor in = image(r, bound);
        HostTensor tf = TfGraphs.runGraph(gd, Map.of("ImageTensor:0", in), List.of("logits:0")).get("logits:0");
        HostTensor ox = ort.run(Map.of("ImageTensor:0", in)).get("logits:0");
        double cos = cosine(tf, ox);
        System.out.println("QAT deeplab-style, pixels in [0, " + bound + "): cosine " + cos);
        assertTrue(cos > 0.999, "cosine " + cos + " on pixels in [0, " + bound + ")");
      }
    }
  }
}
