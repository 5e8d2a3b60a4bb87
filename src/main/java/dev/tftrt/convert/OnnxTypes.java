package dev.tftrt.convert;

import dev.tftrt.TftrtException;
import dev.tftrt.convert.onnx.TensorProto;
import dev.tftrt.tensor.DTypes;
import dev.tftrt.tensor.HostTensor;
import com.google.protobuf.ByteString;
import org.tensorflow.proto.DataType;

/** Mapping between TensorFlow dtypes and ONNX element types, and HostTensor to ONNX tensors. */
public final class OnnxTypes {
  private OnnxTypes() {}

  /** The ONNX TensorProto.DataType number for a TensorFlow dtype. */
  public static int elemType(DataType t) {
    switch (DTypes.base(t)) {
      case DT_FLOAT: return TensorProto.DataType.FLOAT_VALUE;
      case DT_UINT8: return TensorProto.DataType.UINT8_VALUE;
      case DT_INT8: return TensorProto.DataType.INT8_VALUE;
      case DT_UINT16: return TensorProto.DataType.UINT16_VALUE;
      case DT_INT16: return TensorProto.DataType.INT16_VALUE;
      case DT_INT32: return TensorProto.DataType.INT32_VALUE;
      case DT_INT64: return TensorProto.DataType.INT64_VALUE;
      case DT_STRING: return TensorProto.DataType.STRING_VALUE;
      case DT_BOOL: return TensorProto.DataType.BOOL_VALUE;
      case DT_HALF: return TensorProto.DataType.FLOAT16_VALUE;
      case DT_DOUBLE: return TensorProto.DataType.DOUBLE_VALUE;
      case DT_UINT32: return TensorProto.DataType.UINT32_VALUE;
      case DT_UINT64: return TensorProto.DataType.UINT64_VALUE;
      case DT_BFLOAT16: return TensorProto.DataType.BFLOAT16_VALUE;
      default: throw new TftrtException("dtype " + DTypes.name(t) + " has no ONNX equivalent.");
    }
  }

  public static boolean hasElemType(DataType t) {
    try {
      elemType(t);
      return true;
    } catch (TftrtException e) {
      return false;
    }
  }

  /** The TensorFlow dtype for an ONNX element type. */
  public static DataType tfType(int elemType) {
    for (DataType t : new DataType[] {DataType.DT_FLOAT, DataType.DT_UINT8, DataType.DT_INT8,
        DataType.DT_UINT16, DataType.DT_INT16, DataType.DT_INT32, DataType.DT_INT64,
        DataType.DT_STRING, DataType.DT_BOOL, DataType.DT_HALF, DataType.DT_DOUBLE,
        DataType.DT_UINT32, DataType.DT_UINT64, DataType.DT_BFLOAT16}) {
      if (elemType(t) == elemType) return t;
    }
    throw new TftrtException("ONNX element type " + elemType + " is not supported.");
  }

  /** An ONNX tensor (raw little-endian data) holding a copy of a numeric HostTensor. */
  public static TensorProto tensor(String name, HostTensor t) {
    if (t.dtype() == DataType.DT_STRING) {
      throw new TftrtException("string constants cannot be written to ONNX.");
    }
    TensorProto.Builder b = TensorProto.newBuilder().setName(name).setDataType(elemType(t.dtype()));
    for (long d : t.shape()) b.addDims(d);
    b.setRawData(ByteString.copyFrom(t.data()));
    return b.build();
  }
}
