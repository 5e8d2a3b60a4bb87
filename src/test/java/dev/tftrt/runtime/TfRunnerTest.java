package dev.tftrt.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.TftrtException;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.model.TfModel;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.testing.TestModels;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TFloat32;

/** TfModel.load + TfRunner on half_plus_two (TF1 and TF2): results, and feeds that do not fit. */
class TfRunnerTest {
  static Path tf2Path;
  static Path tf1Path;
  static TfRunner tf2;
  static TfRunner tf1;

  @BeforeAll
  static void load() {
    if (!java.nio.file.Files.isDirectory(TestModels.sharedModels())) return; // each test skips
    tf2Path = TestModels.sharedModels().resolve("half_plus_two_tf2");
    tf1Path = TestModels.sharedModels().resolve("half_plus_two_tf1");
    tf2 = new TfRunner(TfModel.load(LoadOptions.of(tf2Path)));
    tf1 = new TfRunner(TfModel.load(LoadOptions.of(tf1Path)));
  }

  @AfterAll
  static void close() {
    if (tf2 != null) tf2.close();
    if (tf1 != null) tf1.close();
  }

  @Test
  @DisplayName("half_plus_two_tf2: y = 0.5 x + 2")
  void tf2HalfPlusTwo() {
    TestModels.requireSharedModels();
    for (float x : new float[] {4f, 0f, -7.5f}) {
      HostTensor y = tf2.run(Map.of("x", HostTensor.ofFloats(new long[] {1}, x))).get("y");
      assertEquals(DataType.DT_FLOAT, y.dtype());
      assertArrayEquals(new long[] {1}, y.shape());
      assertArrayEquals(new float[] {0.5f * x + 2}, TestModels.floats(y), "x = " + x);
    }
  }

  @Test
  @DisplayName("half_plus_two_tf1: y = 0.5 x + 2 on a batch of 4")
  void tf1HalfPlusTwo() {
    TestModels.requireSharedModels();
    HostTensor y = tf1.run(Map.of("x", HostTensor.ofFloats(new long[] {4, 1}, 4f, 0f, -2f, 10f))).get("y");
    assertArrayEquals(new long[] {4, 1}, y.shape());
    assertArrayEquals(new float[] {4f, 2f, 1f, 7f}, TestModels.floats(y));
  }

  @Test
  @DisplayName("inputs and outputs are the serving_default signature's")
  void signatureSpecs() {
    TestModels.requireSharedModels();
    assertEquals(List.of(new TensorSpec("x", "serving_default_x:0", DataType.DT_FLOAT, new long[] {1})), tf2.inputs());
    assertEquals(List.of("y"), tf2.outputs().stream().map(TensorSpec::key).toList());
    assertEquals(List.of(new TensorSpec("x", "x:0", DataType.DT_FLOAT, new long[] {-1, 1})), tf1.inputs());
    assertEquals("serving_default", tf1.model().signature());
    assertEquals(List.of("serve"), tf1.model().tags());
    assertEquals(tf2Path.toString(), tf2.describe());
  }

  @Test
  @DisplayName("a feed of the wrong dtype")
  void wrongDtype() {
    TestModels.requireSharedModels();
    TftrtException e = assertThrows(TftrtException.class,
        () -> tf2.run(Map.of("x", HostTensor.ofInts(new long[] {1}, 4))));
    assertEquals("input 'x' of " + tf2Path + " takes float32, but int32 was given.", e.getMessage());
  }

  @Test
  @DisplayName("a feed of the wrong shape")
  void wrongShape() {
    TestModels.requireSharedModels();
    TftrtException e = assertThrows(TftrtException.class,
        () -> tf2.run(Map.of("x", HostTensor.ofFloats(new long[] {2}, 1f, 2f))));
    assertEquals("input 'x' of " + tf2Path + " takes shape [1], but [2] was given.", e.getMessage());
  }

  @Test
  @DisplayName("a feed of the wrong rank where the batch dimension is unknown")
  void wrongRank() {
    TestModels.requireSharedModels();
    TftrtException e = assertThrows(TftrtException.class,
        () -> tf1.run(Map.of("x", HostTensor.ofFloats(new long[] {3}, 1f, 2f, 3f))));
    assertEquals("input 'x' of " + tf1Path + " takes shape [?, 1], but [3] was given.", e.getMessage());
  }

  @Test
  @DisplayName("a missing feed")
  void missingFeed() {
    TestModels.requireSharedModels();
    TftrtException e = assertThrows(TftrtException.class, () -> tf2.run(Map.of()));
    assertEquals("input 'x' of " + tf2Path + " was not given.", e.getMessage());
  }

  @Test
  @DisplayName("a feed the model does not take")
  void unknownFeed() {
    TestModels.requireSharedModels();
    TftrtException e = assertThrows(TftrtException.class, () -> tf2.run(Map.of(
        "x", HostTensor.ofFloats(new long[] {1}, 1f), "z", HostTensor.ofFloats(new long[] {1}, 1f))));
    assertEquals(tf2Path + " has no input 'z'; its inputs are: x.", e.getMessage());
  }

  @Test
  @DisplayName("a graph that fails inside TensorFlow reports the model and TF's first line")
  void runtimeFailure() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> v = tf.withName("v").placeholder(TFloat32.class, Placeholder.shape(Shape.unknown()));
      tf.withName("square").reshape(v, tf.constant(new int[] {2, 2}));
      TensorSpec in = new TensorSpec("v", "v:0", DataType.DT_FLOAT, null);
      TensorSpec out = new TensorSpec("square", "square:0", DataType.DT_FLOAT, new long[] {2, 2});
      try (TfRunner r = new TfRunner(TfModel.fromGraphDef(g.toGraphDef(), "reshape.pb", List.of(in), List.of(out)))) {
        assertArrayEquals(new long[] {2, 2},
            r.run(Map.of("v", HostTensor.ofFloats(new long[] {4}, 1, 2, 3, 4))).get("square").shape());
        TftrtException e = assertThrows(TftrtException.class,
            () -> r.run(Map.of("v", HostTensor.ofFloats(new long[] {3}, 1, 2, 3))));
        // Shape inference on the feed's shape sees it before the kernel does (FeedShapes).
        assertTrue(e.getMessage().startsWith("input 'v' of reshape.pb cannot take shape [3]: "), e.getMessage());
        assertTrue(e.getMessage().contains("Cannot reshape a tensor with 3 elements to shape [2,2] (4 elements)"
            + " at node 'square' (Reshape)"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
      }
    }
  }

  @Test
  @DisplayName("a borrowing runner leaves the model open")
  void borrowingDoesNotClose() {
    TestModels.requireSharedModels();
    try (TfRunner b = TfRunner.borrowing(tf2.model())) {
      assertEquals(1, b.run(Map.of("x", HostTensor.ofFloats(new long[] {1}, 2f))).size());
    }
    assertArrayEquals(new float[] {3f},
        TestModels.floats(tf2.run(Map.of("x", HostTensor.ofFloats(new long[] {1}, 2f))).get("y")));
  }
}
