package dev.tftrt.fuzz;

import java.util.Arrays;
import java.util.Random;

/** Byte-level mutations: what a damaged download or disk does to a file, without its structure. */
public final class ByteMutator {
  private ByteMutator() {}

  /** One to three random byte mutations; describe receives what was done. */
  public static byte[] mutate(byte[] in, byte[] other, Random r, StringBuilder describe) {
    byte[] b = in;
    int n = 1 + r.nextInt(3);
    for (int i = 0; i < n; i++) b = once(b, other, r, describe);
    return b;
  }

  static byte[] once(byte[] b, byte[] other, Random r, StringBuilder d) {
    if (b.length == 0) {
      d.append("bytes: fill 16 random; ");
      return random(r, 16);
    }
    switch (r.nextInt(8)) {
      case 0 -> {
        int flips = 1 + r.nextInt(8);
        byte[] c = b.clone();
        for (int i = 0; i < flips; i++) c[r.nextInt(c.length)] ^= (byte) (1 << r.nextInt(8));
        d.append("bytes: flip ").append(flips).append(" bits; ");
        return c;
      }
      case 1 -> {
        byte[] c = b.clone();
        int at = r.nextInt(c.length);
        int len = Math.min(c.length - at, 1 + r.nextInt(16));
        byte[] v = interesting(r, len);
        System.arraycopy(v, 0, c, at, len);
        d.append("bytes: overwrite ").append(len).append(" at ").append(at).append("; ");
        return c;
      }
      case 2 -> {
        int at = r.nextInt(b.length + 1);
        byte[] ins = interesting(r, 1 + r.nextInt(32));
        d.append("bytes: insert ").append(ins.length).append(" at ").append(at).append("; ");
        return splice(b, at, 0, ins);
      }
      case 3 -> {
        int at = r.nextInt(b.length);
        int len = Math.min(b.length - at, 1 + r.nextInt(Math.max(1, b.length / 8)));
        d.append("bytes: delete ").append(len).append(" at ").append(at).append("; ");
        return splice(b, at, len, new byte[0]);
      }
      case 4 -> {
        int keep = r.nextInt(b.length);
        d.append("bytes: truncate to ").append(keep).append("; ");
        return Arrays.copyOf(b, keep);
      }
      case 5 -> {
        byte[] src = other != null && other.length > 0 ? other : b;
        int from = r.nextInt(src.length);
        int len = Math.min(src.length - from, 1 + r.nextInt(256));
        int at = r.nextInt(b.length + 1);
        d.append("bytes: splice ").append(len).append(" foreign at ").append(at).append("; ");
        return splice(b, at, 0, Arrays.copyOfRange(src, from, from + len));
      }
      case 6 -> {
        int from = r.nextInt(b.length);
        int len = Math.min(b.length - from, 1 + r.nextInt(64));
        d.append("bytes: duplicate ").append(len).append(" at ").append(from).append("; ");
        return splice(b, from, 0, Arrays.copyOfRange(b, from, from + len));
      }
      default -> {
        // A varint-looking length prefix blown up: protobuf and npy both trust such fields.
        byte[] c = b.clone();
        int at = r.nextInt(c.length);
        int len = Math.min(c.length - at, 5);
        for (int i = 0; i < len; i++) c[at + i] = (byte) (i == len - 1 ? 0x0f : 0xff);
        d.append("bytes: huge varint at ").append(at).append("; ");
        return c;
      }
    }
  }

  static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
    byte[] c = new byte[b.length - remove + insert.length];
    System.arraycopy(b, 0, c, 0, at);
    System.arraycopy(insert, 0, c, at, insert.length);
    System.arraycopy(b, at + remove, c, at + insert.length, b.length - at - remove);
    return c;
  }

  static byte[] random(Random r, int n) {
    byte[] v = new byte[n];
    r.nextBytes(v);
    return v;
  }

  /** Random bytes, or the boundary values parsers trip on (0, 0xff, 0x7f, 0x80). */
  static byte[] interesting(Random r, int n) {
    byte[] v = random(r, n);
    if (r.nextBoolean()) {
      byte[] edges = {0, (byte) 0xff, 0x7f, (byte) 0x80, 1};
      Arrays.fill(v, edges[r.nextInt(edges.length)]);
    }
    return v;
  }
}
