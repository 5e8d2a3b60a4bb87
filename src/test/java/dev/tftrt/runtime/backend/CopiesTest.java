package dev.tftrt.runtime.backend;

import static org.junit.jupiter.api.Assertions.*;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import dev.tftrt.runtime.OnnxRunner;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.types.TFloat32;

/** The copy counts the backends document rest on these library behaviours. */
class CopiesTest {
  /** An engine input is a read-only direct buffer: ONNX Runtime must take it as it is. */
  @Test
  void onnxRuntimeWrapsADirectReadOnlyBufferWithoutCopying() throws Exception {
    ByteBuffer b = ByteBuffer.allocateDirect(6 * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 6; i++) b.putFloat(i * 4, i);
    ByteBuffer in = b.asReadOnlyBuffer().order(ByteOrder.nativeOrder());
    try (OnnxTensor t = OnnxTensor.createTensor(dev.tftrt.runtime.ort.Ort.environment(), in, new long[] {2, 3},
        OnnxJavaType.FLOAT)) {
      assertFalse(t.ownsBuffer(), "ONNX Runtime copied a direct buffer");
      b.putFloat(5 * 4, 42f); // a change to the memory shows through: it is the same memory
      assertEquals(42f, t.getFloatBuffer().get(5));
    }
  }

  @Test
  void aTensorFlowTensorIsViewedInPlace() {
    try (TFloat32 t = Tensor.of(TFloat32.class, Shape.of(2, 3))) {
      ByteBuffer v = NativeMemory.view(t.asRawTensor());
      assertNotNull(v, "TensorFlow Java hid the tensor's address: copies go through byte[]");
      assertTrue(v.isDirect());
      assertEquals(24, v.capacity());
      v.putFloat(4 * 4, 7.5f);
      assertEquals(7.5f, t.getFloat(1, 1));
      t.setFloat(-3f, 0, 2);
      assertEquals(-3f, v.getFloat(2 * 4));
    }
  }
}
