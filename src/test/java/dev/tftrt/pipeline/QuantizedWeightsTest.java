package dev.tftrt.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.convert.TfBuilder;
import dev.tftrt.convert.onnx.TensorProto;
import dev.tftrt.model.LoadOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Output;
import org.tensorflow.proto.DataType;

/**
 * A frozen graph whose conv filters are 8-bit behind Dequantize (graph_transforms'
 * quantize_weights) converts with its filters still 8-bit: the ONNX holds them as uint8 and the
 * folder is no larger than the frozen graph, and the converted model matches TensorFlow.
 */
class QuantizedWeightsTest {
  private static final DataType F32 = DataType.DT_FLOAT;
  @TempDir Path tmp;

  private static long size(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).mapToLong(p -> {
        try {
          return Files.size(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }).sum();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void dequantizedFiltersStay8BitThroughThePipeline() throws Exception {
    Random r = new Random(11);
    Path model = tmp.resolve("quantized.pb");
    try (TfBuilder b = new TfBuilder()) {
      Output<?> y = b.placeholder("x", F32, 1, 16, 16, 32);
      String[] modes = {"MIN_FIRST", "MIN_COMBINED", "MIN_FIRST"};
      for (int i = 0; i < modes.length; i++) {
        boolean depthwise = i == 1;
        long[] shape = depthwise ? new long[] {3, 3, 32, 1} : new long[] {3, 3, 32, 32};
        byte[] levels = new byte[(int) (shape[0] * shape[1] * shape[2] * shape[3])];
        r.nextBytes(levels);
        Output<?> q = b.quantizedConst("w" + i + "_quantized", DataType.DT_QUINT8, shape, levels);
        // scaled to keep activations of order one over three layers
        Output<?> w = b.op("Dequantize").name("w" + i).in(q, b.floats(new long[0], -0.07f), b.floats(new long[0], 0.06f))
            .attr("T", DataType.DT_QUINT8).attr("mode", modes[i]).out();
        y = b.op(depthwise ? "DepthwiseConv2dNative" : "Conv2D").name("conv" + i).in(y, w).attr("T", F32)
            .attr("strides", new long[] {1, 1, 1, 1}).attr("padding", "SAME").out();
        y = b.op("Relu6").in(y).attr("T", F32).out();
      }
      b.op("Identity").name("out").in(y).attr("T", F32).build();
      Files.write(model, b.graphDef().toByteArray());
    }
    Path out = tmp.resolve("converted");
    ConvertJob.Report rep = ConvertJob.run(ConvertJob.Options.of(LoadOptions.of(model), out));
    assertNotNull(rep.verification());
    assertTrue(rep.verification().skippedBecause() == null && rep.verification().passed(),
        "the converted model matches the original");
    assertEquals(1, rep.engines().size());
    List<Integer> weightTypes = new ArrayList<>();
    for (TensorProto t : rep.engines().get(0).onnx().getGraph().getInitializerList()) {
      if (t.getDimsCount() == 4) weightTypes.add(t.getDataType());
    }
    assertEquals(List.of(TensorProto.DataType.UINT8_VALUE, TensorProto.DataType.UINT8_VALUE, TensorProto.DataType.UINT8_VALUE),
        weightTypes, "the three filters stay 8-bit (a folded Dequantize would leave float32 ones)");
    long frozen = Files.size(model);
    long folder = size(out);
    assertTrue(folder < frozen + (16 << 10), "the folder is " + folder + " bytes for a frozen graph of " + frozen);
  }
}
