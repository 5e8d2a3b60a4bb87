package dev.tftrt.convert.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tftrt.convert.ConverterTest;
import dev.tftrt.convert.Covers;
import dev.tftrt.convert.OnnxCheck;
import dev.tftrt.convert.TfBuilder;
import dev.tftrt.tensor.HostTensor;
import org.junit.jupiter.api.Test;
import org.tensorflow.Output;

class MiscOpsTest extends ConverterTest {
  @Test
  @Covers({"ClipByValue", "Cumsum", "Einsum"})
  void clipCumsumEinsum() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 4);
    b.op("ClipByValue").name("clip").in(x, b.constant(HostTensor.ofFloats(s(), -0.5f)),
        b.constant(HostTensor.ofFloats(s(), 0.7f))).attr("T", F32).build();
    b.op("ClipByValue").name("clipv").in(b.placeholder("z", F32, 3, 4), b.constant(rand.range(-1, 0, 3, 4)),
        b.constant(rand.range(0, 1, 3, 4)))
        .attr("T", F32).build();
    for (int ex = 0; ex < 2; ex++) {
      for (int rev = 0; rev < 2; rev++) {
        b.op("Cumsum").name("cs" + ex + rev).in(x, b.scalarInt(1)).attr("T", F32).attr("Tidx", I32)
            .attr("exclusive", ex == 1).attr("reverse", rev == 1).build();
      }
    }
    b.op("Einsum").name("ein").inList(x, b.constant(rand.floats(4, 3))).attr("T", F32).attr("N", 2)
        .attr("equation", "bi,ij->bj").build();
    OnnxCheck.of(b).feed("x", rand.floats(3, 4)).feed("z", rand.floats(3, 4)).outputs("clip", "clipv", "cs00", "cs01", "cs10", "cs11", "ein")
        .tol(1e-5, 1e-5).run();
  }

  @Test
  @Covers({"SpaceToDepth", "DepthToSpace", "LRN", "TopKV2"})
  void layoutOps() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 4, 6, 8);
    b.op("SpaceToDepth").name("s2d").in(x).attr("T", F32).attr("block_size", 2).build();
    b.op("DepthToSpace").name("d2s").in(x).attr("T", F32).attr("block_size", 2).build();
    b.op("LRN").name("lrn").in(x).attr("T", F32).attr("depth_radius", 2).attr("bias", 1.5f)
        .attr("alpha", 0.3f).attr("beta", 0.75f).build();
    b.op("TopKV2").name("topk").in(x, b.scalarInt(3)).attr("T", F32).attr("sorted", true).build();
    OnnxCheck.of(b).feed("x", rand.floats(2, 4, 6, 8)).outputs("s2d", "d2s", "lrn", "topk:0", "topk:1")
        .tol(1e-5, 1e-5).run();
    b.op("TopKV2").name("unsorted").in(x, b.scalarInt(3)).attr("T", F32).attr("sorted", false).build();
    assertEquals("sorted=false is not supported.", OnnxCheck.validate(b, "unsorted").orElseThrow());
  }
}
