package dev.tftrt.optimize;

import dev.tftrt.model.TensorNames;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * What passes are told and what they report: the graph's designated input and output nodes
 * (never removed or renamed, their values kept), options, and per-pass counters.
 */
public final class PassContext {
  /** Default largest constant that folding materialises: 16 MiB. */
  public static final long DEFAULT_MAX_CONSTANT_BYTES = 16L << 20;

  private final Set<String> inputs = new LinkedHashSet<>();
  private final Set<String> outputs = new LinkedHashSet<>();
  private final Map<String, Map<String, Long>> counts = new LinkedHashMap<>();
  private long maxConstantBytes = DEFAULT_MAX_CONSTANT_BYTES;
  private boolean removeAssertions;

  /**
   * @param inputs input node or tensor names ("x", "x:0")
   * @param outputs output node or tensor names
   */
  public PassContext(Collection<String> inputs, Collection<String> outputs) {
    for (String s : inputs) this.inputs.add(TensorNames.node(s));
    for (String s : outputs) this.outputs.add(TensorNames.node(s));
  }

  public static PassContext of(Collection<String> inputs, Collection<String> outputs) {
    return new PassContext(inputs, outputs);
  }

  public Set<String> inputs() {
    return Set.copyOf(inputs);
  }

  public Set<String> outputs() {
    return Set.copyOf(outputs);
  }

  /** Inputs and outputs: the nodes no pass may remove, rename or change the values of. */
  public Set<String> protectedNodes() {
    Set<String> s = new LinkedHashSet<>(inputs);
    s.addAll(outputs);
    return s;
  }

  public boolean isProtected(String node) {
    return inputs.contains(node) || outputs.contains(node);
  }

  public long maxConstantBytes() {
    return maxConstantBytes;
  }

  /** Folding leaves a result larger than this (in bytes) to be computed at run time. */
  public PassContext maxConstantBytes(long bytes) {
    if (bytes < 0) throw new IllegalArgumentException("the constant size limit must not be negative");
    this.maxConstantBytes = bytes;
    return this;
  }

  public boolean removeAssertions() {
    return removeAssertions;
  }

  /** Whether identity removal also drops Assert and CheckNumerics (their checks are lost). */
  public PassContext removeAssertions(boolean remove) {
    this.removeAssertions = remove;
    return this;
  }

  /** Adds to a pass's counter. */
  public void count(String pass, String what, long n) {
    counts.computeIfAbsent(pass, k -> new LinkedHashMap<>()).merge(what, n, Long::sum);
  }

  /** A pass's counters (a copy; empty when it reported nothing). */
  public Map<String, Long> counts(String pass) {
    return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(counts.getOrDefault(pass, Map.of())));
  }

  /** One counter, 0 when never reported. */
  public long count(String pass, String what) {
    return counts.getOrDefault(pass, Map.of()).getOrDefault(what, 0L);
  }
}
