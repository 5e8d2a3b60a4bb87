package dev.tftrt.build;

import dev.tftrt.TftrtException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The shape ranges a user gave ({@code --shape-range}, several allowed) and the rule that turns
 * them into one optimisation profile per engine: TensorRT needs a min/opt/max shape for every
 * input with an unknown dimension, and an engine accepts only shapes inside them.
 *
 * <p>For each engine input, in this order:
 *
 * <ol>
 *   <li>a range given for that tensor (its ONNX name, or that name without {@code :0});
 *   <li>the shape the model declares, when every dimension is known;
 *   <li>a range that varies only the batch (dimension 0), for an input whose only unknown
 *       dimension is the batch: the engine inputs inside a model take the model's batch, so a
 *       batch range given for the model's input carries to them (when all given batch ranges
 *       agree);
 *   <li>the shape seen when the model last ran (verification, or the first call at run time),
 *       as a fixed profile;
 *   <li>else one sentence naming the engine and the input, asking for {@code --shape-range}.
 * </ol>
 */
public final class ShapeRanges {
  /** An engine input: its name and declared shape (-1 for unknown dims; null for unknown rank). */
  public record Input(String name, long[] declared) {}

  private final Map<String, ShapeRange> given;

  private ShapeRanges(Map<String, ShapeRange> given) {
    this.given = given;
  }

  public static ShapeRanges none() {
    return new ShapeRanges(Map.of());
  }

  /** Parses the {@code --shape-range} arguments; a name given twice is refused. */
  public static ShapeRanges parse(Collection<String> args) {
    List<ShapeRange> rs = new ArrayList<>();
    for (String a : args) rs.add(ShapeRange.parse(a));
    return of(rs);
  }

  public static ShapeRanges of(Collection<ShapeRange> ranges) {
    Map<String, ShapeRange> m = new LinkedHashMap<>();
    for (ShapeRange r : ranges) {
      if (m.put(r.name(), r) != null) {
        throw new TftrtException("--shape-range names '" + r.name() + "' twice; give one range per input.");
      }
    }
    return new ShapeRanges(java.util.Collections.unmodifiableMap(m));
  }

  public Collection<ShapeRange> given() {
    return given.values();
  }

  public boolean isEmpty() {
    return given.isEmpty();
  }

  /**
   * The profile of one engine: a range per input, in input order. {@code observed} holds shapes
   * seen in a run by input name (may be empty). Throws one sentence naming the engine and input
   * where no range can be found or a given one does not fit the declared shape.
   */
  public List<ShapeRange> profile(String engine, List<Input> inputs, Map<String, long[]> observed) {
    List<ShapeRange> out = new ArrayList<>();
    for (Input in : inputs) out.add(rangeFor(engine, in, observed));
    return out;
  }

  private ShapeRange rangeFor(String engine, Input in, Map<String, long[]> observed) {
    String where = "engine " + engine + " input '" + in.name() + "'";
    ShapeRange r = givenFor(in.name());
    if (r != null) {
      if (in.declared() != null && !r.fits(in.declared())) {
        throw new TftrtException("--shape-range " + r.canonical() + " does not fit " + where
            + ", whose shape is " + describe(in.declared()) + ".");
      }
      return new ShapeRange(in.name(), r.min(), r.opt(), r.max());
    }
    long[] d = in.declared();
    if (d != null && known(d)) return ShapeRange.fixed(in.name(), d);
    ShapeRange batch = d == null ? null : batchRange(d);
    if (batch != null) return new ShapeRange(in.name(), batch.min(), batch.opt(), batch.max());
    long[] seen = observed.get(in.name());
    if (seen != null && (d == null || fitsDeclared(seen, d))) return ShapeRange.fixed(in.name(), seen);
    throw new TftrtException(where + " has the shape " + describe(d) + ", with dimensions only "
        + "known at run time; give --shape-range " + shortName(in.name()) + "=min:opt:max for it.");
  }

  private ShapeRange givenFor(String name) {
    ShapeRange r = given.get(name);
    if (r == null && name.endsWith(":0")) r = given.get(name.substring(0, name.length() - 2));
    return r;
  }

  /** The given batch range carried to a shape whose only unknown dim is 0, if all agree. */
  private ShapeRange batchRange(long[] declared) {
    if (declared.length == 0 || declared[0] >= 0) return null;
    for (int i = 1; i < declared.length; i++) if (declared[i] < 0) return null;
    long[] batch = null;
    for (ShapeRange r : given.values()) {
      int[] v = r.varying();
      if (v.length != 1 || v[0] != 0) continue;
      long[] b = {r.min()[0], r.opt()[0], r.max()[0]};
      if (batch != null && !java.util.Arrays.equals(batch, b)) return null; // ambiguous
      batch = b;
    }
    if (batch == null) return null;
    long[] min = declared.clone(), opt = declared.clone(), max = declared.clone();
    min[0] = batch[0];
    opt[0] = batch[1];
    max[0] = batch[2];
    return new ShapeRange("", min, opt, max);
  }

  /** Names of given ranges that match none of {@code inputNames} (to report a typo). */
  public List<String> unmatched(Collection<String> inputNames) {
    List<String> r = new ArrayList<>();
    for (String n : given.keySet()) {
      if (!inputNames.contains(n) && !inputNames.contains(n + ":0")) r.add(n);
    }
    return r;
  }

  static boolean known(long[] d) {
    for (long x : d) if (x < 0) return false;
    return true;
  }

  private static boolean fitsDeclared(long[] s, long[] d) {
    if (s.length != d.length) return false;
    for (int i = 0; i < s.length; i++) if (d[i] >= 0 && d[i] != s[i]) return false;
    return true;
  }

  private static String shortName(String n) {
    return n.endsWith(":0") ? n.substring(0, n.length() - 2) : n;
  }

  static String describe(long[] d) {
    if (d == null) return "of unknown rank";
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < d.length; i++) {
      if (i > 0) b.append(", ");
      b.append(d[i] < 0 ? "?" : Long.toString(d[i]));
    }
    return b.append(']').toString();
  }
}
