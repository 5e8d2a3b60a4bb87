package dev.tftrt.convert.passes.push;

import com.google.protobuf.ByteString;
import dev.tftrt.convert.onnx.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/** Reading and permuting small initializers (raw little-endian data, as the exporter writes). */
public final class Tensors {
  private Tensors() {}

  public static boolean isScalarShape(TensorProto k) {
    for (long d : k.getDimsList()) if (d != 1) return false;
    return true;
  }

  public static long numElements(TensorProto t) {
    long n = 1;
    for (long d : t.getDimsList()) n *= d;
    return n;
  }

  /** The values of an int64 or int32 constant; null for other types. */
  public static long[] ints(TensorProto t) {
    int n = (int) numElements(t);
    if (t.getDataType() == TensorProto.DataType.INT64_VALUE) {
      if (!t.hasRawData()) return t.getInt64DataCount() == n ? t.getInt64DataList().stream().mapToLong(Long::longValue).toArray() : null;
      ByteBuffer b = raw(t);
      if (b.remaining() != 8 * n) return null;
      long[] r = new long[n];
      for (int i = 0; i < n; i++) r[i] = b.getLong(i * 8);
      return r;
    }
    if (t.getDataType() == TensorProto.DataType.INT32_VALUE) {
      if (!t.hasRawData()) return t.getInt32DataCount() == n ? t.getInt32DataList().stream().mapToLong(Integer::longValue).toArray() : null;
      ByteBuffer b = raw(t);
      if (b.remaining() != 4 * n) return null;
      long[] r = new long[n];
      for (int i = 0; i < n; i++) r[i] = b.getInt(i * 4);
      return r;
    }
    return null;
  }

  public static float[] floats(TensorProto t) {
    ByteBuffer b = raw(t);
    float[] r = new float[b.remaining() / 4];
    for (int i = 0; i < r.length; i++) r[i] = b.getFloat(i * 4);
    return r;
  }

  private static ByteBuffer raw(TensorProto t) {
    return t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** A 1-D int64 (or int32, when dtype says so) tensor, unnamed. */
  public static TensorProto ints1d(long[] v, int dtype) {
    boolean i32 = dtype == TensorProto.DataType.INT32_VALUE;
    ByteBuffer b = ByteBuffer.allocate(v.length * (i32 ? 4 : 8)).order(ByteOrder.LITTLE_ENDIAN);
    for (long x : v) {
      if (i32) b.putInt((int) x);
      else b.putLong(x);
    }
    b.flip();
    return TensorProto.newBuilder()
        .setDataType(i32 ? TensorProto.DataType.INT32_VALUE : TensorProto.DataType.INT64_VALUE)
        .addDims(v.length).setRawData(ByteString.copyFrom(b)).build();
  }

  /**
   * k, a vector of halves x rank per-axis values of y's layout (roi: starts then ends), in x's
   * layout: value i of each half moves to position p[i].
   */
  public static TensorProto permutedVector(TensorProto k, int[] p, int halves) {
    int rank = p.length;
    int es = elemSize(k.getDataType());
    byte[] src = k.getRawData().toByteArray();
    byte[] dst = new byte[src.length];
    for (int h = 0; h < halves; h++) {
      for (int i = 0; i < rank; i++) System.arraycopy(src, (h * rank + i) * es, dst, (h * rank + p[i]) * es, es);
    }
    return k.toBuilder().setRawData(ByteString.copyFrom(dst)).build();
  }

  /** k aligned to rank (leading 1s, as NumPy broadcasts) and transposed by perm. */
  public static TensorProto transposed(TensorProto k, int rank, int[] perm) {
    long[] shape = new long[rank];
    Arrays.fill(shape, 1);
    int off = rank - k.getDimsCount();
    for (int i = 0; i < k.getDimsCount(); i++) shape[off + i] = k.getDims(i);
    long[] outShape = new long[rank];
    for (int i = 0; i < rank; i++) outShape[i] = shape[perm[i]];
    int es = elemSize(k.getDataType());
    byte[] src = k.getRawData().toByteArray();
    byte[] dst = new byte[src.length];
    long[] strides = new long[rank];
    long acc = 1;
    for (int i = rank - 1; i >= 0; i--) {
      strides[i] = acc;
      acc *= shape[i];
    }
    long n = acc;
    int[] idx = new int[rank];
    for (long e = 0; e < n; e++) {
      long at = 0;
      for (int i = 0; i < rank; i++) at += idx[i] * strides[perm[i]];
      System.arraycopy(src, (int) (at * es), dst, (int) (e * es), es);
      for (int i = rank - 1; i >= 0; i--) {
        if (++idx[i] < outShape[i]) break;
        idx[i] = 0;
      }
    }
    TensorProto.Builder b = k.toBuilder().clearDims().setRawData(ByteString.copyFrom(dst));
    for (long d : outShape) b.addDims(d);
    return b.build();
  }

  private static int elemSize(int type) {
    switch (type) {
      case TensorProto.DataType.DOUBLE_VALUE: case TensorProto.DataType.INT64_VALUE: case TensorProto.DataType.UINT64_VALUE:
        return 8;
      case TensorProto.DataType.FLOAT_VALUE: case TensorProto.DataType.INT32_VALUE: case TensorProto.DataType.UINT32_VALUE:
        return 4;
      case TensorProto.DataType.FLOAT16_VALUE: case TensorProto.DataType.BFLOAT16_VALUE:
      case TensorProto.DataType.INT16_VALUE: case TensorProto.DataType.UINT16_VALUE:
        return 2;
      default:
        return 1;
    }
  }
}
