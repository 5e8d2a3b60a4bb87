package dev.tftrt.convert;

import dev.tftrt.TftrtException;
import dev.tftrt.tensor.DTypes;
import dev.tftrt.tensor.HostTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/** Reads the value of a TensorFlow TensorProto (a Const node's "value") into a HostTensor. */
public final class TfConstants {
  private TfConstants() {}

  public static HostTensor toHost(TensorProto p) {
    DataType dt = p.getDtype();
    // Quantized 8-bit constants (Dequantize's weights) carry plain uint8/int8 bytes.
    if (dt == DataType.DT_QUINT8) return toHost(p.toBuilder().setDtype(DataType.DT_UINT8).build());
    if (dt == DataType.DT_QINT8) return toHost(p.toBuilder().setDtype(DataType.DT_INT8).build());
    if (dt == DataType.DT_STRING || !DTypes.isSupported(dt)) {
      throw new TftrtException("constants of dtype " + DTypes.name(dt) + " are not supported.");
    }
    long[] shape = shape(p.getTensorShape());
    long n = HostTensor.numElements(shape);
    int size = DTypes.byteSize(dt);
    if (!p.getTensorContent().isEmpty()) {
      return HostTensor.of(dt, shape, p.getTensorContent().asReadOnlyByteBuffer());
    }
    ByteBuffer b = ByteBuffer.allocate((int) (n * size)).order(ByteOrder.LITTLE_ENDIAN);
    List<? extends Number> vals;
    switch (dt) {
      case DT_FLOAT: vals = p.getFloatValList(); break;
      case DT_DOUBLE: vals = p.getDoubleValList(); break;
      case DT_INT64: vals = p.getInt64ValList(); break;
      case DT_UINT32: vals = p.getUint32ValList(); break;
      case DT_UINT64: vals = p.getUint64ValList(); break;
      case DT_HALF: case DT_BFLOAT16: {
        List<Integer> bits = p.getHalfValList();
        for (long i = 0; i < n; i++) {
          int v = bits.isEmpty() ? 0 : bits.get((int) Math.min(i, bits.size() - 1));
          b.putShort((int) (i * 2), (short) v);
        }
        return HostTensor.of(dt, shape, b);
      }
      case DT_BOOL: {
        List<Boolean> bools = p.getBoolValList();
        for (long i = 0; i < n; i++) {
          boolean v = !bools.isEmpty() && bools.get((int) Math.min(i, bools.size() - 1));
          b.put((int) i, (byte) (v ? 1 : 0));
        }
        return HostTensor.of(dt, shape, b);
      }
      default: vals = p.getIntValList(); // int32, int16, int8, uint8, uint16
    }
    // A shorter list repeats its last value (TensorFlow's compact encoding of splats).
    for (long i = 0; i < n; i++) {
      double v = vals.isEmpty() ? 0 : vals.get((int) Math.min(i, vals.size() - 1)).doubleValue();
      if (dt == DataType.DT_INT64 || dt == DataType.DT_UINT64) {
        long lv = vals.isEmpty() ? 0 : vals.get((int) Math.min(i, vals.size() - 1)).longValue();
        b.putLong((int) (i * 8), lv);
      } else {
        HostTensor.putDouble(b, i, dt, v);
      }
    }
    return HostTensor.of(dt, shape, b);
  }

  static long[] shape(TensorShapeProto s) {
    long[] d = new long[s.getDimCount()];
    for (int i = 0; i < d.length; i++) d[i] = s.getDim(i).getSize();
    return d;
  }
}
