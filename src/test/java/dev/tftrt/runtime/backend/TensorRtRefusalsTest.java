package dev.tftrt.runtime.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tftrt.TftrtException;
import dev.tftrt.build.ShapeRange;
import org.junit.jupiter.api.Test;

/** What the tensorrt backend refuses per call, decided before any CUDA call, in one sentence each. */
class TensorRtRefusalsTest {
  @Test
  void aShapeOutsideTheProfileIsOneSentenceNamingInputAndProfile() {
    ShapeRange r = ShapeRange.parse("image:0=1,16,16,3:8,16,16,3:32,16,16,3");
    TensorRtBackend.checkProfile("TftrtEngine_0", 0, "image:0", r, new long[] {32, 16, 16, 3}); // the max is inside
    TftrtException e = assertThrows(TftrtException.class,
        () -> TensorRtBackend.checkProfile("TftrtEngine_0", 0, "image:0", r, new long[] {33, 16, 16, 3}));
    assertEquals("engine node 'TftrtEngine_0' input 0 ('image:0') has the shape " + dev.tftrt.runtime.engine.EngineNode
        .describeShape(new long[] {33, 16, 16, 3}) + ", outside its TensorRT engine's profile " + r.canonical()
        + "; rebuild the engine with a --shape-range that covers it.", e.getMessage());
  }

  @Test
  void outputBytesAreTheResolvedShapeTimesTheElementSizeAndAnUnresolvedOneIsRefused() {
    assertEquals(8 * 10 * 4, TensorRtBackend.outputBytes("TftrtEngine_0", "logits:0", new long[] {8, 10}, 4));
    assertEquals(2, TensorRtBackend.outputBytes("TftrtEngine_0", "s:0", new long[] {}, 2), "a scalar is one element");
    TftrtException e = assertThrows(TftrtException.class,
        () -> TensorRtBackend.outputBytes("TftrtEngine_0", "boxes:0", new long[] {-1, 4}, 4));
    assertEquals("engine node 'TftrtEngine_0' output 'boxes:0' has a shape that depends on the input values, which the"
        + " tensorrt backend does not support; use --backend onnxruntime.", e.getMessage());
    assertThrows(ArithmeticException.class,
        () -> TensorRtBackend.outputBytes("TftrtEngine_0", "huge:0", new long[] {1L << 40, 1L << 40}, 4));
  }
}
