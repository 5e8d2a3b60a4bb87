package dev.tftrt.fuzz;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;

/**
 * Structure-aware .npy mutations: the preamble and header dict are rebuilt with a wrong field
 * (descr, fortran_order, shape, version, header length) over the original or resized data.
 */
public final class NpyMutator {
  private NpyMutator() {}

  private static final String[] DESCRS = {
      "<f4", "<f8", ">f4", "<i4", "<i8", "|u1", "|b1", "<f2", "<c8", "<U3", "|S5", "|O", "<M8", "V8", "f4", "<f",
      "", "<f4<f4", "'x'"};
  private static final String[] SHAPES = {
      "()", "(1,)", "(1, 784)", "(784,)", "(0,)", "(-1, 784)", "(100000000, 784)", "(9223372036854775807,)",
      "(4294967296, 4294967296)", "(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)",
      "(1.5,)", "('a',)", "[1, 784]", "(1, (784,))", "(", "(1 784)"};

  /** The seed's data under a mutated header (or a mutated data section under its own header). */
  public static byte[] mutate(byte[] npy, Random r, StringBuilder d) {
    int headerLen = (npy[8] & 0xff) | (npy[9] & 0xff) << 8;
    String header = new String(npy, 10, headerLen, StandardCharsets.ISO_8859_1);
    byte[] data = java.util.Arrays.copyOfRange(npy, 10 + headerLen, npy.length);
    String descr = field(header, "descr", "'<f4'");
    String fortran = field(header, "fortran_order", "False");
    String shape = field(header, "shape", "(1,)");
    int major = 1;
    String rawHeader = null;
    switch (r.nextInt(9)) {
      case 0 -> descr = "'" + DESCRS[r.nextInt(DESCRS.length)] + "'";
      case 1 -> fortran = new String[] {"True", "1", "'no'", "None", ""}[r.nextInt(5)];
      case 2 -> shape = SHAPES[r.nextInt(SHAPES.length)];
      case 3 -> major = new int[] {0, 2, 3, 4, 255}[r.nextInt(5)];
      case 4 -> {
        int depth = new int[] {10, 1000, 50000}[r.nextInt(3)];
        shape = "(".repeat(depth) + "1" + ",)".repeat(depth);
      }
      case 5 -> rawHeader = new String[] {
          "{'descr': '<f4', 'fortran_order': False}", "{}", "not a dict", "{'descr': '<f4', 'shape': (1,), 'shape': (2,)}",
          "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': [[[[[[[[]]]]]]]]}",
          "{" + "'a': {".repeat(20000) + "}".repeat(20001)}[r.nextInt(6)];
      case 6 -> data = java.util.Arrays.copyOf(data, r.nextInt(data.length + 1));
      case 7 -> data = java.util.Arrays.copyOf(data, data.length + 1 + r.nextInt(64));
      default -> {
        // A header length field pointing past the end of the file, or to its middle.
        byte[] c = npy.clone();
        int len = r.nextBoolean() ? 0xffff : r.nextInt(Math.max(1, headerLen));
        c[8] = (byte) len;
        c[9] = (byte) (len >> 8);
        d.append("npy: header length ").append(len).append("; ");
        return c;
      }
    }
    String dict = rawHeader != null ? rawHeader
        : "{'descr': " + descr + ", 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
    d.append("npy: v").append(major).append(" ").append(dict.length() > 120 ? dict.substring(0, 120) + "..." : dict)
        .append(" + ").append(data.length).append(" data bytes; ");
    return build(major, dict, data);
  }

  static byte[] build(int major, String dict, byte[] data) {
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    o.writeBytes(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
    int lenSize = major == 1 ? 2 : 4;
    int total = 8 + lenSize + dict.length() + 1;
    int pad = (64 - total % 64) % 64;
    String h = dict + " ".repeat(pad) + "\n";
    int len = h.length();
    o.write(len & 0xff);
    o.write(len >> 8 & 0xff);
    if (lenSize == 4) {
      o.write(len >> 16 & 0xff);
      o.write(len >> 24 & 0xff);
    }
    o.writeBytes(h.getBytes(StandardCharsets.ISO_8859_1));
    o.writeBytes(data);
    return o.toByteArray();
  }

  /** The source text of one dict entry's value, as numpy writes it (no nesting of dicts). */
  static String field(String header, String key, String fallback) {
    int k = header.indexOf("'" + key + "':");
    if (k < 0) return fallback;
    int start = k + key.length() + 3;
    int depth = 0;
    for (int i = start; i < header.length(); i++) {
      char c = header.charAt(i);
      if (c == '(') depth++;
      else if (c == ')') depth--;
      else if ((c == ',' || c == '}') && depth == 0) return header.substring(start, i).trim();
    }
    return fallback;
  }
}
