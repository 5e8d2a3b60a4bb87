package dev.tftrt.runtime.engine;

import static dev.tftrt.runtime.engine.EngineGraphs.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.tftrt.TftrtException;
import dev.tftrt.tensor.HostTensor;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.TensorFlow;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;

@SuppressWarnings("try") // registrations are try-with-resources scopes
class EngineOpTest {
  private static final DataType F = DataType.DT_FLOAT;

  @BeforeAll
  static void load() {
    EngineOp.load();
  }

  @Test
  void loadsOnceAndRegistersTheOpOnce() {
    Path first = EngineOp.load();
    Path second = EngineOp.load();
    assertEquals(first, second);
    assertTrue(Files.isRegularFile(first), first.toString());
    assertTrue(EngineOp.isLoaded());
    // Loading the same file through TensorFlow again is harmless too (TF_LoadLibrary caches it).
    TensorFlow.loadLibrary(first.toString());
    long registered = 0;
    OpDef def = null;
    for (OpDef op : TensorFlow.registeredOpList().getOpList()) {
      if (op.getName().equals(EngineOp.OP_NAME)) {
        registered++;
        def = op;
      }
    }
    assertEquals(1, registered);
    assertTrue(def.getIsStateful());
    List<String> attrs = new ArrayList<>();
    def.getAttrList().forEach(a -> attrs.add(a.getName()));
    assertTrue(attrs.containsAll(List.of("Tin", "Tout", "shapes", "onnx", "engine", "cache_key",
        "precision", "backend", "segment", "key", "version")), attrs.toString());
  }

  /** x → engine(2x+1) → Mul(e1, e1) → engine(2m+1), all in one Session.run. */
  @Test
  void twoEngineNodesWithTensorFlowOpsBetweenRunInOneSessionRun() {
    String e1 = unique("eng_a");
    String e2 = unique("eng_b");
    GraphDef def = graph(
        placeholder("x", F, -1, 3),
        EngineNode.builder(e1).input("x", F).output(F, -1, 3).build().toNodeDef(),
        binary("Mul", "sq", e1, e1 + ":0"),
        EngineNode.builder(e2).input("sq", F).output(F, -1, 3).build().toNodeDef(),
        binary("AddV2", "out", e2, "x"));
    Affine b1 = new Affine(2, 1);
    Affine b2 = new Affine(2, 1);
    try (EngineRegistry.Registration r1 = EngineRegistry.register(e1, b1);
        EngineRegistry.Registration r2 = EngineRegistry.register(e2, b2);
        Graph g = importGraph(def);
        Session s = new Session(g)) {
      float[] x = {0.5f, -1f, 2f, 3f, 0f, -0.25f};
      HostTensor[] out = run(s, Map.of("x", HostTensor.ofFloats(new long[] {2, 3}, x)), "out", e1);
      float[] y = floats(out[0]);
      float[] first = floats(out[1]);
      for (int i = 0; i < x.length; i++) {
        float a = 2 * x[i] + 1;
        assertEquals(a, first[i], 1e-6f);
        assertEquals(2 * a * a + 1 + x[i], y[i], 1e-5f);
      }
      assertArrayEquals(new long[] {2, 3}, out[0].shape());
      assertEquals(1, b1.calls.get());
      assertEquals(1, b2.calls.get());
    }
  }

  @Test
  void backendErrorIsATensorFlowErrorNamingTheNodeAndTheJvmLivesOn() {
    String name = unique("failing_engine");
    GraphDef def = graph(
        placeholder("x", F, 2),
        EngineNode.builder(name).input("x", F).output(F, 2).build().toNodeDef());
    HostTensor x = HostTensor.ofFloats(new long[] {2}, 1f, 2f);
    try (Graph g = importGraph(def); Session s = new Session(g)) {
      try (EngineRegistry.Registration r = EngineRegistry.register(name, call -> {
        throw new IllegalStateException("the backend broke on purpose");
      })) {
        TensorFlowException e = assertThrows(TensorFlowException.class,
            () -> run(s, Map.of("x", x), name));
        assertTrue(e.getMessage().contains("engine node '" + name + "'"), e.getMessage());
        assertTrue(e.getMessage().contains("the backend broke on purpose"), e.getMessage());
      }
      // IllegalArgumentException keeps its meaning (TensorFlow's INVALID_ARGUMENT); an Error
      // is caught like any exception.
      try (EngineRegistry.Registration r = EngineRegistry.register(name, call -> {
        throw new IllegalArgumentException("x must be positive");
      })) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> run(s, Map.of("x", x), name));
        assertTrue(e.getMessage().contains("engine node '" + name + "'"), e.getMessage());
        assertTrue(e.getMessage().contains("x must be positive"), e.getMessage());
      }
      try (EngineRegistry.Registration r = EngineRegistry.register(name, call -> {
        throw new AssertionError("an Error, not an Exception");
      })) {
        TensorFlowException e = assertThrows(TensorFlowException.class,
            () -> run(s, Map.of("x", x), name));
        assertTrue(e.getMessage().contains("AssertionError: an Error, not an Exception"),
            e.getMessage());
      }
      // A backend that forgets an output.
      try (EngineRegistry.Registration r = EngineRegistry.register(name, call -> {})) {
        TensorFlowException e = assertThrows(TensorFlowException.class,
            () -> run(s, Map.of("x", x), name));
        assertTrue(e.getMessage().contains("without setting output 0 of engine node '" + name + "'"),
            e.getMessage());
      }
      // A backend that gives an output a shape the node does not declare.
      try (EngineRegistry.Registration r = EngineRegistry.register(name,
          call -> call.allocateOutput(0, 3))) {
        TensorFlowException e = assertThrows(TensorFlowException.class,
            () -> run(s, Map.of("x", x), name));
        assertTrue(e.getMessage().contains("shape [3], but the node declares [2]"), e.getMessage());
      }
      // No backend at all.
      TensorFlowException e = assertThrows(TensorFlowException.class,
          () -> run(s, Map.of("x", x), name));
      assertTrue(e.getMessage().contains("engine node '" + name + "' has no backend"), e.getMessage());
      // The same session still works once a good backend is there.
      try (EngineRegistry.Registration r = EngineRegistry.register(name, new Affine(2, 1))) {
        for (int i = 0; i < 3; i++) {
          assertArrayEquals(new float[] {3f, 5f}, floats(run(s, Map.of("x", x), name)[0]));
        }
      }
    }
  }

  @Test
  void shapeFunctionDeclaresUnknownShapesWithoutTensorFlowInternals() throws Exception {
    String name = unique("shaped");
    NodeDef engine = EngineNode.builder(name).input("x", F)
        .output(F, -1, 3)
        .outputUnknownRank(DataType.DT_INT32)
        .output(F, 2, 3)
        .output(F)
        .build().toNodeDef();
    // The public C API cannot read list(shape): every output is unknown to TensorFlow (the
    // splicer's EnsureShape nodes give the static shapes; see SplicerShapesTest).
    try (Graph g = importGraph(graph(placeholder("x", F, -1, 3), engine))) {
      for (int i = 0; i < 4; i++) assertTrue(g.operation(name).output(i).shape().isUnknown(), "output " + i);
      assertEquals(org.tensorflow.types.TInt32.class, g.operation(name).output(1).type());
    }
    // No mangled C++ symbol of TensorFlow is looked up, so none can be missing.
    java.nio.file.Path lib = null;
    try (var files = java.nio.file.Files.walk(java.nio.file.Path.of("target/classes/dev/tftrt/native"))) {
      lib = files.filter(f -> f.getFileName().toString().endsWith(".so")).findFirst().orElseThrow();
    }
    String bytes = new String(java.nio.file.Files.readAllBytes(lib), java.nio.charset.StandardCharsets.ISO_8859_1);
    assertFalse(bytes.contains("_ZN10tensorflow"), lib + " names a C++ symbol of TensorFlow");
    // Outputs of several dtypes and shapes, each written by the backend in place.
    try (EngineRegistry.Registration r = EngineRegistry.register(name, call -> {
          FloatBuffer in = call.input(0).asFloatBuffer();
          long rows = call.inputShape(0)[0];
          FloatBuffer o0 = call.allocateOutput(0, rows, 3).asFloatBuffer();
          for (int i = 0; i < in.remaining(); i++) o0.put(i, -in.get(i));
          IntBuffer o1 = call.allocateOutput(1, 4).asIntBuffer();
          for (int i = 0; i < 4; i++) o1.put(i, i * 10);
          call.setOutput(2, HostTensor.ofFloats(new long[] {2, 3}, 1, 2, 3, 4, 5, 6));
          call.allocateOutput(3).putFloat(0, (float) rows);
        });
        Graph g = importGraph(graph(placeholder("x", F, -1, 3), engine));
        Session s = new Session(g)) {
      HostTensor[] out = run(s, Map.of("x", HostTensor.ofFloats(new long[] {1, 3}, 1, 2, 3)),
          name + ":0", name + ":1", name + ":2", name + ":3");
      assertArrayEquals(new float[] {-1, -2, -3}, floats(out[0]));
      assertEquals(DataType.DT_INT32, out[1].dtype());
      assertEquals(30, out[1].getDouble(3));
      assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, floats(out[2]));
      assertEquals(1.0, out[3].getDouble(0));
      assertEquals(0, out[3].rank());
    }
  }

  @Test
  void moreShapesThanOutputsFailsWhenTheKernelIsBuiltNotTheJvm() {
    String name = unique("bad_shapes");
    NodeDef good = EngineNode.builder(name).input("x", F).output(F, 2).build().toNodeDef();
    NodeDef bad = good.toBuilder().putAttr(EngineNode.ATTR_SHAPES,
        EngineNode.builder("y").output(F, 2).output(F, 2).build().toNodeDef()
            .getAttrOrThrow(EngineNode.ATTR_SHAPES)).build();
    NodeDef negative = good.toBuilder().putAttr(EngineNode.ATTR_SHAPES,
        org.tensorflow.proto.AttrValue.newBuilder().setList(
            org.tensorflow.proto.AttrValue.ListValue.newBuilder().addShape(
                org.tensorflow.proto.TensorShapeProto.newBuilder().addDim(
                    org.tensorflow.proto.TensorShapeProto.Dim.newBuilder().setSize(-5)))).build())
        .build();
    for (NodeDef node : List.of(bad, negative)) {
      try (EngineRegistry.Registration r = EngineRegistry.register(name, new Affine(1, 0));
          Graph g = importGraph(graph(placeholder("x", F, 2), node));
          Session s = new Session(g)) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> run(s, Map.of("x", HostTensor.ofFloats(new long[] {2}, 1, 2)), name));
        assertTrue(e.getMessage().contains("engine node '" + name + "'"), e.getMessage());
      }
    }
    // ... and the Java reader says so in one sentence too.
    TftrtException t = assertThrows(TftrtException.class, () -> EngineNode.fromNodeDef(bad));
    assertTrue(t.getMessage().contains("1 outputs (attr Tout) but 2 output shapes"), t.getMessage());
  }

  @Test
  void aNodeFromANewerFormatFailsWhenTheKernelIsBuilt() {
    String name = unique("future");
    NodeDef node = EngineNode.builder(name).input("x", F).output(F, 2).build().toNodeDef()
        .toBuilder().putAttr(EngineNode.ATTR_VERSION,
            org.tensorflow.proto.AttrValue.newBuilder().setI(99).build()).build();
    try (EngineRegistry.Registration r = EngineRegistry.register(name, new Affine(1, 0));
        Graph g = importGraph(graph(placeholder("x", F, 2), node));
        Session s = new Session(g)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> run(s, Map.of("x", HostTensor.ofFloats(new long[] {2}, 1, 2)), name));
      assertTrue(e.getMessage().contains("engine node '" + name + "' has attribute version 99"),
          e.getMessage());
    }
  }

  @Test
  void factoriesCreateOneBackendPerKernelAndItClosesWithTheSession() {
    String name = unique("made");
    AtomicInteger created = new AtomicInteger();
    List<Affine> made = new ArrayList<>();
    EngineBackendFactory factory = node -> {
      if (!node.name().equals(name)) return null;
      assertEquals("onnxruntime", node.backend());
      assertArrayEquals(new byte[] {1, 2, 3}, node.onnx().toByteArray());
      created.incrementAndGet();
      Affine a = new Affine(3, 0);
      synchronized (made) {
        made.add(a);
      }
      return a;
    };
    NodeDef node = EngineNode.builder(name).input("x", F).output(F, 2).backend("onnxruntime")
        .onnx(new byte[] {1, 2, 3}).build().toNodeDef();
    try (EngineRegistry.Registration f = EngineRegistry.addFactory(factory);
        Graph g = importGraph(graph(placeholder("x", F, 2), node))) {
      try (Session s = new Session(g)) {
        for (int i = 0; i < 5; i++) {
          assertArrayEquals(new float[] {3, 6},
              floats(run(s, Map.of("x", HostTensor.ofFloats(new long[] {2}, 1, 2)), name)[0]));
        }
        assertEquals(1, created.get());
        assertFalse(made.get(0).closed);
      }
      assertTrue(made.get(0).closed, "the factory's backend is closed when the session is");
    }
  }

  @Test
  void buffersAreTensorFlowsMemoryAndDieWithTheCall() {
    String name = unique("direct");
    AtomicReference<EngineCall> kept = new AtomicReference<>();
    try (EngineRegistry.Registration r = EngineRegistry.register(name, call -> {
          ByteBuffer in = call.input(0);
          assertTrue(in.isDirect());
          assertTrue(in.isReadOnly());
          ByteBuffer out = call.allocateOutput(0, 2);
          assertTrue(out.isDirect());
          out.put(in);
          assertThrows(IllegalStateException.class, () -> call.allocateOutput(0, 2));
          kept.set(call);
        });
        Graph g = importGraph(graph(placeholder("x", F, 2),
            EngineNode.builder(name).input("x", F).output(F, 2).build().toNodeDef()));
        Session s = new Session(g)) {
      assertArrayEquals(new float[] {7, 8},
          floats(run(s, Map.of("x", HostTensor.ofFloats(new long[] {2}, 7, 8)), name)[0]));
      assertThrows(IllegalStateException.class, () -> kept.get().input(0));
    }
  }

  @Test
  void eightThreadsTimesTwoHundredCallsGiveTheSameResults() throws Exception {
    String e1 = unique("conc_a");
    String e2 = unique("conc_b");
    GraphDef def = graph(
        placeholder("x", F, -1, 4),
        EngineNode.builder(e1).input("x", F).output(F, -1, 4).build().toNodeDef(),
        binary("Mul", "sq", e1, e1),
        EngineNode.builder(e2).input("sq", F).output(F, -1, 4).build().toNodeDef());
    int threads = 8;
    int calls = 200;
    try (EngineRegistry.Registration r1 = EngineRegistry.register(e1, new Affine(2, 1));
        EngineRegistry.Registration r2 = EngineRegistry.register(e2, new Affine(0.5f, -1));
        Graph g = importGraph(def);
        Session s = new Session(g)) {
      // Per thread its own input; the reference is a single-threaded run of the same session.
      HostTensor[] inputs = new HostTensor[threads];
      float[][] expected = new float[threads][];
      for (int t = 0; t < threads; t++) {
        float[] x = new float[12];
        for (int i = 0; i < x.length; i++) x[i] = t * 0.37f + i * 0.11f - 1f;
        inputs[t] = HostTensor.ofFloats(new long[] {3, 4}, x);
        expected[t] = floats(run(s, Map.of("x", inputs[t]), e2)[0]);
      }
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        List<Future<Integer>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          int id = t;
          Callable<Integer> job = () -> {
            int same = 0;
            for (int c = 0; c < calls; c++) {
              float[] y = floats(run(s, Map.of("x", inputs[id]), e2)[0]);
              if (java.util.Arrays.equals(y, expected[id])) same++;
            }
            return same;
          };
          done.add(pool.submit(job));
        }
        for (Future<Integer> f : done) assertEquals(calls, f.get());
      } finally {
        pool.shutdown();
      }
    }
  }

  /**
   * TensorFlow's own threads are attached to the JVM on their first engine call and detached
   * when they end (per-session pools end with the session); with inter-op parallelism -1 the
   * kernel runs on the Java thread that called Session.run, which is used as it is.
   */
  @Test
  void kernelThreadsAttachAndDetachCleanly() throws Exception {
    String name = unique("threads");
    GraphDef def = graph(placeholder("x", F, 2),
        EngineNode.builder(name).input("x", F).output(F, 2).build().toNodeDef());
    HostTensor x = HostTensor.ofFloats(new long[] {2}, 1, 2);
    AtomicInteger onJavaThreads = new AtomicInteger();
    AtomicInteger onAttached = new AtomicInteger();
    Affine affine = new Affine(2, 1);
    EngineBackend counting = call -> {
      if (Thread.currentThread().getName().equals("tftrt-engine")) onAttached.incrementAndGet();
      else onJavaThreads.incrementAndGet();
      affine.run(call);
    };
    org.tensorflow.proto.ConfigProto perSession = org.tensorflow.proto.ConfigProto.newBuilder()
        .setUsePerSessionThreads(true).setInterOpParallelismThreads(4).build();
    org.tensorflow.proto.ConfigProto inline = org.tensorflow.proto.ConfigProto.newBuilder()
        .setInterOpParallelismThreads(-1).build();
    try (EngineRegistry.Registration r = EngineRegistry.register(name, counting);
        Graph g = importGraph(def)) {
      long base = attachedThreads(); // the global pool's threads other tests attached
      for (int round = 0; round < 5; round++) {
        try (Session s = new Session(g, perSession)) {
          for (int i = 0; i < 20; i++) {
            assertArrayEquals(new float[] {3, 5}, floats(run(s, Map.of("x", x), name)[0]));
          }
          assertTrue(attachedThreads() > base, "this session's pool threads are attached");
        }
      }
      assertEquals(100, onAttached.get(), "per-session pool threads ran the kernel");
      // The pools' threads end with their sessions and detach: none is left attached.
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (attachedThreads() > base && System.nanoTime() < deadline) Thread.sleep(20);
      assertEquals(base, attachedThreads(), "attached threads left behind");

      int before = onJavaThreads.get();
      try (Session s = new Session(g, inline)) {
        for (int i = 0; i < 10; i++) {
          assertArrayEquals(new float[] {3, 5}, floats(run(s, Map.of("x", x), name)[0]));
        }
      }
      assertEquals(before + 10, onJavaThreads.get(), "inline runs use the calling Java thread");
    }
  }

  private static long attachedThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().equals("tftrt-engine")).count();
  }

  @Test
  void engineNodeRoundTripsThroughNodeDef() {
    GraphDef segment = graph(placeholder("p", F, 1));
    EngineNode n = EngineNode.builder("engine_7").input("a:1", F).input("b", DataType.DT_INT32)
        .controlInput("init").output(F, -1, 8).outputUnknownRank(DataType.DT_HALF)
        .onnx(new byte[] {9, 8}).engine(com.google.protobuf.ByteString.copyFromUtf8("plan"), "k1")
        .precision("fp16").backend("tensorrt").segment(segment).key("model3/engine_7")
        .device("/device:CPU:0").build();
    NodeDef def = n.toNodeDef();
    assertEquals(List.of("a:1", "b", "^init"), def.getInputList());
    EngineNode back = EngineNode.fromNodeDef(def);
    assertEquals(n, back);
    assertEquals("model3/engine_7", back.registryKey());
    assertArrayEquals(new long[] {-1, 8}, back.outputShape(0));
    assertNull(back.outputShape(1));
    assertEquals(segment.toByteString(), back.segment());
    assertEquals("k1", back.cacheKey());
    assertEquals(def, back.toBuilder().build().toNodeDef());
    assertEquals("engine_7", EngineNode.builder("engine_7").output(F).build().registryKey());
    assertThrows(TftrtException.class, () -> EngineNode.fromNodeDef(
        def.toBuilder().setOp("Identity").build()));
    assertThrows(IllegalArgumentException.class,
        () -> EngineNode.builder("s").output(DataType.DT_STRING));
  }
}
