package dev.tftrt.build;

import dev.tftrt.TftrtException;
import java.util.Arrays;
import java.util.Objects;

/**
 * One TensorRT optimisation-profile entry: the smallest, the most common and the largest shape
 * an engine input takes. Parsed from {@code --shape-range name=min:opt:max}, each shape written
 * as dimensions separated by commas or {@code x} ({@code image=1,257,257,3:8,257,257,3:32,257,257,3});
 * a single shape ({@code name=1,3,224,224}) fixes the input to that shape.
 *
 * <p>The name is split off at the last {@code =}, so tensor names holding {@code :} work.
 */
public record ShapeRange(String name, long[] min, long[] opt, long[] max) {
  public ShapeRange {
    Objects.requireNonNull(name, "name");
    min = min.clone();
    opt = opt.clone();
    max = max.clone();
    String what = "the shape range of '" + name + "'";
    if (min.length != opt.length || opt.length != max.length) {
      throw new TftrtException(what + " has shapes of different ranks (" + render(min) + ", "
          + render(opt) + ", " + render(max) + "); min, opt and max must have the same rank.");
    }
    for (int d = 0; d < min.length; d++) {
      if (min[d] < 0 || opt[d] < 0 || max[d] < 0) {
        throw new TftrtException(what + " has a negative dimension; give every dimension as a whole number.");
      }
      if (min[d] > opt[d] || opt[d] > max[d]) {
        throw new TftrtException(what + " has dimension " + d + " going " + min[d] + ":" + opt[d]
            + ":" + max[d] + "; each dimension must satisfy min <= opt <= max.");
      }
    }
  }

  /** A range holding only {@code shape}. */
  public static ShapeRange fixed(String name, long[] shape) {
    return new ShapeRange(name, shape, shape, shape);
  }

  /** Parses {@code name=min:opt:max} or {@code name=shape}; one sentence on bad syntax. */
  public static ShapeRange parse(String arg) {
    String a = arg == null ? "" : arg.strip();
    int eq = a.lastIndexOf('=');
    if (eq <= 0 || eq == a.length() - 1) {
      throw new TftrtException("--shape-range " + arg + " is not of the form name=min:opt:max "
          + "(each a shape such as 1,224,224,3).");
    }
    String name = a.substring(0, eq).strip();
    String[] parts = a.substring(eq + 1).split(":", -1);
    if (parts.length != 1 && parts.length != 3) {
      throw new TftrtException("--shape-range " + arg + " has " + parts.length + " shapes; give "
          + "min:opt:max (three) or one fixed shape.");
    }
    long[][] s = new long[parts.length][];
    for (int i = 0; i < parts.length; i++) s[i] = dims(arg, parts[i]);
    return parts.length == 1 ? fixed(name, s[0]) : new ShapeRange(name, s[0], s[1], s[2]);
  }

  private static long[] dims(String arg, String part) {
    String p = part.strip();
    if (p.isEmpty()) return new long[0]; // a scalar
    String[] ds = p.split("[,x]", -1);
    long[] r = new long[ds.length];
    for (int i = 0; i < ds.length; i++) {
      try {
        r[i] = Long.parseLong(ds[i].strip());
      } catch (NumberFormatException e) {
        throw new TftrtException("--shape-range " + arg + " has a dimension '" + ds[i].strip()
            + "' that is not a whole number.");
      }
    }
    return r;
  }

  public int rank() {
    return min.length;
  }

  /** Whether {@code shape} lies within this range (same rank, min <= d <= max everywhere). */
  public boolean contains(long[] shape) {
    if (shape.length != min.length) return false;
    for (int d = 0; d < shape.length; d++) {
      if (shape[d] < min[d] || shape[d] > max[d]) return false;
    }
    return true;
  }

  /** Whether this range fits a declared shape (-1 unknown): same rank, known dims fixed to them. */
  public boolean fits(long[] declared) {
    if (declared.length != min.length) return false;
    for (int d = 0; d < declared.length; d++) {
      if (declared[d] >= 0 && (min[d] != declared[d] || max[d] != declared[d])) return false;
    }
    return true;
  }

  /** The dimensions that vary (min != max). */
  public int[] varying() {
    return java.util.stream.IntStream.range(0, min.length).filter(d -> min[d] != max[d]).toArray();
  }

  /** The canonical text, as the cache key holds it: {@code name=1x3:8x3:32x3}. */
  public String canonical() {
    return name + "=" + render(min) + ":" + render(opt) + ":" + render(max);
  }

  static String render(long[] s) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < s.length; i++) {
      if (i > 0) b.append('x');
      b.append(s[i]);
    }
    return b.toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ShapeRange r && r.name.equals(name) && Arrays.equals(r.min, min)
        && Arrays.equals(r.opt, opt) && Arrays.equals(r.max, max);
  }

  @Override
  public int hashCode() {
    return canonical().hashCode();
  }

  @Override
  public String toString() {
    return canonical();
  }
}
