package dev.tftrt.convert;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The usual way to write a converter: declare a {@link Signature} per op type, add op-specific
 * checks in {@link #check}, and emit ONNX in {@link #convert}. Validation runs the signature
 * first, then {@code check}. An exception in either is a bug in the converter: it reaches the
 * {@link ConverterRegistry}, which reports it as such and keeps the node in TensorFlow.
 */
public abstract class BaseConverter implements OpConverter {
  private final Map<String, Signature> signatures = new LinkedHashMap<>();

  /** Registers op types that share a signature. */
  protected final void register(Signature signature, String... opTypes) {
    for (String op : opTypes) {
      if (signatures.put(op, signature) != null) {
        throw new IllegalStateException(op + " registered twice in " + getClass().getSimpleName());
      }
    }
  }

  @Override
  public final Set<String> opTypes() {
    return Collections.unmodifiableSet(signatures.keySet());
  }

  @Override
  public final Signature signature(String opType) {
    Signature s = signatures.get(opType);
    if (s == null) throw new IllegalArgumentException(getClass().getSimpleName() + " does not handle " + opType);
    return s;
  }

  @Override
  public final Optional<String> validate(NodeView node) {
    Signature s = signatures.get(node.op());
    if (s == null) return Optional.of("no converter handles op " + node.op() + ".");
    Optional<String> r = s.check(node);
    if (r.isPresent()) return r;
    return check(node);
  }

  /** Op-specific checks after the signature's; empty when the node converts. */
  protected Optional<String> check(NodeView node) {
    return Optional.empty();
  }

  protected static Optional<String> ok() {
    return Optional.empty();
  }

  protected static Optional<String> reject(String reason) {
    return Optional.of(reason);
  }

  /** Normalises a possibly negative axis against a rank. */
  protected static int axis(long axis, int rank) {
    return (int) (axis < 0 ? axis + rank : axis);
  }
}
