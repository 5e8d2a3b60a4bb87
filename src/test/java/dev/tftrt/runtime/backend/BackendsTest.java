package dev.tftrt.runtime.backend;

import dev.tftrt.testing.LogCapture;
import static dev.tftrt.runtime.backend.BackendGraphs.*;
import static org.junit.jupiter.api.Assertions.*;

import com.google.protobuf.ByteString;
import dev.tftrt.TftrtException;
import dev.tftrt.runtime.engine.EngineBackend;
import dev.tftrt.runtime.engine.EngineBackendFactory;
import dev.tftrt.runtime.engine.EngineNode;
import dev.tftrt.runtime.engine.EngineOp;
import dev.tftrt.runtime.engine.EngineRegistry;
import dev.tftrt.tensor.HostTensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;

/** The backend policy, and every way a node can fail to get a backend. */
@SuppressWarnings("try") // registrations are try-with-resources scopes
class BackendsTest {
  /** What an explicit tensorrt choice says where no GPU is usable (these tests run where none is). */
  static final String TRT_SENTENCE = "asks for the tensorrt backend, but "
      + dev.tftrt.build.GpuDetection.detect().problem();

  private static final Model MODEL = new Model(-1, false, false);

  @BeforeAll
  static void load() {
    EngineOp.load();
  }

  // ---- the choice ----

  @Test
  void autoPicksOnnxRuntimeAndLogsWhyTensorRtWasSkippedOncePerProcess() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeFalse(dev.tftrt.build.GpuDetection.detect().usable(), "a GPU is usable here");
    Backends.LOGGED.set(false); // as in a fresh process
    try (LogCapture log = LogCapture.of(Backends.class, Level.INFO)) {
      String name = unique("BackendsTestAuto");
      EngineNode node = MODEL.engine(name).build(); // backend attr defaults to auto
      assertEquals("auto", node.backend());
      assertEquals(Backend.ONNXRUNTIME, Backends.chosen(node, null));
      assertEquals(Backend.ONNXRUNTIME, Backends.chosen(node, Backend.AUTO));
      assertEquals(Backend.ONNXRUNTIME, Backends.chosen(node, Backend.parse(" AUTO ")));
      try (EngineBackend b = Backends.create(node, null)) {
        assertEquals("onnxruntime", b.describe());
      }
      // Once per process, not per node: a per-node record grew with every load.
      EngineNode other = MODEL.engine(unique("BackendsTestAuto")).build();
      assertEquals(Backend.ONNXRUNTIME, Backends.chosen(other, null));
      List<String> mine = new ArrayList<>();
      for (LogRecord r : log.records()) {
        if (r.getMessage().startsWith("backend auto:")) {
          assertEquals(Level.INFO, r.getLevel());
          mine.add(r.getMessage());
        }
      }
      assertEquals(List.of("backend auto: tensorrt skipped (" + dev.tftrt.build.GpuDetection.detect().problem()
          + "); engine nodes run on onnxruntime, or tensorflow where a node carries no ONNX model"), mine);
    }
  }

  @Test
  void autoFallsBackToTensorFlowWithoutAnOnnxModel() throws Exception {
    EngineNode node = MODEL.engine(unique("TftrtEngine")).onnx(ByteString.EMPTY).build();
    assertEquals(Backend.TENSORFLOW, Backends.chosen(node, null));
    try (EngineBackend b = Backends.create(node, null)) {
      assertInstanceOf(TensorFlowBackend.class, b);
      assertEquals("tensorflow", b.describe());
    }
  }

  @Test
  void explicitChoicesCreateThatBackend() throws Exception {
    EngineNode node = MODEL.engine(unique("TftrtEngine")).build();
    try (EngineBackend b = Backends.factory(Backend.ONNXRUNTIME).create(node)) {
      assertInstanceOf(OnnxRuntimeBackend.class, b);
    }
    try (EngineBackend b = Backends.factory(Backend.TENSORFLOW).create(node)) {
      assertInstanceOf(TensorFlowBackend.class, b);
    }
    EngineNode attr = MODEL.engine(unique("TftrtEngine")).backend("tensorflow").build();
    assertEquals(Backend.TENSORFLOW, Backends.chosen(attr, null));
    assertEquals(Backend.ONNXRUNTIME, Backends.chosen(attr, Backend.ONNXRUNTIME));
  }

  @Test
  void explicitTensorRtIsOneClearSentence() {
    org.junit.jupiter.api.Assumptions.assumeFalse(dev.tftrt.build.GpuDetection.detect().usable(), "a GPU is usable here");
    EngineNode node = MODEL.engine("TftrtEngine_0").build();
    TftrtException e = assertThrows(TftrtException.class, () -> Backends.chosen(node, Backend.TENSORRT));
    assertEquals("engine node 'TftrtEngine_0' " + TRT_SENTENCE, e.getMessage());
    EngineNode attr = MODEL.engine("TftrtEngine_0").backend("tensorrt").build();
    e = assertThrows(TftrtException.class, () -> Backends.create(attr, null));
    assertEquals("engine node 'TftrtEngine_0' " + TRT_SENTENCE, e.getMessage());
  }

  @Test
  void anUnknownBackendNameIsRefused() {
    TftrtException e = assertThrows(TftrtException.class, () -> Backend.parse("cuda"));
    assertEquals("Unknown backend 'cuda': use one of auto, tensorrt, onnxruntime, tensorflow.",
        e.getMessage());
    EngineNode node = MODEL.engine("TftrtEngine_3").backend("cuda").build();
    TftrtException t = assertThrows(TftrtException.class, () -> Backends.chosen(node, null));
    assertEquals("engine node 'TftrtEngine_3' asks for backend 'cuda', which is not one of auto, "
        + "tensorrt, onnxruntime, tensorflow.", t.getMessage());
  }

  @Test
  void aBackendWhoseAttributeIsMissingNamesTheNode() {
    EngineNode noOnnx = MODEL.engine("TftrtEngine_1").onnx(ByteString.EMPTY).build();
    TftrtException e = assertThrows(TftrtException.class, () -> Backends.chosen(noOnnx, Backend.ONNXRUNTIME));
    assertTrue(e.getMessage().startsWith("engine node 'TftrtEngine_1' asks for the onnxruntime "
        + "backend but carries no ONNX model"), e.getMessage());
    e = assertThrows(TftrtException.class, () -> new OnnxRuntimeBackend(noOnnx));
    assertTrue(e.getMessage().startsWith("engine node 'TftrtEngine_1' carries no ONNX model"), e.getMessage());

    EngineNode noSegment = MODEL.engine("TftrtEngine_2").segment(ByteString.EMPTY).build();
    e = assertThrows(TftrtException.class, () -> Backends.chosen(noSegment, Backend.TENSORFLOW));
    assertTrue(e.getMessage().startsWith("engine node 'TftrtEngine_2' asks for the tensorflow "
        + "backend but carries no TensorFlow segment"), e.getMessage());

    EngineNode neither = MODEL.engine("TftrtEngine_4").onnx(ByteString.EMPTY)
        .segment(ByteString.EMPTY).build();
    e = assertThrows(TftrtException.class, () -> Backends.chosen(neither, null));
    assertTrue(e.getMessage().startsWith("engine node 'TftrtEngine_4' carries neither an ONNX "
        + "model nor its TensorFlow segment"), e.getMessage());
  }

  // ---- construction checks ----

  @Test
  void aCorruptOnnxModelIsOneSentenceNamingTheNode() {
    EngineNode node = MODEL.engine("TftrtEngine_0").onnx("not an onnx model".getBytes()).build();
    TftrtException e = assertThrows(TftrtException.class, () -> new OnnxRuntimeBackend(node));
    assertTrue(e.getMessage().startsWith("engine node 'TftrtEngine_0' carries an ONNX model that "
        + "ONNX Runtime cannot load: "), e.getMessage());
  }

  @Test
  void onnxInputsAndOutputsMustMatchTinAndTout() {
    // The ONNX takes one float input; the node declares two.
    EngineNode twoIn = MODEL.engine("TftrtEngine_5").input("y", F).build();
    TftrtException e = assertThrows(TftrtException.class, () -> new OnnxRuntimeBackend(twoIn));
    assertEquals("engine node 'TftrtEngine_5' has 2 inputs (attr Tin) but its ONNX model has 1.",
        e.getMessage());
    // Right count, wrong dtype.
    EngineNode intIn = EngineNode.builder("TftrtEngine_6").input("x", DataType.DT_INT32)
        .output(F, -1, 5).onnx(MODEL.onnx()).build();
    e = assertThrows(TftrtException.class, () -> new OnnxRuntimeBackend(intIn));
    assertEquals("engine node 'TftrtEngine_6' declares input 0 as int32 (attr Tin) but its ONNX "
        + "model's input 'x:0' is float32.", e.getMessage());
    // Two outputs declared, one in the ONNX.
    EngineNode twoOut = MODEL.engine("TftrtEngine_7").output(F, -1, 5).build();
    e = assertThrows(TftrtException.class, () -> new OnnxRuntimeBackend(twoOut));
    assertEquals("engine node 'TftrtEngine_7' has 2 outputs (attr Tout) but its ONNX model has 1.",
        e.getMessage());
  }

  @Test
  void aSegmentWithoutTheConventionsNodesIsRefused() {
    GraphDef seg = MODEL.segment();
    GraphDef noOut = seg.toBuilder().clearNode().addAllNode(seg.getNodeList().stream()
        .filter(n -> !n.getName().equals("tftrt_output_0")).toList()).build();
    EngineNode node = MODEL.engine("TftrtEngine_8").segment(noOut).build();
    TftrtException e = assertThrows(TftrtException.class, () -> new TensorFlowBackend(node));
    assertEquals("engine node 'TftrtEngine_8' carries a TensorFlow segment without a node named "
        + "tftrt_output_0 for its output 0.", e.getMessage());
    EngineNode garbage = MODEL.engine("TftrtEngine_9").segment(ByteString.copyFromUtf8("\u00ff\u00ffjunk")).build();
    e = assertThrows(TftrtException.class, () -> new TensorFlowBackend(garbage));
    assertTrue(e.getMessage().startsWith("engine node 'TftrtEngine_9' carries a TensorFlow segment"),
        e.getMessage());
  }

  // ---- through TensorFlow ----

  /** A corrupt ONNX model fails the Session.run with the node's name; the JVM and TF live on. */
  @Test
  void aCorruptOnnxAttrFailsTheRunNamingTheNodeAndTheJvmLives() {
    String name = unique("TftrtEngine");
    String key = unique("bad");
    EngineNode node = MODEL.engine(name).onnx("garbage".getBytes()).backend("onnxruntime")
        .key(key).build();
    Map<String, HostTensor> feeds = MODEL.feeds(3, 5);
    try (EngineRegistry.Registration f = EngineRegistry.addFactory(Backends.factoryForKeys(null, key));
        Graph g = importGraph(MODEL.converted(node));
        Session s = new Session(g)) {
      for (int attempt = 0; attempt < 2; attempt++) { // the failure is cached, and stays an error
        TensorFlowException e = assertThrows(TensorFlowException.class,
            () -> run(s, feeds, MODEL.convertedFetches()));
        assertTrue(e.getMessage().contains("engine node '" + name + "' carries an ONNX model that "
            + "ONNX Runtime cannot load"), e.getMessage());
      }
    }
    // A good graph runs afterwards.
    BackendRunTest.checkAgainstTensorFlow(MODEL, "onnxruntime", null, 2);
  }

  @Test
  void explicitTensorRtThroughTensorFlowIsTheSameSentence() {
    org.junit.jupiter.api.Assumptions.assumeFalse(dev.tftrt.build.GpuDetection.detect().usable(), "a GPU is usable here");
    String name = unique("TftrtEngine");
    String key = unique("trt");
    EngineNode node = MODEL.engine(name).backend("tensorrt").key(key).build();
    try (EngineRegistry.Registration f = EngineRegistry.addFactory(Backends.factoryForKeys(null, key));
        Graph g = importGraph(MODEL.converted(node));
        Session s = new Session(g)) {
      TensorFlowException e = assertThrows(TensorFlowException.class,
          () -> run(s, MODEL.feeds(1, 1), MODEL.convertedFetches()));
      assertTrue(e.getMessage().contains("engine node '" + name + "' " + TRT_SENTENCE), e.getMessage());
    }
  }

  /** Scoped factories leave other nodes alone, so two loaded models do not take each other's. */
  @Test
  void scopedFactoriesOnlyServeTheirOwnKeys() throws Exception {
    String keyA = unique("modelA") + "/";
    String keyB = unique("modelB") + "/";
    EngineBackendFactory a = Backends.factoryForKeys(Backend.ONNXRUNTIME, keyA);
    EngineBackendFactory b = Backends.factoryForKeys(Backend.TENSORFLOW, keyB);
    EngineNode nodeA = MODEL.engine("e").key(keyA + "e").build();
    EngineNode nodeB = MODEL.engine("e").key(keyB + "e").build();
    assertNull(a.create(nodeB));
    assertNull(b.create(nodeA));
    try (EngineBackend ba = a.create(nodeA); EngineBackend bb = b.create(nodeB)) {
      assertEquals("onnxruntime", ba.describe());
      assertEquals("tensorflow", bb.describe());
    }
  }
}
