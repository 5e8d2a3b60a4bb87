package dev.tftrt.convert;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * TensorFlow op type -> the converter that handles it. The single source of truth for what can
 * go to ONNX (and so to TensorRT): {@link #validate} is what the segmenter asks.
 */
public final class ConverterRegistry {

  /**
   * Ops that are never candidates, whatever converters a registry holds: they exist for their
   * effects (checks, logging, ordering), which an engine would silently drop.
   */
  private static final Map<String, String> SIDE_EFFECTS = Map.of(
      "Assert", "Assert is a run-time check with a side effect (failing the step), so it stays in TensorFlow.",
      "Print", "Print logs as a side effect, so it stays in TensorFlow.",
      "PrintV2", "PrintV2 logs as a side effect, so it stays in TensorFlow.",
      "NoOp", "NoOp only orders other nodes through control edges and computes nothing to convert.",
      "ControlTrigger", "ControlTrigger only orders other nodes through control edges and computes nothing to convert.");

  /**
   * TensorFlow's own 8-bit ops (graph_transforms' quantize_nodes, tf.quantization): they pass
   * each tensor's range as two extra float tensors and quantize with TensorFlow's own range
   * adjustment and rounding, on types ONNX does not have (quint8, qint32). They stay in
   * TensorFlow; the float ops around them still convert.
   */
  private static final Set<String> EIGHT_BIT = Set.of("QuantizeV2", "Requantize", "RequantizationRange",
      "QuantizeDownAndShrinkRange", "RequantizePerChannel", "RequantizationRangePerChannel");

  static Optional<String> eightBit(String op) {
    if (!EIGHT_BIT.contains(op) && !op.startsWith("Quantized")) return Optional.empty();
    return Optional.of(op + " is one of TensorFlow's 8-bit ops, which carry value ranges as extra tensors and"
        + " quantized types ONNX does not have, so it stays in TensorFlow.");
  }

  private final Map<String, OpConverter> byOp = new TreeMap<>();

  public ConverterRegistry(List<? extends OpConverter> converters) {
    for (OpConverter c : converters) {
      for (String op : c.opTypes()) {
        if (SIDE_EFFECTS.containsKey(op)) {
          throw new IllegalStateException(op + " has side effects and cannot be registered (" + c.getClass().getSimpleName() + ")");
        }
        OpConverter prev = byOp.put(op, c);
        if (prev != null) {
          throw new IllegalStateException(op + " is handled by both " + prev.getClass().getSimpleName()
              + " and " + c.getClass().getSimpleName());
        }
      }
    }
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
    String effect = SIDE_EFFECTS.get(node.op());
    if (effect != null) return Optional.of(effect);
    OpConverter c = byOp.get(node.op());
    if (c == null) return eightBit(node.op()).or(() -> Optional.of("no converter handles op " + node.op() + "."));
    return c.validate(node);
  }

  public boolean accepts(NodeView node) {
    return validate(node).isEmpty();
  }
}
