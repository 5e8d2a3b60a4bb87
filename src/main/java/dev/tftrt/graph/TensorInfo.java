package dev.tftrt.graph;

import dev.tftrt.tensor.DTypes;
import java.util.Arrays;
import org.tensorflow.proto.DataType;

/**
 * What is statically known about one tensor: its dtype and shape. {@code dims} is null when the
 * rank is unknown; a dimension of -1 is unknown.
 */
public record TensorInfo(DataType dtype, long[] dims) {
  public static final long UNKNOWN = -1;

  public static TensorInfo unknown(DataType dtype) {
    return new TensorInfo(dtype, null);
  }

  public TensorInfo {
    dims = dims == null ? null : dims.clone();
  }

  @Override
  public long[] dims() {
    return dims == null ? null : dims.clone();
  }

  public boolean hasRank() {
    return dims != null;
  }

  /** The rank, or -1 when unknown. */
  public int rank() {
    return dims == null ? -1 : dims.length;
  }

  /** Dimension i (negative counts from the end), or -1 when unknown. */
  public long dim(int i) {
    if (dims == null) return UNKNOWN;
    int k = i < 0 ? i + dims.length : i;
    return dims[k];
  }

  public boolean isFullyKnown() {
    if (dims == null) return false;
    for (long d : dims) if (d < 0) return false;
    return true;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorInfo t && t.dtype == dtype && Arrays.equals(t.dims, dims);
  }

  @Override
  public int hashCode() {
    return dtype.hashCode() * 31 + Arrays.hashCode(dims);
  }

  @Override
  public String toString() {
    if (dims == null) return DTypes.name(dtype) + "[?]";
    StringBuilder b = new StringBuilder(DTypes.name(dtype)).append('[');
    for (int i = 0; i < dims.length; i++) {
      if (i > 0) b.append(',');
      b.append(dims[i] < 0 ? "?" : Long.toString(dims[i]));
    }
    return b.append(']').toString();
  }
}
