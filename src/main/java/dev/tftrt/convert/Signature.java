package dev.tftrt.convert;

import dev.tftrt.tensor.DTypes;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.tensorflow.proto.DataType;

/**
 * The declared inputs of a TensorFlow op and the dtypes a converter accepts, as data: checked
 * generically before a converter's own checks, and readable by the segmenter and reports.
 */
public final class Signature {
  /**
   * A TENSOR input is any computed value; a WEIGHT input must be a Const in the graph; a
   * DEQUANTIZED_WEIGHT input may also be 8-bit Consts behind a Dequantize, which the converter
   * keeps 8-bit (as TF-TRT's converters take a filter tensor in explicit-precision networks).
   */
  public enum Kind { TENSOR, WEIGHT, DEQUANTIZED_WEIGHT }

  /**
   * One declared input. A variadic input (at most one per signature) takes as many actual
   * inputs as are left over; an optional one may be missing at the end.
   */
  public record Input(String name, Kind kind, boolean variadic, boolean optional) {}

  public static final Set<DataType> FLOATS = Collections.unmodifiableSet(
      EnumSet.of(DataType.DT_FLOAT, DataType.DT_HALF));
  public static final Set<DataType> NUMBERS = Collections.unmodifiableSet(
      EnumSet.of(DataType.DT_FLOAT, DataType.DT_HALF, DataType.DT_INT32));
  public static final Set<DataType> INDICES = Collections.unmodifiableSet(
      EnumSet.of(DataType.DT_INT32, DataType.DT_INT64));
  public static final Set<DataType> BOOL = Collections.unmodifiableSet(EnumSet.of(DataType.DT_BOOL));
  /** Types TensorRT can carry through data-movement ops (reshape, concat, gather...). */
  public static final Set<DataType> ANY = Collections.unmodifiableSet(EnumSet.of(DataType.DT_FLOAT,
      DataType.DT_HALF, DataType.DT_INT32, DataType.DT_INT64, DataType.DT_BOOL, DataType.DT_INT8,
      DataType.DT_UINT8));

  private final List<Input> inputs;
  private final Map<String, Set<DataType>> types;

  private Signature(List<Input> inputs, Map<String, Set<DataType>> types) {
    this.inputs = List.copyOf(inputs);
    this.types = Collections.unmodifiableMap(new LinkedHashMap<>(types));
  }

  public static Builder builder() {
    return new Builder();
  }

  public List<Input> inputs() {
    return inputs;
  }

  /** Type attribute name -> dtypes accepted for it. */
  public Map<String, Set<DataType>> types() {
    return types;
  }

  /**
   * The declared input that actual input i of a node with n data inputs matches, or null when
   * n does not fit the signature.
   */
  public Input inputAt(int i, int n) {
    int variadic = -1;
    for (int k = 0; k < inputs.size(); k++) if (inputs.get(k).variadic()) variadic = k;
    if (variadic < 0) return i < inputs.size() ? inputs.get(i) : null;
    int fixedAfter = inputs.size() - variadic - 1;
    if (i < variadic) return inputs.get(i);
    if (i >= n - fixedAfter) return inputs.get(variadic + 1 + (i - (n - fixedAfter)));
    return inputs.get(variadic);
  }

  /** Checks input count, WEIGHT inputs and dtype attributes; empty when they all hold. */
  public Optional<String> check(NodeView node) {
    for (Map.Entry<String, Set<DataType>> e : types.entrySet()) {
      DataType t = node.attrType(e.getKey());
      if (t == null) return Optional.of("it has no '" + e.getKey() + "' dtype attribute.");
      if (!e.getValue().contains(DTypes.base(t))) {
        return Optional.of(e.getKey() + " is " + DTypes.name(t) + ", and only "
            + e.getValue().stream().map(DTypes::name).sorted().collect(Collectors.joining(", "))
            + " " + (e.getValue().size() == 1 ? "is" : "are") + " supported.");
      }
    }
    int n = node.numInputs();
    int required = 0;
    boolean variadic = false;
    for (Input in : inputs) {
      if (in.variadic()) variadic = true;
      else if (!in.optional()) required++;
    }
    if (n < required || (!variadic && n > inputs.size())) {
      return Optional.of("it has " + n + " inputs where " + describeCount() + " expected.");
    }
    for (int i = 0; i < n; i++) {
      Input in = inputAt(i, n);
      if (in != null && in.kind() == Kind.WEIGHT && !node.isConstant(i)) {
        return Optional.of("its input '" + in.name() + "' must be a constant, and "
            + node.input(i) + " is computed.");
      }
      if (in != null && in.kind() == Kind.DEQUANTIZED_WEIGHT && !node.isConstant(i) && node.dequantized(i).isEmpty()) {
        return Optional.of("its input '" + in.name() + "' must be a constant or a Dequantize of constants, and "
            + node.input(i) + " is computed.");
      }
    }
    return Optional.empty();
  }

  private String describeCount() {
    long req = inputs.stream().filter(i -> !i.optional() && !i.variadic()).count();
    if (inputs.stream().anyMatch(Input::variadic)) return "at least " + req + " are";
    if (req == inputs.size()) return req + (req == 1 ? " is" : " are");
    return req + " to " + inputs.size() + " are";
  }

  public static final class Builder {
    private final List<Input> inputs = new ArrayList<>();
    private final Map<String, Set<DataType>> types = new LinkedHashMap<>();

    public Builder tensor(String name) {
      inputs.add(new Input(name, Kind.TENSOR, false, false));
      return this;
    }

    public Builder weight(String name) {
      inputs.add(new Input(name, Kind.WEIGHT, false, false));
      return this;
    }

    /** A weight that may be 8-bit constants behind a Dequantize (see {@link Kind#DEQUANTIZED_WEIGHT}). */
    public Builder dequantizedWeight(String name) {
      inputs.add(new Input(name, Kind.DEQUANTIZED_WEIGHT, false, false));
      return this;
    }

    public Builder optionalTensor(String name) {
      inputs.add(new Input(name, Kind.TENSOR, false, true));
      return this;
    }

    public Builder tensors(String name) {
      inputs.add(new Input(name, Kind.TENSOR, true, false));
      return this;
    }

    public Builder types(String attr, Set<DataType> allowed) {
      types.put(attr, EnumSet.copyOf(allowed));
      return this;
    }

    public Builder types(String attr, DataType first, DataType... rest) {
      types.put(attr, EnumSet.of(first, rest));
      return this;
    }

    public Signature build() {
      return new Signature(inputs, types);
    }
  }
}
