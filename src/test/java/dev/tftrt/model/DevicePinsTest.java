package dev.tftrt.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.demo.DemoModel;
import dev.tftrt.pipeline.FreezeJob;
import dev.tftrt.pipeline.ConvertJob;
import dev.tftrt.testing.KerasLikeModels;
import dev.tftrt.testing.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;

/**
 * Issue 8, class 1: a model exported on a GPU machine has its nodes pinned to /device:GPU:0;
 * this machine has no GPU, so TensorFlow refuses to place them ("Cannot assign a device"). Freezing
 * and converting must not depend on the devices a model was exported with, and what they write
 * carries no pins.
 */
class DevicePinsTest {
  private static final String GPU = "/device:GPU:0";

  @TempDir Path tmp;

  /** Pins every node of every MetaGraph (function bodies too) of the SavedModel to device. */
  static void pin(Path dir, String device) throws IOException {
    Path pb = dir.resolve("saved_model.pb");
    SavedModel.Builder sm = SavedModel.parseFrom(Files.readAllBytes(pb)).toBuilder();
    for (int m = 0; m < sm.getMetaGraphsCount(); m++) {
      MetaGraphDef.Builder meta = sm.getMetaGraphsBuilder(m);
      meta.setGraphDef(pin(meta.getGraphDef(), device));
    }
    Files.write(pb, sm.build().toByteArray());
  }

  static GraphDef pin(GraphDef g, String device) {
    GraphDef.Builder b = g.toBuilder();
    for (NodeDef.Builder n : b.getNodeBuilderList()) n.setDevice(device);
    for (FunctionDef.Builder f : b.getLibraryBuilder().getFunctionBuilderList()) {
      for (NodeDef.Builder n : f.getNodeDefBuilderList()) n.setDevice(device);
    }
    return b.build();
  }

  static void assertNoPins(GraphDef g, String what) {
    assertFalse(Normalizer.hasDevices(g), what + " carries device pins");
  }

  private static void freezesAndConverts(Path model, Path tmp) throws IOException {
    FreezeJob.Report f = FreezeJob.run(new FreezeJob.Options(LoadOptions.of(model), tmp.resolve("frozen.pb"),
        true, 0, Map.of()));
    assertTrue(f.verification().passed());
    assertNoPins(TestModels.readGraphDef(tmp.resolve("frozen.pb")), "frozen.pb");
    ConvertJob.Report c = ConvertJob.run(ConvertJob.Options.of(LoadOptions.of(model), tmp.resolve("converted"))
        .withKeepFrozen(true));
    assertTrue(c.verification().passed());
    assertTrue(c.engines().size() >= 1);
    assertNoPins(c.converted(), "the converted graph");
    SavedModel written = SavedModel.parseFrom(Files.readAllBytes(tmp.resolve("converted/saved_model.pb")));
    assertNoPins(written.getMetaGraphs(0).getGraphDef(), "the converted saved_model.pb");
    assertNoPins(TestModels.readGraphDef(tmp.resolve("converted/frozen.pb")), "the converted folder's frozen.pb");
  }

  @Test
  void tf1SavedModelPinnedToAGpuFreezesAndConverts() throws IOException {
    Path model = tmp.resolve("demo");
    DemoModel.save(model, 5);
    pin(model, GPU);
    freezesAndConverts(model, tmp);
  }

  @Test
  void kerasLikeSavedModelWithPinnedFunctionBodiesFreezesAndConverts() throws IOException {
    Path model = tmp.resolve("keras");
    KerasLikeModels.saveConvNet(model, 6);
    pin(model, GPU);
    freezesAndConverts(model, tmp);
  }

  private static java.util.Set<String> scratchFolders() throws IOException {
    try (var s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("tftrt-unpinned-"))
          .collect(java.util.stream.Collectors.toSet());
    }
  }

  /**
   * Pins from a distributed export name a job and task this process does not have, which soft
   * placement does not forgive: TensorFlow's loader gets the graph unpinned, the model's folder
   * is left as it was, and the stand-in folder is gone once the model is closed.
   */
  @Test
  void pinsToAnotherJobAndTaskFreezeAndConvert() throws IOException {
    Path model = tmp.resolve("keras");
    KerasLikeModels.saveConvNet(model, 8);
    pin(model, "/job:worker/replica:0/task:3/device:GPU:1");
    byte[] before = Files.readAllBytes(model.resolve("saved_model.pb"));
    java.util.Set<String> scratch = scratchFolders();
    freezesAndConverts(model, tmp);
    assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(model.resolve("saved_model.pb"))));
    assertTrue(scratch.containsAll(scratchFolders()), "a stand-in folder was left behind");
  }

  @Test
  void frozenGraphPinnedToAGpuConverts() throws IOException {
    Path model = tmp.resolve("demo");
    DemoModel.save(model, 7);
    FreezeJob.run(new FreezeJob.Options(LoadOptions.of(model), tmp.resolve("plain.pb"), false, 0, Map.of()));
    Path pinned = tmp.resolve("pinned.pb");
    Files.write(pinned, pin(TestModels.readGraphDef(tmp.resolve("plain.pb")), GPU).toByteArray());
    Files.copy(tmp.resolve("plain.json"), tmp.resolve("pinned.json"));
    ConvertJob.Report c = ConvertJob.run(ConvertJob.Options.of(LoadOptions.of(pinned), tmp.resolve("converted")));
    assertTrue(c.verification().passed());
    assertNoPins(c.converted(), "the converted graph");
  }

  /** A real TF2 SavedModel (pinned to the CPU when it was exported), re-pinned to a GPU. */
  @Test
  void realSavedModelRepinnedToAGpuFreezesAndConverts() throws IOException {
    Path model = TestModels.copyTree(TestModels.shared("half_plus_two_tf2"), tmp.resolve("hp2"));
    assertTrue(Normalizer.hasDevices(SavedModel.parseFrom(Files.readAllBytes(model.resolve("saved_model.pb")))
        .getMetaGraphs(0).getGraphDef()), "the published model carries device pins");
    pin(model, GPU);
    FreezeJob.Report f = FreezeJob.run(new FreezeJob.Options(LoadOptions.of(model), tmp.resolve("frozen.pb"),
        true, 0, Map.of()));
    assertTrue(f.verification().passed());
    assertEquals(2, f.result().variablesFrozen());
    assertNoPins(TestModels.readGraphDef(tmp.resolve("frozen.pb")), "frozen.pb");
  }

  /** A real TF1 .meta + checkpoint (pinned to the CPU when it was exported), re-pinned to a GPU. */
  @Test
  void realMetaGraphRepinnedToAGpuFreezes() throws IOException {
    Path dir = TestModels.copyTree(TestModels.shared("regression/checkpoint"), tmp.resolve("ckpt"));
    Path meta = dir.resolve("model.meta");
    MetaGraphDef m = MetaGraphDef.parseFrom(Files.readAllBytes(meta));
    assertTrue(Normalizer.hasDevices(m.getGraphDef()), "the published model carries device pins");
    Files.write(meta, m.toBuilder().setGraphDef(pin(m.getGraphDef(), GPU)).build().toByteArray());
    FreezeJob.Report f = FreezeJob.run(new FreezeJob.Options(
        dev.tftrt.testing.Loads.of(meta).outputs("pred").build(), tmp.resolve("frozen.pb"), true, 0, Map.of()));
    assertTrue(f.verification().passed());
    assertEquals(2, f.result().variablesFrozen());
    assertNoPins(TestModels.readGraphDef(tmp.resolve("frozen.pb")), "frozen.pb");
  }

  /** The shared models exported with CPU pins come out of conversion without them. */
  @Test
  void realModelsExportedWithPinsConvertWithoutThem() throws IOException {
    ConvertJob.Report c = ConvertJob.run(ConvertJob.Options.of(
        LoadOptions.of(TestModels.shared("openmv-mobilenet-keras")), tmp.resolve("openmv")));
    assertTrue(c.verification().passed());
    assertNoPins(c.converted(), "the converted graph");
    assertNoPins(c.plan().frozen().graph(), "the frozen graph");
  }
}
