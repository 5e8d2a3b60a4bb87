package dev.tftrt.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.segment.CpuLoopRuleTest;
import dev.tftrt.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * Issue 9: TensorFlow's inference forgets a TF1 loop variable's shape at its Enter, so a loop's
 * Exit and everything after it are unknown: the LSTM's dense layer after its loop looked like
 * a batch of any size. {@link TensorInfoTable} proves a variable keeps its entry shape (by
 * induction over iterations) and uses it; a variable whose shape changes stays unknown.
 */
class LoopShapesTest {
  @Test
  void aLoopVariableThatKeepsItsShapeIsKnownInsideAndAfterTheLoop() {
    TensorInfoTable t = TensorInfoTable.of(CpuLoopRuleTest.loop(4, 0, new long[] {1, 4}));
    for (String n : new String[] {"merge", "switch:1", "body", "b3", "next", "exit", "a2"}) {
      assertArrayEquals(new long[] {1, 4}, t.get(n).dims(), n);
    }
  }

  @Test
  void anUnknownBatchStaysUnknownAndTheRestIsKnown() {
    TensorInfoTable t = TensorInfoTable.of(CpuLoopRuleTest.loop(4, 0, new long[] {-1, 4}));
    for (String n : new String[] {"merge", "b3", "exit", "a2"}) assertArrayEquals(new long[] {-1, 4}, t.get(n).dims(), n);
  }

  @Test
  void aLoopVariableThatGrowsStaysUnknown() {
    aLoopVariableThatGrowsStaysUnknown(new long[] {1, 4});
    aLoopVariableThatGrowsStaysUnknown(new long[] {-1, 4});
  }

  private static void aLoopVariableThatGrowsStaysUnknown(long[] x) {
    // The body concatenates the value with itself: [1,4], then [1,8], ...
    GraphDef.Builder g = CpuLoopRuleTest.loop(1, 0, x).toBuilder();
    for (int i = 0; i < g.getNodeCount(); i++) {
      if (g.getNode(i).getName().equals("next")) g.setNode(i, g.getNode(i).toBuilder().setInput(0, "grow"));
    }
    g.addNode(NodeDef.newBuilder().setName("axis").setOp("Const").addInput("^body")
        .putAttr("dtype", AttrValue.newBuilder().setType(DataType.DT_INT32).build())
        .putAttr("value", AttrValue.newBuilder().setTensor(dev.tftrt.tensor.TensorProtos.fromHost(
            dev.tftrt.tensor.HostTensor.ofInts(new long[0], 1))).build()));
    g.addNode(NodeDef.newBuilder().setName("grow").setOp("ConcatV2").addInput("b0").addInput("b0").addInput("axis")
        .putAttr("T", AttrValue.newBuilder().setType(DataType.DT_FLOAT).build())
        .putAttr("N", AttrValue.newBuilder().setI(2).build())
        .putAttr("Tidx", AttrValue.newBuilder().setType(DataType.DT_INT32).build()));
    TensorInfoTable t = TensorInfoTable.of(g.build());
    for (String n : new String[] {"merge", "exit"}) {
      assertTrue(!t.get(n).hasRank() || t.get(n).dim(1) < 0, n + " must not claim a width: " + t.get(n));
    }
  }

  @Test
  void theLstmsStateReadsAndExitAreKnown() throws Exception {
    Path pb = TestModels.requireSharedModels().resolve("kws/LSTM_S.pb");
    TensorInfoTable t = TensorInfoTable.of(GraphDef.parseFrom(Files.readAllBytes(pb)));
    String loop = "LSTM-Layer/lstm/rnn/while/";
    assertArrayEquals(new long[] {1, 10}, t.get(loop + "TensorArrayReadV3").dims(), "the input, read by time step");
    assertArrayEquals(new long[] {1, 144}, t.get(loop + "Merge_2").dims(), "the cell state");
    assertArrayEquals(new long[] {1, 98}, t.get(loop + "Exit_3").dims(), "the projected output");
    assertTrue(t.get("labels_softmax").isFullyKnown(), "after the loop: " + t.get("labels_softmax"));
  }
}
