package dev.tftrt.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.TftrtException;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.tensor.HostTensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;

/** Seeded random inputs and their shapes. */
class FeedsTest {
  private static final TensorSpec IMAGE = new TensorSpec("image", "input:0", DataType.DT_FLOAT, new long[] {-1, 4, -1});
  private static final TensorSpec IDS = new TensorSpec("ids", "ids:0", DataType.DT_INT32, new long[] {6});

  @Test
  @DisplayName("unknown dimensions become 1; an unknown rank is refused, naming --shape, not guessed as [1]")
  void unknownDimsBecomeOne() {
    assertArrayEquals(new long[] {1, 4, 1}, Feeds.concreteShape(IMAGE, Map.of()));
    TftrtException e = assertThrows(TftrtException.class,
        () -> Feeds.concreteShape(new TensorSpec("a", "a:0", DataType.DT_FLOAT, null), Map.of()));
    assertEquals("input 'a' has no shape, and nothing in the graph says which: give it with --shape a=D1,D2,...",
        e.getMessage());
  }

  @Test
  @DisplayName("--shape overrides by signature name, tensor name or node name")
  void shapeOverride() {
    assertArrayEquals(new long[] {2, 4, 3}, Feeds.concreteShape(IMAGE, Map.of("image", new long[] {2, 4, 3})));
    assertArrayEquals(new long[] {5, 4, 1}, Feeds.concreteShape(IMAGE, Map.of("input:0", new long[] {5, 4, 1})));
    assertArrayEquals(new long[] {7, 4, 2}, Feeds.concreteShape(IMAGE, Map.of("input", new long[] {7, 4, 2})));
  }

  @Test
  @DisplayName("a --shape that contradicts a known dimension")
  void shapeOverrideMustFit() {
    TftrtException e = assertThrows(TftrtException.class,
        () -> Feeds.concreteShape(IMAGE, Map.of("image", new long[] {2, 5, 3})));
    assertEquals("--shape image=[2, 5, 3] does not fit the input's shape [?, 4, ?].", e.getMessage());
  }

  @Test
  @DisplayName("random inputs depend on the seed only, in the documented ranges")
  void randomIsSeeded() {
    Map<String, HostTensor> a = Feeds.random(List.of(IMAGE, IDS), Map.of("image", new long[] {8, 4, 8}), 5);
    Map<String, HostTensor> b = Feeds.random(List.of(IMAGE, IDS), Map.of("image", new long[] {8, 4, 8}), 5);
    Map<String, HostTensor> c = Feeds.random(List.of(IMAGE, IDS), Map.of("image", new long[] {8, 4, 8}), 6);
    assertTrue(a.get("image").contentEquals(b.get("image")));
    assertTrue(a.get("ids").contentEquals(b.get("ids")));
    assertFalse(a.get("image").contentEquals(c.get("image")));
    HostTensor img = a.get("image");
    assertArrayEquals(new long[] {8, 4, 8}, img.shape());
    for (long i = 0; i < img.numElements(); i++) {
      assertTrue(img.getDouble(i) >= -1 && img.getDouble(i) < 1);
    }
    HostTensor ids = a.get("ids");
    assertEquals(DataType.DT_INT32, ids.dtype());
    for (long i = 0; i < ids.numElements(); i++) {
      assertTrue(ids.getDouble(i) >= 0 && ids.getDouble(i) < 10);
    }
  }

  @Test
  @DisplayName("check accepts any size for an unknown dimension")
  void checkAcceptsUnknownDims() {
    Feeds.check(List.of(IMAGE), Map.of("image", HostTensor.ofFloats(new long[] {3, 4, 1}, new float[12])), "m");
    TftrtException e = assertThrows(TftrtException.class, () -> Feeds.check(List.of(IMAGE),
        Map.of("image", HostTensor.ofFloats(new long[] {3, 3, 1}, new float[9])), "m"));
    assertEquals("input 'image' of m takes shape [?, 4, ?], but [3, 3, 1] was given.", e.getMessage());
  }
}
