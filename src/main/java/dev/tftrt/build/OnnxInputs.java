package dev.tftrt.build;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.tftrt.TftrtException;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.convert.onnx.TensorProto;
import dev.tftrt.convert.onnx.TensorShapeProto;
import dev.tftrt.convert.onnx.ValueInfoProto;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** A segment's ONNX graph inputs and outputs with their declared shapes (TensorRT's I/O tensors). */
public final class OnnxInputs {
  private OnnxInputs() {}

  /** The graph's inputs (initializers left out), dims -1 where not a number; null shape: unknown rank. */
  public static List<ShapeRanges.Input> inputs(String engine, byte[] onnx) {
    ModelProto m = parse(engine, onnx);
    Set<String> inits = new HashSet<>();
    for (TensorProto t : m.getGraph().getInitializerList()) inits.add(t.getName());
    List<ShapeRanges.Input> r = new ArrayList<>();
    for (ValueInfoProto v : m.getGraph().getInputList()) {
      if (!inits.contains(v.getName())) r.add(new ShapeRanges.Input(v.getName(), shape(v)));
    }
    return r;
  }

  /** The graph's output names in order. */
  public static List<String> outputs(String engine, byte[] onnx) {
    List<String> r = new ArrayList<>();
    for (ValueInfoProto v : parse(engine, onnx).getGraph().getOutputList()) r.add(v.getName());
    return r;
  }

  private static ModelProto parse(String engine, byte[] onnx) {
    try {
      return ModelProto.parseFrom(onnx);
    } catch (InvalidProtocolBufferException e) {
      throw new TftrtException("engine " + engine + " carries an ONNX model that is not a valid ONNX file.");
    }
  }

  private static long[] shape(ValueInfoProto v) {
    if (!v.getType().hasTensorType() || !v.getType().getTensorType().hasShape()) return null;
    List<TensorShapeProto.Dimension> dims = v.getType().getTensorType().getShape().getDimList();
    long[] d = new long[dims.size()];
    for (int i = 0; i < d.length; i++) d[i] = dims.get(i).hasDimValue() ? dims.get(i).getDimValue() : -1;
    return d;
  }
}
