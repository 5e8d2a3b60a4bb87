package dev.tftrt.convert;

import dev.tftrt.TftrtException;
import dev.tftrt.tensor.DTypes;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.tensor.TensorProtos;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * Reads the value of a Const node into a HostTensor for converters: numbers only (string
 * constants never feed an ONNX computation here, so they count as not constant).
 */
public final class TfConstants {
  private TfConstants() {}

  public static HostTensor toHost(TensorProto p) {
    if (p.getDtype() == DataType.DT_STRING) {
      throw new TftrtException("constants of dtype " + DTypes.name(p.getDtype()) + " are not supported.");
    }
    return TensorProtos.toHost(p);
  }
}
