package dev.tftrt.tensor;

import com.google.protobuf.ByteString;
import dev.tftrt.TftrtException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/** HostTensor ↔ TensorProto, the form constants take inside a GraphDef. */
public final class TensorProtos {
  private TensorProtos() {}

  public static TensorShapeProto shape(long[] dims) {
    TensorShapeProto.Builder b = TensorShapeProto.newBuilder();
    if (dims == null) return b.setUnknownRank(true).build();
    for (long d : dims) b.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    return b.build();
  }

  public static TensorProto fromHost(HostTensor t) {
    TensorProto.Builder b = TensorProto.newBuilder().setDtype(t.dtype()).setTensorShape(shape(t.shape()));
    if (t.dtype() == DataType.DT_STRING) {
      for (int i = 0; i < t.numElements(); i++) b.addStringVal(ByteString.copyFrom(t.string(i)));
    } else {
      b.setTensorContent(ByteString.copyFrom(t.data()));
    }
    return b.build();
  }

  /**
   * A TensorProto's value as a HostTensor. TensorFlow writes small constants in the typed
   * *_val fields, where one value given for many elements means "repeat the last one".
   */
  public static HostTensor toHost(TensorProto p) {
    DataType dt = p.getDtype();
    // Quantized 8-bit constants (Dequantize's weights) carry plain uint8/int8 bytes.
    if (dt == DataType.DT_QUINT8) return toHost(p.toBuilder().setDtype(DataType.DT_UINT8).build());
    if (dt == DataType.DT_QINT8) return toHost(p.toBuilder().setDtype(DataType.DT_INT8).build());
    long[] shape = new long[p.getTensorShape().getDimCount()];
    for (int i = 0; i < shape.length; i++) shape[i] = p.getTensorShape().getDim(i).getSize();
    long n = HostTensor.numElements(shape);
    if (dt == DataType.DT_STRING) {
      byte[][] v = new byte[(int) n][];
      for (int i = 0; i < n; i++) {
        int k = Math.min(i, p.getStringValCount() - 1);
        v[i] = k < 0 ? new byte[0] : p.getStringVal(k).toByteArray();
      }
      return HostTensor.ofStrings(shape, v);
    }
    if (!DTypes.isSupported(dt)) {
      throw new TftrtException("constants of dtype " + DTypes.name(dt) + " are not supported.");
    }
    int size = DTypes.byteSize(dt);
    if (!p.getTensorContent().isEmpty()) {
      return HostTensor.of(dt, shape, p.getTensorContent().asReadOnlyByteBuffer());
    }
    ByteBuffer b = ByteBuffer.allocate((int) (n * size)).order(ByteOrder.LITTLE_ENDIAN);
    int count = valCount(p);
    for (long i = 0; i < n && count > 0; i++) {
      int k = (int) Math.min(i, count - 1);
      switch (dt) {
        case DT_FLOAT: b.putFloat((int) (i * 4), p.getFloatVal(k)); break;
        case DT_DOUBLE: b.putDouble((int) (i * 8), p.getDoubleVal(k)); break;
        case DT_INT32: case DT_INT16: case DT_INT8: case DT_UINT8: case DT_UINT16:
          HostTensor.putDouble(b, i, dt, p.getIntVal(k)); break;
        case DT_INT64: b.putLong((int) (i * 8), p.getInt64Val(k)); break;
        case DT_UINT32: b.putInt((int) (i * 4), p.getUint32Val(k)); break;
        case DT_UINT64: b.putLong((int) (i * 8), p.getUint64Val(k)); break;
        case DT_BOOL: b.put((int) i, (byte) (p.getBoolVal(k) ? 1 : 0)); break;
        case DT_HALF: case DT_BFLOAT16: b.putShort((int) (i * 2), (short) p.getHalfVal(k)); break;
        default: throw new TftrtException("constants of dtype " + DTypes.name(dt) + " are not supported.");
      }
    }
    return HostTensor.of(dt, shape, b);
  }

  private static int valCount(TensorProto p) {
    switch (p.getDtype()) {
      case DT_FLOAT: return p.getFloatValCount();
      case DT_DOUBLE: return p.getDoubleValCount();
      case DT_INT64: return p.getInt64ValCount();
      case DT_UINT32: return p.getUint32ValCount();
      case DT_UINT64: return p.getUint64ValCount();
      case DT_BOOL: return p.getBoolValCount();
      case DT_HALF: case DT_BFLOAT16: return p.getHalfValCount();
      default: return p.getIntValCount();
    }
  }
}
