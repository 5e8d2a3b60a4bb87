package dev.tftrt.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tftrt.TftrtException;
import dev.tftrt.testing.Loads;
import dev.tftrt.testing.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.DataType;

/** Opening each model form: what inputs, outputs, signature and tags it is called through. */
class TfModelTest {
  @TempDir Path tmp;

  private static List<TensorSpec> specs(TensorSpec... s) {
    return List.of(s);
  }

  @Test
  @DisplayName("regression SavedModel: signature serving_default, X (unknown rank) -> pred")
  void regressionSavedModel() {
    try (TfModel m = TfModel.load(LoadOptions.of(TestModels.shared("regression/saved_model")))) {
      assertEquals(ModelFormat.SAVED_MODEL, m.format());
      assertEquals("serving_default", m.signature());
      assertEquals(List.of("serve"), m.tags());
      // the signature leaves X's rank unknown
      assertEquals(specs(new TensorSpec("X", "X:0", DataType.DT_FLOAT, null)), m.inputs());
      assertEquals(List.of("pred"), m.outputs().stream().map(TensorSpec::key).toList());
    }
  }

  @Test
  @DisplayName("regression .meta with --outputs pred: inputs are the Placeholders feeding it")
  void regressionMeta() {
    try (TfModel m = TfModel.load(LoadOptions.of(TestModels.shared("regression/checkpoint/model.meta"))
        .withOutputs(List.of("pred")))) {
      assertEquals(ModelFormat.META_CHECKPOINT, m.format());
      assertNull(m.signature());
      assertEquals(List.of("X"), m.inputs().stream().map(TensorSpec::key).toList());
      assertEquals(List.of("pred:0"), m.outputs().stream().map(TensorSpec::tensor).toList());
    }
  }

  @Test
  @DisplayName(".meta found through the 'checkpoint' index file when its stem has no checkpoint")
  void metaThroughCheckpointFile() throws IOException {
    Path src = TestModels.shared("regression/checkpoint");
    for (String f : List.of("checkpoint", "model.index", "model.data-00000-of-00001")) {
      TestModels.copyWritable(src.resolve(f), tmp.resolve(f));
    }
    Path meta = TestModels.copyWritable(src.resolve("model.meta"), tmp.resolve("graph.meta"));
    assertEquals(tmp.resolve("model").toString(), TfModel.checkpointPrefix(meta, null));
    try (TfModel m = TfModel.load(LoadOptions.of(meta).withOutputs(List.of("pred")))) {
      assertEquals(1, m.outputs().size());
    }
  }

  @Test
  @DisplayName("--checkpoint given explicitly, with or without .index")
  void explicitCheckpoint() throws IOException {
    Path meta = TestModels.copyWritable(TestModels.shared("regression/checkpoint/model.meta"), tmp.resolve("m.meta"));
    Path prefix = TestModels.shared("regression/checkpoint").resolve("model");
    assertEquals(prefix.toString(), TfModel.checkpointPrefix(meta, prefix));
    assertEquals(prefix.toString(), TfModel.checkpointPrefix(meta, Path.of(prefix + ".index")));
    try (TfModel m = TfModel.load(Loads.of(meta).checkpoint(prefix).outputs("pred").build())) {
      assertEquals(List.of("X"), m.inputs().stream().map(TensorSpec::key).toList());
    }
  }

  @Test
  @DisplayName("a --checkpoint without an index file")
  void checkpointWithoutIndex() {
    Path meta = TestModels.shared("regression/checkpoint/model.meta");
    Path prefix = tmp.resolve("nope");
    TftrtException e = assertThrows(TftrtException.class,
        () -> TfModel.load(Loads.of(meta).checkpoint(prefix).outputs("pred").build()));
    assertEquals("checkpoint " + prefix + " has no index file " + prefix + ".index.", e.getMessage());
  }

  @Test
  @DisplayName("a frozen graph without sidecar: Placeholders in, unconsumed nodes out")
  void frozenGraphWithoutSidecar() {
    try (TfModel m = TfModel.load(LoadOptions.of(TestModels.shared("mlp-fc-layers/frozen.pb")))) {
      assertEquals(ModelFormat.GRAPHDEF, m.format());
      assertEquals(specs(new TensorSpec("X", "X:0", DataType.DT_FLOAT, new long[] {-1, 784})), m.inputs());
      assertEquals(specs(new TensorSpec("output", "output:0", DataType.DT_FLOAT, new long[] {-1, 10})), m.outputs());
    }
  }

  @Test
  @DisplayName("half_plus_two_tf1 with --signature regress_x_to_y takes serialized tf.Examples")
  void otherSignature() {
    Path dir = TestModels.shared("half_plus_two_tf1");
    try (TfModel m = TfModel.load(Loads.of(dir).signature("regress_x_to_y").build())) {
      assertEquals("regress_x_to_y", m.signature());
      assertEquals(1, m.inputs().size());
      assertEquals(DataType.DT_STRING, m.inputs().get(0).dtype());
      assertEquals(List.of("outputs"), m.outputs().stream().map(TensorSpec::key).toList());
    }
  }

  @Test
  @DisplayName("a GraphDef in text format with a scalar input")
  void textGraph() throws IOException {
    Path pb = tmp.resolve("scalar.pb");
    TestModels.writeScalarGraph(pb);
    Path txt = Files.writeString(tmp.resolve("scalar.pbtxt"), TestModels.readGraphDef(pb).toString());
    try (TfModel m = TfModel.load(LoadOptions.of(txt))) {
      assertEquals(ModelFormat.GRAPHDEF_TEXT, m.format());
      assertEquals(specs(new TensorSpec("s", "s:0", DataType.DT_FLOAT, new long[0])), m.inputs());
      assertEquals(List.of("out:0"), m.outputs().stream().map(TensorSpec::tensor).toList());
      assertArrayEquals(new long[0], m.outputs().get(0).shape());
    }
  }

  @Test
  @DisplayName("a GraphDef that still has variables")
  void graphDefWithVariables() throws IOException {
    Path saved = tmp.resolve("sm");
    TestModels.saveTwoOutputModel(saved, 1);
    Path pb = tmp.resolve("unfrozen.pb");
    try (TfModel m = TfModel.load(LoadOptions.of(saved))) {
      Files.write(pb, m.graphDef().toByteArray());
    }
    TftrtException e = assertThrows(TftrtException.class, () -> TfModel.load(LoadOptions.of(pb)));
    assertEquals(pb + " is a GraphDef with variables but no checkpoint: freeze it from its SavedModel or .meta file.",
        e.getMessage());
  }

  @Test
  @DisplayName("a GraphDef TensorFlow cannot import")
  void unimportableGraph() throws IOException {
    Path pb = Files.write(tmp.resolve("bad.pb"), org.tensorflow.proto.GraphDef.newBuilder()
        .addNode(org.tensorflow.proto.NodeDef.newBuilder().setName("a").setOp("NoSuchOpAnywhere"))
        .build().toByteArray());
    TftrtException e = assertThrows(TftrtException.class, () -> TfModel.load(LoadOptions.of(pb)));
    assertEquals(true, e.getMessage().startsWith(pb + " could not be imported into TensorFlow: "), e.getMessage());
    assertEquals(true, e.getMessage().contains("NoSuchOpAnywhere"), e.getMessage());
  }
}
