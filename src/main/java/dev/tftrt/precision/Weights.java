package dev.tftrt.precision;

import com.google.protobuf.ByteString;
import dev.tftrt.convert.onnx.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** FP32 ONNX tensors read as floats and written as FP16 (raw little-endian data). */
final class Weights {
  private Weights() {}

  static float[] floats(TensorProto t) {
    if (t.hasRawData()) {
      ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      float[] f = new float[b.remaining() / 4];
      b.asFloatBuffer().get(f);
      return f;
    }
    float[] f = new float[t.getFloatDataCount()];
    for (int i = 0; i < f.length; i++) f[i] = t.getFloatData(i);
    return f;
  }

  static double maxAbs(TensorProto t) {
    double m = 0;
    for (float f : floats(t)) {
      if (Float.isNaN(f)) continue;
      m = Math.max(m, Math.abs(f));
    }
    return m;
  }

  static TensorProto toHalf(TensorProto t, String name) {
    float[] f = floats(t);
    ByteBuffer b = ByteBuffer.allocate(f.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (float x : f) b.putShort(Half.fromFloat(x));
    TensorProto.Builder h = t.toBuilder().clearFloatData().clearRawData()
        .setDataType(ElementTypes.FLOAT16).setRawData(ByteString.copyFrom(b.array()));
    if (name != null && !name.isEmpty()) h.setName(name);
    return h.build();
  }
}
