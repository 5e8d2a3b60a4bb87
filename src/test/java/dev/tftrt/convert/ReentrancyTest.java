package dev.tftrt.convert;

import dev.tftrt.convert.ops.StandardConverters;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.convert.onnx.GraphProto;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.convert.passes.TransposePushPass;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.tensorflow.Output;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;

/**
 * One exporter, and one transpose-push pass, used from several threads at once give each
 * thread exactly what a lone run gives: neither keeps a run's state in its fields.
 */
class ReentrancyTest {
  private static final DataType F32 = DataType.DT_FLOAT;
  private static final int THREADS = 8;
  private static final int ROUNDS = 6;

  /**
   * Conv, batch norm and relu6 layers with a residual add, a concat and a pad between them, of
   * a given width: transposes to push and cancel, and a different graph per width.
   */
  private static GraphDef layers(int width) {
    Rand rand = new Rand(width);
    try (TfBuilder b = new TfBuilder()) {
      Output<?> x = b.placeholder("x", F32, 1, 6, 6, 4);
      Output<?> h = x;
      for (int i = 0; i < width; i++) {
        Output<?> c = b.op("Conv2D").in(h, b.constant(rand.floats(3, 3, 4, 4))).attr("T", F32)
            .attr("strides", new long[] {1, 1, 1, 1}).attr("padding", "SAME").out();
        c = b.op("FusedBatchNormV3").in(c, b.constant(rand.floats(4)), b.constant(rand.floats(4)),
            b.constant(rand.floats(4)), b.constant(rand.range(0.5, 2, 4))).attr("T", F32).attr("U", F32)
            .attr("is_training", false).out();
        c = b.op("Relu6").in(c).attr("T", F32).out();
        h = b.op("AddV2").in(c, h).attr("T", F32).out();
      }
      Output<?> cat = b.op("ConcatV2").in().inList(h, x).in(b.scalarInt(3)).attr("T", F32).attr("N", 2L)
          .attr("Tidx", DataType.DT_INT32).out();
      Output<?> pad = b.op("Pad").in(cat, b.constant(dev.tftrt.tensor.HostTensor.ofInts(new long[] {4, 2},
          0, 0, 1, 1, 1, 1, 0, 0))).attr("T", F32).out();
      b.op("Mean").name("out").in(pad, b.ints(1, 2)).attr("T", F32).attr("keep_dims", true).build();
      return b.graphDef();
    }
  }

  /** Runs each task on its own thread, all released at once, and returns their results in order. */
  private static <T> List<T> together(List<Callable<T>> tasks) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(tasks.size());
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<T>> futures = new ArrayList<>();
      for (Callable<T> t : tasks) {
        futures.add(pool.submit(() -> {
          start.await();
          return t.call();
        }));
      }
      start.countDown();
      List<T> results = new ArrayList<>();
      for (Future<T> f : futures) results.add(f.get());
      return results;
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void oneExporterExportsSeveralGraphsAtOnceAsItDoesOneByOne() throws Exception {
    OnnxExporter shared = new OnnxExporter(StandardConverters.registry());
    List<GraphDef> graphs = new ArrayList<>();
    List<ModelProto> alone = new ArrayList<>();
    for (int i = 0; i < THREADS; i++) {
      GraphDef g = layers(1 + i % 4);
      graphs.add(g);
      alone.add(new OnnxExporter(StandardConverters.registry()).export(g, List.of("x"), List.of("out")));
    }
    assertTrue(OnnxExporter.countTransposes(alone.get(0)) < 4, "the passes did rewrite the graph");
    for (int round = 0; round < ROUNDS; round++) {
      List<Callable<ModelProto>> tasks = new ArrayList<>();
      for (GraphDef g : graphs) tasks.add(() -> shared.export(g, List.of("x"), List.of("out")));
      List<ModelProto> together = together(tasks);
      for (int i = 0; i < THREADS; i++) {
        assertEquals(alone.get(i), together.get(i), "graph " + i + " in round " + round);
      }
    }
  }

  @Test
  void oneTransposePushPassRewritesSeveralGraphsAtOnceAsItDoesOneByOne() throws Exception {
    TransposePushPass shared = new TransposePushPass();
    OnnxExporter raw = new OnnxExporter(StandardConverters.registry()).passes(List.of());
    List<GraphProto> inputs = new ArrayList<>();
    List<GraphProto> alone = new ArrayList<>();
    for (int i = 0; i < THREADS; i++) {
      GraphProto g = raw.export(layers(1 + i % 4), List.of("x"), List.of("out")).getGraph();
      inputs.add(g);
      alone.add(new TransposePushPass().apply(g));
      assertNotEquals(g, alone.get(i), "the pass rewrites graph " + i);
    }
    for (int round = 0; round < ROUNDS; round++) {
      List<Callable<GraphProto>> tasks = new ArrayList<>();
      for (GraphProto g : inputs) tasks.add(() -> shared.apply(g));
      List<GraphProto> together = together(tasks);
      for (int i = 0; i < THREADS; i++) {
        assertEquals(alone.get(i), together.get(i), "graph " + i + " in round " + round);
      }
    }
  }
}
