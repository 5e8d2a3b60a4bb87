package dev.tftrt.runtime;

import dev.tftrt.TftrtException;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.tensor.DTypes;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.util.Memory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.tensorflow.proto.DataType;

/** Building and checking the inputs a model is fed. */
public final class Feeds {
  private Feeds() {}

  /** Every input present with the right dtype and a shape that fits the known dimensions. */
  public static void check(List<TensorSpec> inputs, Map<String, HostTensor> feeds, String model) {
    for (TensorSpec in : inputs) {
      HostTensor t = feeds.get(in.key());
      if (t == null) {
        throw new TftrtException("input '" + in.key() + "' of " + model + " was not given.");
      }
      if (t.dtype() != in.dtype()) {
        throw new TftrtException("input '" + in.key() + "' of " + model + " takes "
            + DTypes.name(in.dtype()) + ", but " + DTypes.name(t.dtype()) + " was given.");
      }
      if (!fits(in.shape(), t.shape())) {
        throw new TftrtException("input '" + in.key() + "' of " + model + " takes shape "
            + dims(in.shape()) + ", but " + dims(t.shape()) + " was given.");
      }
    }
    for (String k : feeds.keySet()) {
      if (inputs.stream().noneMatch(s -> s.key().equals(k))) {
        throw new TftrtException(model + " has no input '" + k + "'; its inputs are: "
            + String.join(", ", inputs.stream().map(TensorSpec::key).toList()) + ".");
      }
    }
  }

  static boolean fits(long[] spec, long[] actual) {
    if (spec == null) return true;
    if (spec.length != actual.length) return false;
    for (int i = 0; i < spec.length; i++) {
      if (spec[i] >= 0 && spec[i] != actual[i]) return false;
    }
    return true;
  }

  public static String dims(long[] shape) {
    return shape == null ? "[unknown rank]" : Arrays.toString(shape).replace("-1", "?");
  }

  /**
   * The concrete shape for an input: a user override, else the spec with unknown dims as 1 (and
   * an unknown rank as [1]).
   */
  public static long[] concreteShape(TensorSpec in, Map<String, long[]> overrides) {
    long[] o = override(in, overrides);
    if (o != null) {
      if (!fits(in.shape(), o)) {
        throw new TftrtException("--shape " + in.key() + "=" + Arrays.toString(o)
            + " does not fit the input's shape " + dims(in.shape()) + ".");
      }
      return o.clone();
    }
    if (in.shape() == null) {
      // Guessing a rank (a vector of one, say) can abort TensorFlow in a kernel that CHECKs it.
      throw new TftrtException("input '" + in.key() + "' has no shape, and nothing in the graph says which: give it with --shape "
          + in.key() + "=D1,D2,...");
    }
    long[] s = in.shape();
    for (int i = 0; i < s.length; i++) if (s[i] < 0) s[i] = 1;
    return s;
  }

  /** The --shape given for an input, by its key, tensor or node name; null if none. */
  public static long[] override(TensorSpec in, Map<String, long[]> overrides) {
    long[] o = overrides.get(in.key());
    if (o == null) o = overrides.get(in.tensor());
    if (o == null) o = overrides.get(dev.tftrt.model.TensorNames.node(in.tensor()));
    return o;
  }

  /** A key for a set of feed shapes, to check each set once. */
  static String shapesKey(Map<String, long[]> shapes) {
    StringBuilder b = new StringBuilder();
    for (Map.Entry<String, long[]> e : shapes.entrySet()) {
      b.append(e.getKey()).append('=').append(Arrays.toString(e.getValue())).append(';');
    }
    return b.toString();
  }

  /** The end of a sentence refusing feed shapes: how to give others. */
  static String shapeHint(List<TensorSpec> inputs) {
    String name = inputs.size() == 1 ? inputs.get(0).key() : "NAME";
    return "; give shapes it takes with --shape " + name + "=D1,D2,... (or an --input of such a shape)";
  }

  /** Every --shape name is one of the inputs (by key, tensor or node name). */
  public static void checkShapeNames(List<TensorSpec> inputs, Map<String, long[]> shapes, String model) {
    for (String name : shapes.keySet()) {
      boolean known = inputs.stream().anyMatch(s -> s.key().equals(name) || s.tensor().equals(name)
          || dev.tftrt.model.TensorNames.node(s.tensor()).equals(name));
      if (!known) {
        throw new TftrtException("--shape names '" + name + "', which is not an input of " + model
            + "; its inputs are: " + String.join(", ", inputs.stream().map(TensorSpec::key).toList()) + ".");
      }
    }
  }

  /**
   * Seeded random inputs: floats uniform in [-1, 1), integers in [0, 10), bools either way,
   * uint8 over its whole range, strings empty (an empty serialized tf.Example is valid).
   */
  public static Map<String, HostTensor> random(List<TensorSpec> inputs, Map<String, long[]> shapes,
      long seed) {
    Random rnd = new Random(seed);
    Map<String, HostTensor> r = new LinkedHashMap<>();
    for (TensorSpec in : inputs) {
      long[] shape = concreteShape(in, shapes);
      DataType dt = in.dtype();
      // Sized in long before allocating: 100000000 x 784 floats would overflow an int count.
      long n = Memory.elements(shape);
      Memory.checkJavaBuffer("input '" + in.key() + "' of shape " + Arrays.toString(shape) + " ("
          + DTypes.name(dt) + ")", Memory.bytes(n, dt == DataType.DT_STRING ? 16 : DTypes.isSupported(dt) ? DTypes.byteSize(dt) : 8));
      if (dt == DataType.DT_STRING) {
        byte[][] v = new byte[(int) n][];
        Arrays.fill(v, new byte[0]);
        r.put(in.key(), HostTensor.ofStrings(shape, v));
        continue;
      }
      if (!DTypes.isSupported(dt)) {
        throw new TftrtException("input '" + in.key() + "' has dtype " + DTypes.name(dt)
            + ", which tftrt cannot generate random values for.");
      }
      ByteBuffer b = ByteBuffer.allocate((int) (n * DTypes.byteSize(dt))).order(ByteOrder.LITTLE_ENDIAN);
      for (long i = 0; i < n; i++) {
        double v;
        if (DTypes.isFloating(dt)) v = rnd.nextDouble() * 2 - 1;
        else if (dt == DataType.DT_BOOL) v = rnd.nextBoolean() ? 1 : 0;
        else if (dt == DataType.DT_UINT8) v = rnd.nextInt(256);
        else v = rnd.nextInt(10);
        HostTensor.putDouble(b, i, dt, v);
      }
      r.put(in.key(), HostTensor.of(dt, shape, b));
    }
    return r;
  }
}
