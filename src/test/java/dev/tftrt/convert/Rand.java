package dev.tftrt.convert;

import dev.tftrt.tensor.HostTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.tensorflow.proto.DataType;

/** Seeded random test inputs. */
public final class Rand {
  private final SplittableRandom r;

  public Rand(long seed) {
    r = new SplittableRandom(seed);
  }

  /** Uniform in [lo, hi). */
  public HostTensor uniform(DataType dtype, long[] shape, double lo, double hi) {
    int n = (int) HostTensor.numElements(shape);
    ByteBuffer b = ByteBuffer.allocate(n * dev.tftrt.tensor.DTypes.byteSize(dtype))
        .order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      double v = lo + (hi - lo) * r.nextDouble();
      if (dev.tftrt.tensor.DTypes.isInteger(dtype)) v = Math.floor(v);
      HostTensor.putDouble(b, i, dtype, v);
    }
    return HostTensor.of(dtype, shape, b);
  }

  public HostTensor floats(long... shape) {
    return uniform(DataType.DT_FLOAT, shape, -2, 2);
  }

  public HostTensor range(double lo, double hi, long... shape) {
    return uniform(DataType.DT_FLOAT, shape, lo, hi);
  }

  public HostTensor ints(int lo, int hiExclusive, long... shape) {
    return uniform(DataType.DT_INT32, shape, lo, hiExclusive);
  }

  public HostTensor bools(long... shape) {
    int n = (int) HostTensor.numElements(shape);
    ByteBuffer b = ByteBuffer.allocate(n);
    for (int i = 0; i < n; i++) b.put(i, (byte) (r.nextBoolean() ? 1 : 0));
    return HostTensor.of(DataType.DT_BOOL, shape, b);
  }
}
