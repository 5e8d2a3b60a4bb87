package dev.tftrt.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.model.LoadOptions;
import dev.tftrt.model.TfModel;
import dev.tftrt.runtime.TfRunner;
import dev.tftrt.runtime.TftrtModel;
import dev.tftrt.segment.CpuLoopRuleTest;
import dev.tftrt.segment.Segmenter;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.GraphDef;

/**
 * Issue 9: shapes proved through a TF1 while loop reach the engines. A loop whose variable enters
 * as [-1, 4] runs a chain of ops three times; segmented as for TensorRT it has an engine inside
 * the loop, declared [-1, 4] from the proof (TensorFlow alone knows nothing of it there), and
 * one after the loop. The converted model must give TensorFlow's results at batch sizes other
 * than the one it was converted with, so a proof that claimed too much would fail here.
 */
class LoopEngineShapesTest {
  @TempDir Path tmp;

  /** CpuLoopRuleTest's loop, made to run: its counter counts up to the limit of 3. */
  private static GraphDef runnableLoop() {
    GraphDef.Builder g = CpuLoopRuleTest.loop(4, 0, new long[] {-1, 4}).toBuilder();
    for (int i = 0; i < g.getNodeCount(); i++) {
      if (g.getNode(i).getName().equals("i_add")) g.setNode(i, g.getNode(i).toBuilder().setOp("Add"));
    }
    return g.build();
  }

  @Test
  void engineInsideALoopRunsAtAnyBatch() throws Exception {
    Path pb = tmp.resolve("loop.pb");
    Files.write(pb, runnableLoop().toByteArray());
    ConvertJob.Report r = ConvertJob.run(ConvertJob.builder(LoadOptions.of(pb).withOutputs(java.util.List.of("a2")), tmp.resolve("out"))
        .segments(Segmenter.Options.defaults().withTarget(Segmenter.Target.GPU))
        .given(Map.of("x", TestModels.randomFloats(1, 3, 4))).build());
    assertTrue(r.verification().passed(), r.verification().diffs().toString());
    assertEquals(2, r.engines().size(), "one engine in the loop, one after it");
    var inLoop = r.engines().stream().filter(e -> e.segment().nodes().contains("b0")).findFirst().orElseThrow();
    assertArrayEquals(new long[] {-1, 4}, r.plan().graph().info(inLoop.segment().inputs().get(0)).dims(),
        "the engine's input, as proved through the loop");

    try (TfModel original = TfModel.load(LoadOptions.of(pb).withOutputs(java.util.List.of("a2")));
        TfRunner tf = new TfRunner(original);
        TftrtModel converted = TftrtModel.load(tmp.resolve("out"))) {
      String out = original.outputs().get(0).key();
      for (long batch : new long[] {1, 3, 7}) {
        Map<String, HostTensor> x = Map.of("x", TestModels.randomFloats(batch, batch, 4));
        float[] want = TestModels.floats(tf.run(x).get(out));
        float[] got = TestModels.floats(converted.run(x).get(converted.outputs().get(0).key()));
        assertEquals(want.length, got.length, "batch " + batch);
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-5f * Math.max(1, Math.abs(want[i])), "batch " + batch + " [" + i + "]");
      }
    }
  }
}
