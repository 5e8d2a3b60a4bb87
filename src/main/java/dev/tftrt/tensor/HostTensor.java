package dev.tftrt.tensor;

import dev.tftrt.TftrtException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.tensorflow.RawTensor;
import org.tensorflow.Tensor;
import org.tensorflow.internal.types.registry.TensorTypeRegistry;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TString;

/**
 * A tensor held in Java memory, independent of any runtime: the currency between TensorFlow,
 * ONNX Runtime, .npy files and comparisons. Numeric data is little-endian, row-major; strings
 * are raw bytes. Immutable.
 */
public final class HostTensor {
  private final DataType dtype;
  private final long[] shape;
  private final ByteBuffer data; // numeric types; null for strings
  private final byte[][] strings; // DT_STRING; null otherwise

  private HostTensor(DataType dtype, long[] shape, ByteBuffer data, byte[][] strings) {
    this.dtype = dtype;
    this.shape = shape.clone();
    this.data = data;
    this.strings = strings;
  }

  public static HostTensor of(DataType dtype, long[] shape, ByteBuffer littleEndianData) {
    if (dtype == DataType.DT_STRING) {
      throw new IllegalArgumentException("use ofStrings for string tensors");
    }
    long expected = numElements(shape) * DTypes.byteSize(dtype);
    if (littleEndianData.remaining() != expected) {
      throw new TftrtException(
          "a " + DTypes.name(dtype) + " tensor of shape " + Arrays.toString(shape) + " needs "
              + expected + " bytes, got " + littleEndianData.remaining() + ".");
    }
    ByteBuffer copy = ByteBuffer.allocate((int) expected).order(ByteOrder.LITTLE_ENDIAN);
    copy.put(littleEndianData.duplicate().order(ByteOrder.LITTLE_ENDIAN));
    copy.flip();
    return new HostTensor(dtype, shape, copy.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN), null);
  }

  public static HostTensor ofStrings(long[] shape, byte[][] values) {
    if (values.length != numElements(shape)) {
      throw new TftrtException("a string tensor of shape " + Arrays.toString(shape) + " needs "
          + numElements(shape) + " values, got " + values.length + ".");
    }
    byte[][] copy = new byte[values.length][];
    for (int i = 0; i < values.length; i++) copy[i] = values[i].clone();
    return new HostTensor(DataType.DT_STRING, shape, null, copy);
  }

  public static HostTensor ofFloats(long[] shape, float... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return of(DataType.DT_FLOAT, shape, b);
  }

  public static HostTensor ofInts(long[] shape, int... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asIntBuffer().put(values);
    return of(DataType.DT_INT32, shape, b);
  }

  public static HostTensor scalarOf(DataType dtype, double value) {
    ByteBuffer b = ByteBuffer.allocate(DTypes.byteSize(dtype)).order(ByteOrder.LITTLE_ENDIAN);
    putDouble(b, 0, dtype, value);
    return of(dtype, new long[0], b);
  }

  public DataType dtype() {
    return dtype;
  }

  public long[] shape() {
    return shape.clone();
  }

  public int rank() {
    return shape.length;
  }

  public long numElements() {
    return numElements(shape);
  }

  public static long numElements(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) throw new IllegalArgumentException("unknown dimension in " + Arrays.toString(shape));
      n *= d;
    }
    return n;
  }

  /** The little-endian bytes (read-only view). Not for strings. */
  public ByteBuffer data() {
    if (data == null) throw new IllegalStateException("string tensors have no flat data");
    return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  public byte[] string(int i) {
    return strings[i].clone();
  }

  /** Element i as a double (floats, ints and bools); the common ground for comparisons. */
  public double getDouble(long i) {
    if (data == null) throw new IllegalStateException("string tensors have no numeric value");
    int at = (int) (i * DTypes.byteSize(dtype));
    switch (dtype) {
      case DT_FLOAT: return data.getFloat(at);
      case DT_DOUBLE: return data.getDouble(at);
      case DT_HALF: return DTypes.halfToFloat(data.getShort(at));
      case DT_BFLOAT16: return Float.intBitsToFloat((data.getShort(at) & 0xffff) << 16);
      case DT_INT8: return data.get(at);
      case DT_UINT8: return data.get(at) & 0xff;
      case DT_BOOL: return data.get(at) != 0 ? 1 : 0;
      case DT_INT16: return data.getShort(at);
      case DT_UINT16: return data.getShort(at) & 0xffff;
      case DT_INT32: return data.getInt(at);
      case DT_UINT32: return data.getInt(at) & 0xffffffffL;
      case DT_INT64: return data.getLong(at);
      case DT_UINT64: {
        long v = data.getLong(at);
        return v >= 0 ? v : (double) (v >>> 1) * 2.0;
      }
      default: throw new TftrtException("dtype " + DTypes.name(dtype) + " is not supported.");
    }
  }

  /** Writes value, converted to dtype, at element index i of a little-endian buffer. */
  public static void putDouble(ByteBuffer b, long i, DataType dtype, double v) {
    int at = (int) (i * DTypes.byteSize(dtype));
    switch (dtype) {
      case DT_FLOAT: b.putFloat(at, (float) v); break;
      case DT_DOUBLE: b.putDouble(at, v); break;
      case DT_HALF: b.putShort(at, DTypes.floatToHalf((float) v)); break;
      case DT_BFLOAT16: b.putShort(at, (short) (Float.floatToIntBits((float) v) >>> 16)); break;
      case DT_INT8: case DT_UINT8: b.put(at, (byte) (long) v); break;
      case DT_BOOL: b.put(at, (byte) (v != 0 ? 1 : 0)); break;
      case DT_INT16: case DT_UINT16: b.putShort(at, (short) (long) v); break;
      case DT_INT32: case DT_UINT32: b.putInt(at, (int) (long) v); break;
      case DT_INT64: case DT_UINT64: b.putLong(at, (long) v); break;
      default: throw new TftrtException("dtype " + DTypes.name(dtype) + " is not supported.");
    }
  }

  /** A new TensorFlow tensor holding a copy of this one; the caller closes it. */
  public Tensor toTensor() {
    Shape s = Shape.of(shape);
    if (dtype == DataType.DT_STRING) {
      return TString.tensorOfBytes(s, DataBuffers.ofObjects(strings));
    }
    if (!DTypes.isSupported(dtype)) {
      throw new TftrtException("dtype " + DTypes.name(dtype) + " is not supported.");
    }
    byte[] bytes = new byte[data.remaining()];
    data().get(bytes);
    return Tensor.of(TensorTypeRegistry.find(dtype).type(), s, DataBuffers.of(bytes, true, false));
  }

  /** Copies a TensorFlow tensor into Java memory. */
  public static HostTensor fromTensor(Tensor t) {
    long[] shape = t.shape().asArray();
    if (t.dataType() == DataType.DT_STRING) {
      TString ts = (TString) t;
      byte[][] values = new byte[(int) numElements(shape)][];
      ts.asBytes().copyTo(DataBuffers.ofObjects(values));
      return new HostTensor(DataType.DT_STRING, shape, null, values);
    }
    if (!DTypes.isSupported(t.dataType())) {
      throw new TftrtException("dtype " + DTypes.name(t.dataType()) + " is not supported.");
    }
    RawTensor raw = t.asRawTensor();
    byte[] bytes = new byte[(int) raw.numBytes()];
    raw.data().read(bytes);
    return new HostTensor(t.dataType(), shape,
        ByteBuffer.wrap(bytes).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN), null);
  }

  /** Same dtype, shape and bytes. */
  public boolean contentEquals(HostTensor o) {
    if (dtype != o.dtype || !Arrays.equals(shape, o.shape)) return false;
    if (strings != null) return Arrays.deepEquals(strings, o.strings);
    return data().equals(o.data());
  }

  @Override
  public String toString() {
    return DTypes.name(dtype) + Arrays.toString(shape);
  }
}
