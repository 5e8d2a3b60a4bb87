package dev.tftrt.model;

import dev.tftrt.tensor.DTypes;
import java.util.Arrays;
import org.tensorflow.proto.DataType;

/**
 * One input or output of a model: the name users know it by (a signature key, or the tensor
 * name when there is no signature), the graph tensor ("node:index"), its dtype and shape
 * (-1 for an unknown dimension, null for an unknown rank).
 */
public record TensorSpec(String key, String tensor, DataType dtype, long[] shape) {

  public TensorSpec {
    shape = shape == null ? null : shape.clone();
  }

  @Override
  public long[] shape() {
    return shape == null ? null : shape.clone();
  }

  public String describe() {
    String dims = shape == null ? "[unknown rank]" : Arrays.toString(shape).replace("-1", "?");
    String name = key.equals(tensor) ? tensor : key + " (" + tensor + ")";
    return name + " " + DTypes.name(dtype) + dims;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorSpec t && key.equals(t.key) && tensor.equals(t.tensor)
        && dtype == t.dtype && Arrays.equals(shape, t.shape);
  }

  @Override
  public int hashCode() {
    return key.hashCode() * 31 + tensor.hashCode();
  }

  @Override
  public String toString() {
    return describe();
  }
}
