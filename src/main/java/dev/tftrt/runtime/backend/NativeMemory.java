package dev.tftrt.runtime.backend;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.tensorflow.RawTensor;
import org.tensorflow.ndarray.buffer.DataStorageVisitor;

/**
 * Direct buffers over native tensor memory, so that the backends copy with the JDK's bulk copy
 * (one memcpy) instead of TensorFlow Java's element-by-element fallback between its raw buffers
 * and NIO buffers.
 */
final class NativeMemory {
  private static final ByteBuffer EMPTY = ByteBuffer.allocateDirect(0).order(ByteOrder.LITTLE_ENDIAN);

  private NativeMemory() {}

  /**
   * A little-endian direct buffer over a TensorFlow tensor's bytes (no copy), valid while the
   * tensor is open; null when TensorFlow Java does not expose the tensor's address.
   */
  static ByteBuffer view(RawTensor t) {
    long bytes = t.numBytes();
    if (bytes == 0) return EMPTY.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    if (bytes > Integer.MAX_VALUE) return null;
    Long address = t.data().accept(new DataStorageVisitor<Long>() {
      @Override
      public Long visit(long address, long length, long scale) {
        return address;
      }

      @Override
      public Long fallback() {
        return null;
      }
    });
    if (address == null || address == 0) return null;
    return view(address, bytes);
  }

  private static ByteBuffer view(long start, long bytes) {
    Pointer at = new Pointer() {
      {
        address = start; // Pointer's protected field
      }
    };
    return new BytePointer(at).capacity(bytes).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }
}
