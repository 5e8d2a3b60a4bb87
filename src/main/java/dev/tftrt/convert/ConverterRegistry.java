package dev.tftrt.convert;

import dev.tftrt.convert.ops.StandardConverters;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * TensorFlow op type -> the converter that handles it. The single source of truth for what can
 * go to ONNX (and so to TensorRT): {@link #validate} is what the segmenter asks.
 */
public final class ConverterRegistry {
  private static volatile ConverterRegistry standard;

  private final Map<String, OpConverter> byOp = new TreeMap<>();

  public ConverterRegistry(List<? extends OpConverter> converters) {
    for (OpConverter c : converters) {
      for (String op : c.opTypes()) {
        OpConverter prev = byOp.put(op, c);
        if (prev != null) {
          throw new IllegalStateException(op + " is handled by both " + prev.getClass().getSimpleName()
              + " and " + c.getClass().getSimpleName());
        }
      }
    }
  }

  /** The converters shipped with tftrt. */
  public static ConverterRegistry standard() {
    ConverterRegistry r = standard;
    if (r == null) {
      synchronized (ConverterRegistry.class) {
        if (standard == null) standard = new ConverterRegistry(StandardConverters.all());
        r = standard;
      }
    }
    return r;
  }

  public Optional<OpConverter> converter(String opType) {
    return Optional.ofNullable(byOp.get(opType));
  }

  /** Every registered op type, sorted (the README's op table is generated from this). */
  public SortedSet<String> opTypes() {
    return Collections.unmodifiableSortedSet(new TreeSet<>(byOp.keySet()));
  }

  /** Empty when the node converts, else one sentence why not (without the node's name). */
  public Optional<String> validate(NodeView node) {
    OpConverter c = byOp.get(node.op());
    if (c == null) return Optional.of("no converter handles op " + node.op() + ".");
    return c.validate(node);
  }

  public boolean accepts(NodeView node) {
    return validate(node).isEmpty();
  }
}
