package dev.tftrt.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.TftrtException;
import dev.tftrt.demo.DemoModel;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.pipeline.ConvertJob;
import dev.tftrt.runtime.engine.EngineOp;
import dev.tftrt.runtime.engine.EngineNode;
import dev.tftrt.model.ConvertedModel;
import dev.tftrt.model.Payloads;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;

/** The converted folder's format 2: each payload once, as a file checked by SHA-256; small engine nodes. */
class ConvertedFormatTest {
  @TempDir static Path tmp;
  static Path saved;
  static Path plain;     // default options
  static Path fallback;  // --fallback tensorflow --keep-frozen

  @BeforeAll
  static void convert() {
    saved = tmp.resolve("saved");
    DemoModel.save(saved, 21);
    plain = tmp.resolve("plain");
    ConvertJob.run(ConvertJob.Options.of(LoadOptions.of(saved), plain));
    fallback = tmp.resolve("fallback");
    ConvertJob.run(ConvertJob.Options.of(LoadOptions.of(saved), fallback).withFallback("tensorflow").withKeepFrozen(true));
  }

  private static Map<String, HostTensor> images(long seed) {
    return Map.of("image", TestModels.randomFloats(seed, 2, 16, 16, 3));
  }

  private static NodeDef engineNode(Path dir) {
    return TestModels.convertedGraph(dir).getNodeList().stream().filter(n -> n.getOp().equals(EngineNode.OP))
        .findFirst().orElseThrow();
  }

  @Test
  void defaultFolderHoldsOneGraphFileAndTheOnnxPayloadOnce() throws Exception {
    assertEquals(List.of("payloads", "report.json", "report.md", "saved_model.pb", "tftrt.json", "tftrt.sha256"), TestModels.listing(plain));
    ConvertedModel.Manifest m = ConvertedModel.readManifest(plain);
    assertEquals(2, m.version());
    List<ConvertedModel.Payload> ps = Payloads.list(m, "TftrtEngine_0");
    assertEquals(List.of(Payloads.ONNX), ps.stream().map(ConvertedModel.Payload::kind).toList(), "no tf-segment unless asked");
    ConvertedModel.Payload onnx = ps.get(0);
    assertEquals(Files.size(plain.resolve(onnx.file())), onnx.bytes());
    assertEquals(List.of(onnx.file().substring("payloads/".length())), TestModels.listing(plain.resolve("payloads")));
    // The node carries no payload: a few hundred bytes.
    NodeDef node = engineNode(plain);
    for (String a : EngineNode.PAYLOAD_ATTRS) assertFalse(node.getAttrMap().containsKey(a), a);
    assertTrue(node.getSerializedSize() < 1024, node.getSerializedSize() + " bytes");
  }

  @Test
  void fallbackTensorflowStoresTheSegmentAndKeepFrozenTheFrozenGraph() throws Exception {
    assertTrue(Files.isRegularFile(fallback.resolve("frozen.pb")));
    assertTrue(Files.isRegularFile(fallback.resolve("frozen.json")));
    ConvertedModel.Manifest m = ConvertedModel.readManifest(fallback);
    ConvertedModel.Payload seg = Payloads.find(m, "TftrtEngine_0", Payloads.TF_SEGMENT).orElseThrow();
    GraphDef.parseFrom(Payloads.read(fallback, "TftrtEngine_0", seg)); // a GraphDef
    try (TftrtModel ort = TftrtModel.load(fallback); TftrtModel tf = TftrtModel.load(fallback, dev.tftrt.runtime.backend.Backend.TENSORFLOW)) {
      assertTrue(tf.backends().get("TftrtEngine_0").startsWith("tensorflow"), tf.backends().toString());
      HostTensor a = ort.run(images(1)).get("probabilities");
      HostTensor b = tf.run(images(1)).get("probabilities");
      assertTrue(Comparison.diff("p", a, b, 1e-3, 1e-4).withinTolerance());
    }
  }

  @Test
  void tensorflowBackendWithoutTheStoredSegmentIsOneSentence() {
    TftrtException e = assertThrows(TftrtException.class, () -> TftrtModel.load(plain, dev.tftrt.runtime.backend.Backend.TENSORFLOW).close());
    assertEquals("engine node 'TftrtEngine_0' of " + plain + " cannot run on the tensorflow backend: its original"
        + " segment was not kept; convert the model again with --fallback tensorflow.", e.getMessage());
  }

  @Test
  void missingPayloadFileIsOneSentence() throws Exception {
    Path dir = TestModels.copyTree(plain, tmp.resolve("missing"));
    String file = Payloads.list(ConvertedModel.readManifest(dir), "TftrtEngine_0").get(0).file();
    Files.delete(dir.resolve(file));
    TftrtException e = assertThrows(TftrtException.class, () -> TftrtModel.load(dir).close());
    assertEquals(dir + " is incomplete: " + file + " (the onnx payload of engine 'TftrtEngine_0') is missing;"
        + " convert the model again.", e.getMessage());
  }

  @Test
  void formatOneFolderGetsOneSentenceSayingHowToReconvert() throws Exception {
    Path dir = TestModels.copyTree(plain, tmp.resolve("v1"));
    Path manifest = dir.resolve(ConvertedModel.MANIFEST);
    Files.writeString(manifest, Files.readString(manifest).replace("\"version\" : 2", "\"version\" : 1"));
    TftrtException e = assertThrows(TftrtException.class, () -> TftrtModel.load(dir).close());
    assertEquals(dir + " is a converted model of format 1, which this tftrt no longer reads: convert the original"
        + " model again with tftrt convert.", e.getMessage());
  }

  @Test
  void heavyAttributesAreClearedBeforeImportSoTheKernelBindsASmallNode() throws Exception {
    // A node that still carries a payload (a hand-edited or older graph) must not cost it twice.
    Path dir = TestModels.copyTree(plain, tmp.resolve("heavy"));
    Path pb = dir.resolve("saved_model.pb");
    SavedModel sm = SavedModel.parseFrom(Files.readAllBytes(pb));
    MetaGraphDef meta = sm.getMetaGraphs(0);
    GraphDef.Builder g = meta.getGraphDef().toBuilder();
    AttrValue junk = AttrValue.newBuilder().setS(com.google.protobuf.ByteString.copyFrom(new byte[1 << 20])).build();
    for (int i = 0; i < g.getNodeCount(); i++) {
      NodeDef n = g.getNode(i);
      if (n.getOp().equals(EngineNode.OP)) g.setNode(i, n.toBuilder().putAttr(EngineNode.ATTR_SEGMENT, junk));
    }
    Files.write(pb, sm.toBuilder().setMetaGraphs(0, meta.toBuilder().setGraphDef(g)).build().toByteArray());
    try (TftrtModel m = TftrtModel.load(dir); TftrtModel ref = TftrtModel.load(plain)) {
      assertArrayEquals(new long[] {2, 10}, m.run(images(2)).get("probabilities").shape());
      ref.run(images(2));
    }
    assertTrue(EngineOp.largestBoundNodeDef() < 1024, "a kernel bound a NodeDef of "
        + EngineOp.largestBoundNodeDef() + " bytes");
  }

  @Test
  void payloadsCanBeAddedToAnEngineAndAreCheckedWhenRead() throws Exception {
    Path dir = TestModels.copyTree(plain, tmp.resolve("added"));
    byte[] plan = "not really a plan".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    ConvertedModel.Payload p = Payloads.add(dir, "TftrtEngine_0", Payloads.TENSORRT_PLAN, plan, "fp16",
        Map.of("tensorrt", "11.0", "computeCapability", "9.0"));
    ConvertedModel.Manifest m = ConvertedModel.readManifest(dir);
    assertEquals(List.of(Payloads.ONNX, Payloads.TENSORRT_PLAN),
        Payloads.list(m, "TftrtEngine_0").stream().map(ConvertedModel.Payload::kind).toList());
    ConvertedModel.Payload listed = Payloads.find(m, "TftrtEngine_0", Payloads.TENSORRT_PLAN).orElseThrow();
    assertEquals("fp16", listed.precision());
    assertEquals("9.0", listed.key().get("computeCapability"));
    assertArrayEquals(plan, Payloads.read(dir, "TftrtEngine_0", listed));
    // The same kind and key again replaces the entry; another key adds one.
    Payloads.add(dir, "TftrtEngine_0", Payloads.TENSORRT_PLAN, plan, "fp16", Map.of("tensorrt", "11.0", "computeCapability", "9.0"));
    assertEquals(2, Payloads.list(ConvertedModel.readManifest(dir), "TftrtEngine_0").size());
    try (TftrtModel model = TftrtModel.load(dir)) { // still loads: onnxruntime uses its ONNX payload
      model.run(images(3));
    }
    Files.write(dir.resolve(p.file()), "edited".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    TftrtException e = assertThrows(TftrtException.class, () -> Payloads.read(dir, "TftrtEngine_0", listed));
    assertEquals(dir.resolve(p.file()) + " does not match its SHA-256 in tftrt.json; the folder has been edited:"
        + " convert the model again.", e.getMessage());
    assertThrows(TftrtException.class, () -> Payloads.add(dir, "NoSuchEngine", Payloads.TENSORRT_PLAN, plan, "fp16", Map.of()));
  }
}
