package dev.tftrt.runtime.backend;

import static dev.tftrt.runtime.backend.BackendGraphs.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.tftrt.runtime.engine.EngineNode;
import dev.tftrt.runtime.engine.EngineOp;
import dev.tftrt.runtime.engine.EngineRegistry;
import dev.tftrt.runtime.ort.OrtNativeRunner;
import dev.tftrt.runtime.ort.OrtOptions;
import dev.tftrt.tensor.HostTensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Session;

/**
 * The onnxruntime backend's native runner (native/src/ort_runner.cc): the engine kernel runs
 * the session through ONNX Runtime's C API, with no Java per call. Each test counts the calls
 * that took that path ({@link OrtNativeRunner#calls}), so a runner that silently fell back to
 * Java (a table that failed its check, a reflection that stopped working) fails here.
 */
@SuppressWarnings("try") // registrations are try-with-resources scopes
class OrtNativeRunnerTest {
  @BeforeAll
  static void load() {
    EngineOp.load();
  }

  /** Runs the model's converted graph on each batch with this backend; outputs per batch. */
  private static List<HostTensor[]> runAll(Model model, EngineNode node, OnnxRuntimeBackend backend, long... batches) {
    List<HostTensor[]> out = new ArrayList<>();
    try (EngineRegistry.Registration r = EngineRegistry.register(node.registryKey(), backend);
        Graph g = importGraph(model.converted(node));
        Session s = new Session(g)) {
      long seed = 1;
      for (long batch : batches) out.add(run(s, model.feeds(batch, seed++), model.convertedFetches()));
    }
    return out;
  }

  private static void assertSameAsJava(Model model, long... batches) {
    EngineNode node = model.engine(unique("TftrtEngine")).backend("onnxruntime").build();
    List<HostTensor[]> natively;
    List<HostTensor[]> throughJava;
    long before = OrtNativeRunner.calls();
    try (OnnxRuntimeBackend b = new OnnxRuntimeBackend(node)) {
      assertTrue(b.runsNatively(), "the native runner was not made (see the DEBUG log of OrtNativeRunner)");
      natively = runAll(model, node, b, batches);
    }
    long nonEmpty = java.util.Arrays.stream(batches).filter(x -> x > 0).count();
    assertEquals(nonEmpty, OrtNativeRunner.calls() - before,
        "every call with data runs natively; an empty batch goes through Java");
    try (OnnxRuntimeBackend b = new OnnxRuntimeBackend(node, OrtOptions.defaults().withNativeCalls(false))) {
      assertFalse(b.runsNatively());
      long javaBefore = OrtNativeRunner.calls();
      throughJava = runAll(model, node, b, batches);
      assertEquals(javaBefore, OrtNativeRunner.calls(), "nativeCalls false keeps every call in Java");
    }
    long seed = 1;
    for (int k = 0; k < batches.length; k++) {
      HostTensor[] expected = model.expected(model.feeds(batches[k], seed++));
      for (int i = 0; i < expected.length; i++) {
        // One session, two ways of calling it: the same bits.
        assertArrayEquals(floats(throughJava.get(k)[i]), floats(natively.get(k)[i]), "batch " + batches[k] + " output " + i);
        assertArrayEquals(throughJava.get(k)[i].shape(), natively.get(k)[i].shape());
        assertClose(expected[i], natively.get(k)[i], 1e-5, 1e-6);
      }
    }
  }

  @Test
  void dynamicShapesRunNativelyAndGiveJavasBits() {
    // Batch unknown to the node: ONNX Runtime allocates the outputs, copied once into TensorFlow's.
    assertSameAsJava(new Model(-1, true, true), 1, 7, 0, 3);
  }

  @Test
  void staticShapesAreWrittenInPlaceNativelyAndGiveJavasBits() {
    assertSameAsJava(new Model(7, true, true), 7, 7);
  }

  /** ONNX Runtime's refusal comes back as the node's error, in the Java path's words. */
  @Test
  void anOnnxRuntimeFailureNamesTheNode() {
    Model fixed = new Model(2, false, false); // its ONNX takes exactly [2, 4]
    Model open = new Model(-1, false, false); // the graph feeds any batch
    String name = unique("TftrtEngine");
    EngineNode node = fixed.engine(name).backend("onnxruntime").build();
    try (OnnxRuntimeBackend b = new OnnxRuntimeBackend(node);
        EngineRegistry.Registration r = EngineRegistry.register(name, b);
        Graph g = importGraph(open.converted(node));
        Session s = new Session(g)) {
      assertTrue(b.runsNatively());
      long before = OrtNativeRunner.calls();
      Exception e = assertThrows(Exception.class, () -> run(s, open.feeds(3, 1), open.convertedFetches()));
      assertEquals(before + 1, OrtNativeRunner.calls());
      assertTrue(e.getMessage().contains("engine node '" + name + "': ONNX Runtime failed: the inputs do not match"),
          e.getMessage());
      // The session is still good for a call it can take.
      HostTensor[] ok = run(s, open.feeds(2, 2), open.convertedFetches());
      assertClose(fixed.expected(open.feeds(2, 2))[0], ok[0], 1e-5, 1e-6);
    }
  }

  /** A closed backend's runner takes no more calls: they go to Java, which says it is closed. */
  @Test
  void callsAfterTheBackendClosesFailCleanly() {
    Model model = new Model(-1, false, false);
    String name = unique("TftrtEngine");
    EngineNode node = model.engine(name).backend("onnxruntime").build();
    OnnxRuntimeBackend b = new OnnxRuntimeBackend(node);
    try (EngineRegistry.Registration r = EngineRegistry.register(name, b);
        Graph g = importGraph(model.converted(node));
        Session s = new Session(g)) {
      run(s, model.feeds(2, 1), model.convertedFetches());
      b.close();
      assertEquals(0, b.nativeRunner());
      long before = OrtNativeRunner.calls();
      Exception e = assertThrows(Exception.class, () -> run(s, model.feeds(2, 1), model.convertedFetches()));
      assertEquals(before, OrtNativeRunner.calls());
      assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }
  }

  /** Several TensorFlow threads in one runner at once, each with its own batch size. */
  @Test
  void concurrentCallsEachGetTheirOwnResult() throws Exception {
    Model model = new Model(-1, true, true);
    String name = unique("TftrtEngine");
    EngineNode node = model.engine(name).backend("onnxruntime").build();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try (OnnxRuntimeBackend b = new OnnxRuntimeBackend(node);
        EngineRegistry.Registration r = EngineRegistry.register(name, b);
        Graph g = importGraph(model.converted(node));
        Session s = new Session(g)) {
      long before = OrtNativeRunner.calls();
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        long batch = t + 1;
        fs.add(pool.submit(() -> {
          for (long seed = 1; seed <= 50; seed++) {
            Map<String, HostTensor> feeds = model.feeds(batch, seed);
            HostTensor[] expected = model.expected(feeds);
            HostTensor[] actual = run(s, feeds, model.convertedFetches());
            for (int i = 0; i < expected.length; i++) assertClose(expected[i], actual[i], 1e-5, 1e-6);
          }
          return null;
        }));
      }
      for (Future<?> f : fs) f.get();
      assertEquals(200, OrtNativeRunner.calls() - before);
    } finally {
      pool.shutdownNow();
    }
  }
}
