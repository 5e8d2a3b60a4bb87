package dev.tftrt.precision;

import dev.tftrt.convert.onnx.ModelProto;
import java.util.Map;

/** Lets tests of other packages read the element types the stage infers. */
public final class PrecisionTestAccess {
  private PrecisionTestAccess() {}

  public static Map<String, Integer> types(ModelProto m) {
    return ElementTypes.infer(m.getGraph());
  }
}
