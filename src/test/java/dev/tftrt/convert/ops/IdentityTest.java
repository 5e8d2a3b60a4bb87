package dev.tftrt.convert.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tftrt.convert.ConverterTest;
import dev.tftrt.convert.Covers;
import dev.tftrt.convert.OnnxCheck;
import dev.tftrt.convert.TfBuilder;
import org.junit.jupiter.api.Test;
import org.tensorflow.GraphOperation;
import org.tensorflow.Output;

class IdentityTest extends ConverterTest {
  @Test
  @Covers({"Const", "Identity", "Snapshot", "StopGradient", "PreventGradient", "CheckNumerics", "IdentityN"})
  void passThroughOpsCostNoNodes() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 3);
    Output<?> c = b.op("Identity").in(b.floats(s(3), 1, 2, 3)).attr("T", F32).out();
    Output<?> y = b.op("Identity").in(x).attr("T", F32).out();
    y = b.op("Snapshot").in(y).attr("T", F32).out();
    y = b.op("StopGradient").in(y).attr("T", F32).out();
    y = b.op("PreventGradient").in(y).attr("T", F32).out();
    y = b.op("CheckNumerics").in(y).attr("T", F32).attr("message", "m").out();
    GraphOperation n = b.op("IdentityN").inList(y, c).attr("T", new org.tensorflow.proto.DataType[] {F32, F32}).build();
    b.op("AddV2").name("out").in(n.output(0), n.output(1)).attr("T", F32).build();
    OnnxCheck check = OnnxCheck.of(b).feed("x", rand.floats(2, 3)).outputs("out").run();
    assertEquals(1, check.model().getGraph().getNodeCount());
    assertEquals(1, check.model().getGraph().getInitializerCount());
  }
}
