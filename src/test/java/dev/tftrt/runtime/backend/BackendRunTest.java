package dev.tftrt.runtime.backend;

import static dev.tftrt.runtime.backend.BackendGraphs.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.tftrt.runtime.engine.EngineNode;
import dev.tftrt.runtime.engine.EngineOp;
import dev.tftrt.runtime.engine.EngineRegistry;
import dev.tftrt.tensor.HostTensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.tensorflow.Graph;
import org.tensorflow.Session;

/**
 * Both CPU backends inside real engine graphs (Placeholder → TftrtEngine → Identity, run by
 * TensorFlow), compared with the original TensorFlow graph on random inputs at rtol 1e-5 (atol
 * 1e-6 for softmax outputs near zero).
 */
@SuppressWarnings("try") // registrations are try-with-resources scopes
class BackendRunTest {
  static final double RTOL = 1e-5;
  static final double ATOL = 1e-6;

  @BeforeAll
  static void load() {
    EngineOp.load();
  }

  /** Runs {@code model} converted, with {@code backend} from a scoped factory, at these batches. */
  static void checkAgainstTensorFlow(Model model, String backendAttr, String override,
      long... batches) {
    String key = unique("bk");
    EngineNode node = model.engine(unique("TftrtEngine")).backend(backendAttr).key(key).build();
    try (EngineRegistry.Registration f = EngineRegistry.addFactory(Backends.factoryForKeys(override == null ? null : Backend.parse(override), key));
        Graph g = importGraph(model.converted(node));
        Session s = new Session(g)) {
      long seed = 1;
      for (long batch : batches) {
        Map<String, HostTensor> feeds = model.feeds(batch, seed++);
        HostTensor[] expected = model.expected(feeds);
        HostTensor[] actual = run(s, feeds, model.convertedFetches());
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) assertClose(expected[i], actual[i], RTOL, ATOL);
      }
    }
  }

  @ParameterizedTest(name = "{0}, batch 1, 7 and 0")
  @CsvSource({"onnxruntime", "tensorflow"})
  void matchesTensorFlowWithAnUnknownBatchDimension(String backend) {
    checkAgainstTensorFlow(new Model(-1, false, false), backend, null, 1, 7, 0);
  }

  @ParameterizedTest(name = "{0}, two inputs, two outputs")
  @CsvSource({"onnxruntime", "tensorflow"})
  void keepsTheOrderOfSeveralInputsAndOutputs(String backend) {
    checkAgainstTensorFlow(new Model(-1, true, true), backend, null, 1, 7, 3);
  }

  @ParameterizedTest(name = "override {0} over the node's attr")
  @CsvSource({"onnxruntime", "tensorflow", "auto"})
  void anOverrideReplacesTheNodesOwnChoice(String override) {
    // The node asks for tensorrt, which would fail; the override wins.
    checkAgainstTensorFlow(new Model(-1, true, true), "tensorrt", override, 2);
  }

  @Test
  void autoRunsOnOnnxRuntime() {
    checkAgainstTensorFlow(new Model(-1, false, false), "auto", null, 1, 7);
  }

  /** Fully known output shapes: ONNX Runtime writes straight into TensorFlow's outputs. */
  @Test
  void staticShapesUsePreallocatedOutputsAndStillMatch() {
    Model model = new Model(7, true, true);
    String name = unique("TftrtEngine");
    EngineNode node = model.engine(name).backend("onnxruntime").build();
    try (OnnxRuntimeBackend backend = new OnnxRuntimeBackend(node);
        EngineRegistry.Registration r = EngineRegistry.register(name, backend);
        Graph g = importGraph(model.converted(node));
        Session s = new Session(g)) {
      assertTrue(backend.preallocatesOutputs());
      assertEquals(List.of("x:0", "z:0"), backend.inputNames());
      assertEquals(List.of("sm:0", "relu:0"), backend.outputNames());
      for (long seed = 1; seed <= 3; seed++) {
        Map<String, HostTensor> feeds = model.feeds(7, seed);
        HostTensor[] expected = model.expected(feeds);
        HostTensor[] actual = run(s, feeds, model.convertedFetches());
        for (int i = 0; i < expected.length; i++) assertClose(expected[i], actual[i], RTOL, ATOL);
      }
    }
  }

  @Test
  void dynamicShapesCopyOutputsOnceThroughOnnxRuntimesOwnMemory() {
    Model model = new Model(-1, false, false);
    try (OnnxRuntimeBackend backend = new OnnxRuntimeBackend(model.engine("e").build())) {
      assertFalse(backend.preallocatesOutputs());
    }
    assertTrue(OnnxRuntimeBackend.copiesOutputsOnce(),
        "OnnxTensor's direct view is not reachable: outputs are copied twice");
  }

  /** A backend from a registration serves the node directly; TensorFlow fallback as well. */
  @Test
  void aRegisteredTensorFlowBackendServesItsNode() {
    Model model = new Model(-1, true, true);
    String name = unique("TftrtEngine");
    EngineNode node = model.engine(name).build();
    try (TensorFlowBackend backend = new TensorFlowBackend(node);
        EngineRegistry.Registration r = EngineRegistry.register(name, backend);
        Graph g = importGraph(model.converted(node));
        Session s = new Session(g)) {
      Map<String, HostTensor> feeds = model.feeds(5, 9);
      HostTensor[] expected = model.expected(feeds);
      HostTensor[] actual = run(s, feeds, model.convertedFetches());
      for (int i = 0; i < expected.length; i++) assertClose(expected[i], actual[i], RTOL, ATOL);
    }
  }
}
