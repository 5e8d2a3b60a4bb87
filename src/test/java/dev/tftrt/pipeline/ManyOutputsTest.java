package dev.tftrt.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.convert.TfBuilder;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.segment.Segment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.GraphOperation;
import org.tensorflow.Output;
import org.tensorflow.proto.DataType;

/**
 * Segments whose boundary crosses an output of index 64 or more (a Split or Unpack with many
 * pieces read outside the engine): every such output is on the boundary, and the converted
 * model runs and matches the original.
 */
class ManyOutputsTest {
  private static final DataType F32 = DataType.DT_FLOAT;
  @TempDir Path tmp;

  /** x -> Neg -> Exp -> op (num pieces along axis 0): three ops that do work, one engine. */
  private static GraphOperation pieces(TfBuilder b, String op, int num) {
    Output<?> x = b.placeholder("x", F32, num, 3);
    Output<?> h = b.op("Neg").in(x).attr("T", F32).out();
    h = b.op("Exp").in(h).attr("T", F32).out();
    if (op.equals("Split")) {
      return b.op("Split").name("split").in(b.scalarInt(0), h).attr("num_split", num).attr("T", F32).build();
    }
    return b.op("Unpack").name("unpack").in(h).attr("num", num).attr("axis", 0).attr("T", F32).build();
  }

  /** Digamma has no converter: each node reading a piece stays in TensorFlow. */
  private static Output<?> outside(TfBuilder b, Output<?> piece) {
    return b.op("Digamma").in(piece).attr("T", F32).out();
  }

  private ConvertJob.Report convert(TfBuilder b, String name) throws Exception {
    Path model = tmp.resolve(name + ".pb");
    Files.write(model, b.graphDef().toByteArray());
    // Segmented as for TensorRT: on the CPU a split on fixed shapes is too small to pay for a call.
    ConvertJob.Report r = ConvertJob.run(ConvertJob.builder(LoadOptions.of(model), tmp.resolve(name))
        .segments(dev.tftrt.segment.Segmenter.Options.defaults().withTarget(dev.tftrt.segment.Segmenter.Target.GPU)).build());
    assertNotNull(r.verification());
    assertTrue(r.verification().skippedBecause() == null && r.verification().passed(),
        "the converted model runs and matches the original");
    return r;
  }

  @Test
  void everyOneOfAHundredSplitOutputsReadOutsideIsOnTheBoundary() throws Exception {
    try (TfBuilder b = new TfBuilder()) {
      GraphOperation split = pieces(b, "Split", 100);
      List<Output<?>> read = new ArrayList<>();
      for (int i = 0; i < 100; i++) read.add(outside(b, split.output(i)));
      b.op("AddN").name("sum").inList(read.toArray(new Output<?>[0])).attr("N", 100).attr("T", F32).build();
      ConvertJob.Report r = convert(b, "split100");
      assertEquals(1, r.engines().size());
      Segment s = r.engines().get(0).segment();
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < 100; i++) expected.add("split:" + i);
      assertEquals(expected, s.outputs());
    }
  }

  @Test
  void onlyOutputSeventyOfAnUnpackOfEightyIsRead() throws Exception {
    try (TfBuilder b = new TfBuilder()) {
      GraphOperation unpack = pieces(b, "Unpack", 80);
      b.op("Digamma").name("out").in(unpack.output(70)).attr("T", F32).build();
      ConvertJob.Report r = convert(b, "unpack80");
      assertEquals(1, r.engines().size());
      assertEquals(List.of("unpack:70"), r.engines().get(0).segment().outputs());
    }
  }
}
