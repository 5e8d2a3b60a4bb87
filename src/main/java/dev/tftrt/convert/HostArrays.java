package dev.tftrt.convert;

import dev.tftrt.TftrtException;
import dev.tftrt.tensor.DTypes;
import dev.tftrt.tensor.HostTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.tensorflow.proto.DataType;

/** Small host-side computations on constant weights (done once at conversion time). */
public final class HostArrays {
  private HostArrays() {}

  /** All elements as longs (integer or float constants, truncated). */
  public static long[] toLongs(HostTensor t) {
    long[] r = new long[(int) t.numElements()];
    ByteBuffer b = t.data();
    for (int i = 0; i < r.length; i++) {
      if (t.dtype() == DataType.DT_INT64) r[i] = b.getLong(i * 8);
      else r[i] = (long) t.getDouble(i);
    }
    return r;
  }

  public static double[] toDoubles(HostTensor t) {
    double[] r = new double[(int) t.numElements()];
    for (int i = 0; i < r.length; i++) r[i] = t.getDouble(i);
    return r;
  }

  public static HostTensor int64s(long[] shape, long... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    b.asLongBuffer().put(values);
    return HostTensor.of(DataType.DT_INT64, shape, b);
  }

  public static HostTensor vector(long... values) {
    return int64s(new long[] {values.length}, values);
  }

  /** A tensor of dtype filled from doubles. */
  public static HostTensor of(DataType dtype, long[] shape, double... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * DTypes.byteSize(dtype)).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < values.length; i++) HostTensor.putDouble(b, i, dtype, values[i]);
    return HostTensor.of(dtype, shape, b);
  }

  /** Permutes the axes of a numeric tensor: out.shape[i] = in.shape[perm[i]]. */
  public static HostTensor transpose(HostTensor t, int... perm) {
    long[] in = t.shape();
    int r = in.length;
    if (perm.length != r) throw new IllegalArgumentException("perm rank mismatch");
    long[] out = new long[r];
    for (int i = 0; i < r; i++) out[i] = in[perm[i]];
    long[] inStrides = strides(in);
    int es = DTypes.byteSize(t.dtype());
    long n = t.numElements();
    ByteBuffer src = t.data();
    ByteBuffer dst = ByteBuffer.allocate((int) (n * es)).order(ByteOrder.LITTLE_ENDIAN);
    long[] idx = new long[r];
    byte[] tmp = new byte[es];
    for (long k = 0; k < n; k++) {
      long off = 0;
      for (int i = 0; i < r; i++) off += idx[i] * inStrides[perm[i]];
      src.position((int) (off * es));
      src.get(tmp);
      dst.put(tmp);
      for (int i = r - 1; i >= 0; i--) {
        if (++idx[i] < out[i]) break;
        idx[i] = 0;
      }
    }
    dst.flip();
    return HostTensor.of(t.dtype(), out, dst);
  }

  public static HostTensor reshape(HostTensor t, long... shape) {
    if (HostTensor.numElements(shape) != t.numElements()) {
      throw new TftrtException("cannot reshape " + t + " to " + java.util.Arrays.toString(shape) + ".");
    }
    return HostTensor.of(t.dtype(), shape, t.data());
  }

  /** Element-wise conversion to another dtype. */
  public static HostTensor cast(HostTensor t, DataType to) {
    if (t.dtype() == to) return t;
    long n = t.numElements();
    ByteBuffer b = ByteBuffer.allocate((int) (n * DTypes.byteSize(to))).order(ByteOrder.LITTLE_ENDIAN);
    if (to == DataType.DT_INT64 && DTypes.isInteger(t.dtype())) {
      long[] v = toLongs(t);
      for (int i = 0; i < n; i++) b.putLong(i * 8, v[i]);
    } else {
      for (long i = 0; i < n; i++) HostTensor.putDouble(b, i, to, t.getDouble(i));
    }
    return HostTensor.of(to, t.shape(), b);
  }

  static long[] strides(long[] shape) {
    long[] s = new long[shape.length];
    long acc = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      s[i] = acc;
      acc *= shape[i];
    }
    return s;
  }
}
