package dev.tftrt.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.tftrt.convert.Rand;
import dev.tftrt.convert.TfBuilder;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.segment.Segmenter;
import dev.tftrt.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.GraphOperation;
import org.tensorflow.Output;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Whole conversions of graphs whose ops used to stay in TensorFlow or break a conversion:
 * training-mode batch norm, TensorFlow's 8-bit ops, computed deconvolution sizes.
 */
class ConverterClassesTest {
  private static final DataType F32 = DataType.DT_FLOAT;
  private static final DataType I32 = DataType.DT_INT32;
  @TempDir Path tmp;
  private final Rand rand = new Rand(8);

  private static ConvertJob.Report convert(Path model, Path out, Map<String, long[]> shapes) {
    // Segmented as for TensorRT: on the CPU these small graphs on fixed shapes would not pay for a call.
    return ConvertJob.run(ConvertJob.builder(LoadOptions.of(model), out).shapes(shapes)
        .segments(dev.tftrt.segment.Segmenter.Options.defaults().withTarget(dev.tftrt.segment.Segmenter.Target.GPU)).build());
  }

  private Path write(TfBuilder b, String name) throws Exception {
    Path p = tmp.resolve(name + ".pb");
    Files.write(p, b.graphDef().toByteArray());
    return p;
  }


  private Output<?> scalar(TfBuilder b, float v) {
    return b.floats(new long[0], v);
  }

  /**
   * The shape of graph_transforms' quantize_nodes output: float conv → QuantizeV2 (ranges from
   * Min/Max of the tensor) → QuantizedConv2D → RequantizationRange → Requantize → QuantizedRelu →
   * QuantizedReshape → Dequantize → float matmul and softmax. The 8-bit ops stay in TensorFlow
   * with their reason; the float ends convert; the result matches.
   */
  @Test
  void tensorFlowsEightBitOpsStayInTensorFlowAndTheFloatPartsConvert() throws Exception {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 8, 8, 3);
    Output<?> c = b.op("Conv2D").in(x, b.constant(rand.floats(3, 3, 3, 4))).attr("T", F32)
        .attr("strides", new long[] {1, 1, 1, 1}).attr("padding", "SAME").out();
    c = b.op("BiasAdd").in(c, b.constant(rand.floats(4))).attr("T", F32).out();
    c = b.op("Relu").name("float_relu").in(c).attr("T", F32).out();
    Output<?> flat = b.op("Reshape").in(c, b.ints(-1)).attr("T", F32).out();
    Output<?> lo = b.op("Min").in(flat, b.ints(0)).attr("T", F32).out();
    Output<?> hi = b.op("Max").in(flat, b.ints(0)).attr("T", F32).out();
    GraphOperation q = b.op("QuantizeV2").name("quantize").in(c, lo, hi).attr("T", DataType.DT_QUINT8)
        .attr("mode", "MIN_FIRST").build();
    byte[] w = new byte[3 * 3 * 4 * 5];
    for (int i = 0; i < w.length; i++) w[i] = (byte) (i * 37 + 11);
    Output<?> wq = b.quantizedConst("wq", DataType.DT_QUINT8, new long[] {3, 3, 4, 5}, w);
    GraphOperation conv = b.op("QuantizedConv2D").name("qconv").in(q.output(0), wq, q.output(1), q.output(2),
        scalar(b, -0.5f), scalar(b, 0.6f)).attr("Tinput", DataType.DT_QUINT8).attr("Tfilter", DataType.DT_QUINT8)
        .attr("out_type", DataType.DT_QINT32).attr("strides", new long[] {1, 1, 1, 1}).attr("padding", "SAME").build();
    GraphOperation range = b.op("RequantizationRange").name("qrange").in(conv.output(0), conv.output(1), conv.output(2))
        .attr("Tinput", DataType.DT_QINT32).build();
    GraphOperation rq = b.op("Requantize").name("requantize").in(conv.output(0), conv.output(1), conv.output(2),
        range.output(0), range.output(1)).attr("Tinput", DataType.DT_QINT32).attr("out_type", DataType.DT_QUINT8).build();
    GraphOperation relu = b.op("QuantizedRelu").name("qrelu").in(rq.output(0), rq.output(1), rq.output(2))
        .attr("Tinput", DataType.DT_QUINT8).attr("out_type", DataType.DT_QUINT8).build();
    GraphOperation reshape = b.op("QuantizedReshape").name("qreshape").in(relu.output(0), b.ints(-1, 8 * 8 * 5),
        relu.output(1), relu.output(2)).attr("T", DataType.DT_QUINT8).build();
    Output<?> f = b.op("Dequantize").name("dequantize").in(reshape.output(0), reshape.output(1), reshape.output(2))
        .attr("T", DataType.DT_QUINT8).attr("mode", "MIN_FIRST").out();
    Output<?> m = b.op("MatMul").in(f, b.constant(rand.floats(8 * 8 * 5, 10))).attr("T", F32).out();
    m = b.op("BiasAdd").in(m, b.constant(rand.floats(10))).attr("T", F32).out();
    b.op("Softmax").name("probs").in(m).attr("T", F32).build();

    ConvertJob.Report r = convert(write(b, "eight_bit"), tmp.resolve("out"), Map.of("x", new long[] {2, 8, 8, 3}));
    assertTrue(r.verification().passed(), r.verification().diffs().toString());
    assertEquals(2, r.engines().size(), "the float conv and the float matmul each make an engine");
    Map<String, List<String>> left = r.plan().unsupportedByReason();
    for (String op : List.of("QuantizeV2", "QuantizedConv2D", "RequantizationRange", "Requantize", "QuantizedRelu", "QuantizedReshape")) {
      assertTrue(left.containsKey(op + ": " + op + " is one of TensorFlow's 8-bit ops, which carry value ranges as extra"
          + " tensors and quantized types ONNX does not have, so it stays in TensorFlow."), op + " in " + left.keySet());
    }
    assertTrue(left.containsKey("Dequantize: its input qreshape:0 is computed (by TensorFlow's 8-bit ops, which stay in"
        + " TensorFlow); only dequantized constant weights convert."), left.keySet().toString());
    int[] heavy = r.plan().computeHeavyInEngines();
    assertEquals(2, heavy[0], "the float Conv2D and MatMul are in engines");
  }

  /** The shared graph_transforms graph (uint8 weights + Dequantize) converts whole and matches. */
  @Test
  void quantizedMobilenetConvertsWithEveryConvolutionInAnEngine() {
    Path model = TestModels.shared("mobilenet-v1-025-128/quantized_graph.pb");
    ConvertJob.Report r = convert(model, tmp.resolve("mq"), Map.of());
    assertTrue(r.verification().passed(), r.verification().diffs().toString());
    int[] heavy = r.plan().computeHeavyInEngines();
    assertEquals(heavy[1], heavy[0], "every conv and matmul inside an engine");
    assertEquals(0, r.plan().nodesLeftInTensorFlow());
  }

  /**
   * A Keras-style decoder with an unknown batch: each Conv2DTranspose packs its input_sizes from
   * Shape(x)[0]. The decoder converts into one engine and matches at batch 1 (the check) and 3.
   */
  @Test
  void decoderWithDynamicBatchConvertsAndMatchesAtTwoBatchSizes() throws Exception {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("z", F32, -1, 4, 4, 8);
    long[] depth = {8, 6, 3};
    for (int i = 0; i < 2; i++) {
      Output<?> shape = b.op("Shape").in(x).attr("T", F32).attr("out_type", I32).out();
      Output<?> batch = b.op("StridedSlice").in(shape, b.ints(0), b.ints(1), b.ints(1)).attr("T", I32)
          .attr("Index", I32).attr("shrink_axis_mask", 1L).out();
      int hw = 8 << i;
      Output<?> sizes = b.op("Pack").inList(batch, b.scalarInt(hw), b.scalarInt(hw), b.scalarInt((int) depth[i + 1]))
          .attr("T", I32).attr("N", 4L).out();
      x = b.op("Conv2DBackpropInput").in(sizes, b.constant(rand.floats(3, 3, depth[i + 1], depth[i])), x).attr("T", F32)
          .attr("strides", new long[] {1, 2, 2, 1}).attr("padding", "SAME").out();
      x = b.op("BiasAdd").in(x, b.constant(rand.floats(depth[i + 1]))).attr("T", F32).out();
      x = b.op(i == 0 ? "Relu" : "Sigmoid").name(i == 0 ? "relu" : "image").in(x).attr("T", F32).out();
    }
    Path model = write(b, "decoder");
    Path out = tmp.resolve("decoder_out");
    ConvertJob.Report r = convert(model, out, Map.of());
    assertTrue(r.verification().passed(), r.verification().diffs().toString());
    assertEquals(1, r.engines().size());
    assertEquals(0, r.plan().nodesLeftInTensorFlow(), r.plan().unsupportedByReason().toString());
    int[] heavy = r.plan().computeHeavyInEngines();
    assertEquals(2, heavy[0]);
    try (dev.tftrt.runtime.ModelRunner original = dev.tftrt.runtime.Models.open(LoadOptions.of(model));
        dev.tftrt.runtime.ModelRunner converted = dev.tftrt.runtime.Models.open(LoadOptions.of(out))) {
      dev.tftrt.runtime.Verification.Report at3 = dev.tftrt.runtime.Verification.run(original, converted, null,
          Map.of("z", new long[] {3, 4, 4, 8}), 5, ConvertJob.RTOL, ConvertJob.ATOL);
      assertTrue(at3.passed(), at3.diffs().toString());
      assertEquals(3, at3.feeds().values().iterator().next().shape()[0]);
    }
  }

  /**
   * openpose-mnv2-small: 39 FusedBatchNorm without is_training (TensorFlow's default: true, batch
   * statistics) used to stay in TensorFlow and split the net; now every convolution is in one
   * engine and the heatmaps match.
   */
  @Test
  void openposeWithTrainingModeBatchNormConvertsWhole() {
    Path model = TestModels.shared("openpose-mnv2-small/graph_opt.pb");
    ConvertJob.Report r = convert(model, tmp.resolve("openpose"), Map.of("image", new long[] {1, 368, 432, 3}));
    assertTrue(r.verification().passed(), r.verification().diffs().toString());
    assertEquals(1, r.engines().size());
    assertEquals(0, r.plan().nodesLeftInTensorFlow(), r.plan().unsupportedByReason().toString());
    int[] heavy = r.plan().computeHeavyInEngines();
    assertEquals(159, heavy[1]);
    assertEquals(159, heavy[0], "every Conv2D and DepthwiseConv2dNative inside the engine");
  }
}
