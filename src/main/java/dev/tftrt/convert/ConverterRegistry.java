package dev.tftrt.convert;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Level;
import java.util.logging.Logger;

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

  private static final Logger LOG = Logger.getLogger(ConverterRegistry.class.getName());

  private final Map<String, OpConverter> byOp = new TreeMap<>();
  private final Map<String, LongAdder> bugs = new ConcurrentHashMap<>();
  private final Set<String> loggedBugs = ConcurrentHashMap.newKeySet();

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
    return check(node).reason();
  }

  /**
   * What {@link #validate} says, and whether it says so because the converter's check threw.
   * A check that throws is a bug in the converter, not an unsupported node: it is counted
   * ({@link #bugCounts}), logged once per op type (WARNING), and the node is rejected with a
   * reason that says so, so that it stays in TensorFlow and the conversion goes on.
   */
  public Check check(NodeView node) {
    String effect = SIDE_EFFECTS.get(node.op());
    if (effect != null) return Check.rejected(effect);
    OpConverter c = byOp.get(node.op());
    if (c == null) return Check.rejected(eightBit(node.op()).orElse("no converter handles op " + node.op() + "."));
    try {
      return new Check(c.validate(node), null);
    } catch (RuntimeException e) {
      ConverterBug bug = new ConverterBug(c.getClass().getSimpleName(), node.op(), node.name(), e.toString());
      bugs.computeIfAbsent(node.op(), k -> new LongAdder()).increment();
      if (loggedBugs.add(node.op())) {
        // One line at WARNING (the CLI shows it; a stack trace there would read as a crash),
        // the stack trace at INFO (shown with --verbose).
        LOG.warning("the " + bug.converter() + " converter threw while checking node " + node.name()
            + " (" + node.op() + "): " + bug.error() + "; this is a bug in tftrt, not in the model: such nodes stay"
            + " in TensorFlow (logged once per op type)");
        LOG.log(Level.INFO, "where the " + bug.converter() + " converter threw", e);
      }
      return new Check(Optional.of(bug.reason()), bug);
    }
  }

  /** Checks that threw, per op type, since this registry was made (each check of a node counts). */
  public Map<String, Long> bugCounts() {
    Map<String, Long> m = new TreeMap<>();
    bugs.forEach((op, n) -> m.put(op, n.sum()));
    return m;
  }

  /** A validation's outcome: the reason a node does not convert (empty: it does), and the bug behind it if any. */
  public record Check(Optional<String> reason, ConverterBug bug) {
    static Check rejected(String reason) {
      return new Check(Optional.of(reason), null);
    }

    public Optional<ConverterBug> converterBug() {
      return Optional.ofNullable(bug);
    }
  }

  public boolean accepts(NodeView node) {
    return validate(node).isEmpty();
  }
}
