package dev.tftrt.tensor;

import dev.tftrt.util.Memory;

import dev.tftrt.util.AtomicFiles;


import dev.tftrt.TftrtException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.tensorflow.proto.DataType;

/**
 * Reads and writes NumPy .npy files (format versions 1.0, 2.0 and 3.0). The file is the magic
 * "\x93NUMPY", a major and minor version byte, a little-endian header length (2 bytes in 1.0, 4
 * bytes later), then a Python dict literal with 'descr', 'fortran_order' and 'shape', padded
 * with spaces and a newline so the raw element data that follows starts 64-byte aligned.
 */
public final class Npy {
  private Npy() {}

  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final int ALIGN = 64;
  /** numpy's headers nest two levels (a dict holding a shape tuple); deeper is not a header. */
  private static final int MAX_DEPTH = 16;
  /** numpy pads the header so the first axis can grow to this many digits in place. */
  private static final int GROWTH_AXIS_MAX_DIGITS = 21;
  private static final Pattern DESCR = Pattern.compile("([<>|=]?)(([a-zA-Z]+)(\\d*).*)");
  private static final Map<String, DataType> BY_DESCR = Map.ofEntries(
      Map.entry("f2", DataType.DT_HALF), Map.entry("f4", DataType.DT_FLOAT),
      Map.entry("f8", DataType.DT_DOUBLE), Map.entry("i1", DataType.DT_INT8),
      Map.entry("i2", DataType.DT_INT16), Map.entry("i4", DataType.DT_INT32),
      Map.entry("i8", DataType.DT_INT64), Map.entry("u1", DataType.DT_UINT8),
      Map.entry("u2", DataType.DT_UINT16), Map.entry("u4", DataType.DT_UINT32),
      Map.entry("u8", DataType.DT_UINT64), Map.entry("b1", DataType.DT_BOOL));
  private static final Map<DataType, String> DESCR_OF = new EnumMap<>(DataType.class);

  static {
    BY_DESCR.forEach((d, t) -> DESCR_OF.put(t, (d.endsWith("1") ? "|" : "<") + d));
  }

  // ---------------------------------------------------------------- reading

  public static HostTensor read(Path file) {
    return read(readFile(file), file.toString());
  }

  /** Parses .npy bytes; name (a file, an .npz entry) names them in error messages. */
  public static HostTensor read(byte[] bytes, String name) {
    if (bytes.length < MAGIC.length
        || !Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      throw new TftrtException(
          name + " is not a NumPy .npy file: it does not start with the \\x93NUMPY magic.");
    }
    if (bytes.length < 10) {
      throw new TftrtException(name + " is truncated: it ends inside its preamble.");
    }
    int major = bytes[6] & 0xff;
    int minor = bytes[7] & 0xff;
    if (major < 1 || major > 3 || minor != 0) {
      throw new TftrtException(name + " uses .npy format version " + major + "." + minor
          + ", which tftrt does not support.");
    }
    ByteBuffer le = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    int lenSize = major == 1 ? 2 : 4;
    if (bytes.length < 8 + lenSize) {
      throw new TftrtException(name + " is truncated: it ends inside its preamble.");
    }
    long headerLen = major == 1 ? le.getShort(8) & 0xffff : le.getInt(8) & 0xffffffffL;
    int headerStart = 8 + lenSize;
    if (headerLen > bytes.length - headerStart) {
      throw new TftrtException(name + " is truncated: its header should be " + headerLen
          + " bytes long but only " + (bytes.length - headerStart) + " follow.");
    }
    // Versions 1.0 and 2.0 encode the header as latin-1, 3.0 as UTF-8.
    String text = new String(bytes, headerStart, (int) headerLen,
        major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    Map<String, Object> header = new Literal(text, name).dict();
    int dataStart = headerStart + (int) headerLen;

    Object descrValue = header.get("descr");
    if (descrValue instanceof List) {
      throw new TftrtException(name + " holds a structured dtype, which tftrt does not support.");
    }
    if (!(descrValue instanceof String)) throw badHeader(name, "its 'descr' is not a string");
    if (!(header.get("fortran_order") instanceof Boolean)) {
      throw badHeader(name, "its 'fortran_order' is not True or False");
    }
    boolean fortran = (Boolean) header.get("fortran_order");
    long[] shape = shapeOf(header.get("shape"), name);

    Matcher m = DESCR.matcher((String) descrValue);
    if (!m.matches()) throw badHeader(name, "its 'descr' '" + descrValue + "' is not a dtype");
    String code = m.group(2); // without the byte order, as in 'f4' or 'M8[ns]'
    // '=' (native) and a missing order character never come from numpy's own writer; treat
    // them as little-endian like every platform tftrt runs on.
    boolean bigEndian = m.group(1).equals(">");
    String kind = m.group(3);
    String digits = m.group(4);
    if (kind.equals("O")) {
      throw new TftrtException(name + " holds Python objects (dtype 'O'), which tftrt cannot read"
          + " without unpickling them.");
    }
    boolean isBytes = kind.equals("S") || kind.equals("a");
    boolean isUnicode = kind.equals("U");
    DataType dtype = BY_DESCR.get(code);
    boolean isText = (isBytes || isUnicode) && !digits.isEmpty() && code.equals(kind + digits);
    if (dtype == null && !isText) {
      throw new TftrtException(name + " holds dtype '" + code + "', which tftrt does not support.");
    }

    long count;
    long need;
    long itemSize;
    try {
      count = 1;
      for (long d : shape) count = Math.multiplyExact(count, d);
      itemSize = dtype != null ? DTypes.byteSize(dtype)
          : Math.multiplyExact(Long.parseLong(digits), isUnicode ? 4 : 1);
      need = Math.multiplyExact(count, itemSize);
    } catch (ArithmeticException | NumberFormatException e) {
      throw badHeader(name, "its shape " + Arrays.toString(shape) + " is too large");
    }
    long available = bytes.length - (long) dataStart;
    if (need > available) {
      throw new TftrtException(name + " is truncated: its header promises " + need
          + " bytes of data but only " + available + " follow.");
    }
    if (count > Integer.MAX_VALUE - 8) {
      throw new TftrtException(name + " holds " + count + " elements, more than tftrt can hold.");
    }
    int n = (int) count;
    int size = (int) itemSize;
    // Fortran order stores the first axis fastest; perm maps file position to C position.
    int[] perm = fortran && shape.length > 1 ? fortranToC(shape, n) : null;

    if (dtype == null) {
      byte[][] values = new byte[n][];
      for (int i = 0; i < n; i++) {
        int at = dataStart + i * size;
        byte[] v = isBytes ? stripNuls(bytes, at, size)
            : utf32ToUtf8(bytes, at, size, bigEndian, name);
        values[perm == null ? i : perm[i]] = v;
      }
      return HostTensor.ofStrings(shape, values);
    }
    byte[] raw = Arrays.copyOfRange(bytes, dataStart, dataStart + (int) need);
    if (bigEndian && size > 1) {
      for (int at = 0; at < raw.length; at += size) {
        for (int a = at, b = at + size - 1; a < b; a++, b--) {
          byte t = raw[a];
          raw[a] = raw[b];
          raw[b] = t;
        }
      }
    }
    if (dtype == DataType.DT_BOOL) {
      for (int i = 0; i < raw.length; i++) raw[i] = (byte) (raw[i] != 0 ? 1 : 0);
    }
    if (perm != null) {
      byte[] c = new byte[raw.length];
      for (int i = 0; i < n; i++) System.arraycopy(raw, i * size, c, perm[i] * size, size);
      raw = c;
    }
    return HostTensor.of(dtype, shape, ByteBuffer.wrap(raw));
  }

  private static long[] shapeOf(Object value, String name) {
    if (!(value instanceof List)) throw badHeader(name, "its 'shape' is not a tuple");
    List<?> dims = (List<?>) value;
    long[] shape = new long[dims.size()];
    for (int i = 0; i < shape.length; i++) {
      if (!(dims.get(i) instanceof Long) || (Long) dims.get(i) < 0) {
        throw badHeader(name, "its 'shape' " + dims + " holds something other than a size");
      }
      shape[i] = (Long) dims.get(i);
    }
    return shape;
  }

  /** For each element in Fortran (first axis fastest) order, its index in C order. */
  private static int[] fortranToC(long[] shape, int n) {
    int rank = shape.length;
    long[] stride = new long[rank];
    long s = 1;
    for (int k = rank - 1; k >= 0; k--) {
      stride[k] = s;
      s *= shape[k];
    }
    int[] perm = new int[n];
    long[] idx = new long[rank];
    long at = 0;
    for (int f = 0; f < n; f++) {
      perm[f] = (int) at;
      for (int k = 0; k < rank; k++) { // odometer step, axis 0 turning fastest
        at += stride[k];
        if (++idx[k] < shape[k]) break;
        at -= stride[k] * shape[k];
        idx[k] = 0;
      }
    }
    return perm;
  }

  /** |S values are NUL-padded to the item size; numpy drops trailing NULs on access. */
  private static byte[] stripNuls(byte[] b, int at, int size) {
    int end = at + size;
    while (end > at && b[end - 1] == 0) end--;
    return Arrays.copyOfRange(b, at, end);
  }

  /** <U values are UTF-32 code points, NUL-padded; tftrt strings are UTF-8 bytes. */
  private static byte[] utf32ToUtf8(byte[] b, int at, int size, boolean bigEndian, String name) {
    ByteBuffer buf = ByteBuffer.wrap(b, at, size)
        .order(bigEndian ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
    StringBuilder sb = new StringBuilder();
    int nuls = 0;
    for (int i = 0; i < size / 4; i++) {
      int cp = buf.getInt(at + 4 * i);
      if (cp == 0) {
        nuls++;
        continue;
      }
      if (!Character.isValidCodePoint(cp)) {
        throw new TftrtException(name + " holds an invalid Unicode code point " + cp + ".");
      }
      for (; nuls > 0; nuls--) sb.append('\0'); // inner NULs are kept, trailing ones dropped
      sb.appendCodePoint(cp);
    }
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  static byte[] readFile(Path file) {
    return dev.tftrt.util.InputFiles.read(file, Memory.MAX_ARRAY, "a .npy file tftrt reads");
  }

  private static TftrtException badHeader(String name, String detail) {
    return new TftrtException(name + " has a malformed .npy header: " + detail + ".");
  }

  /** Parses the subset of Python literals numpy writes: dict, str, True/False, int, tuple. */
  private static final class Literal {
    private final String s;
    private final String name;
    private int p;
    private int depth;

    Literal(String s, String name) {
      this.s = s;
      this.name = name;
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> dict() {
      Object v = value();
      skipSpace();
      if (!(v instanceof Map)) throw badHeader(name, "it is not a Python dict");
      if (p < s.length()) throw bad("it has unexpected text after the dict");
      Map<String, Object> m = (Map<String, Object>) v;
      for (String key : List.of("descr", "fortran_order", "shape")) {
        if (!m.containsKey(key)) throw badHeader(name, "it lacks the '" + key + "' key");
      }
      for (String key : m.keySet()) {
        if (!List.of("descr", "fortran_order", "shape").contains(key)) {
          throw badHeader(name, "it has an unexpected key '" + key + "'");
        }
      }
      return m;
    }

    private Object value() {
      skipSpace();
      if (p >= s.length()) throw bad("it ends too early");
      char c = s.charAt(p);
      if ((c == '{' || c == '(' || c == '[') && ++depth > MAX_DEPTH) {
        throw bad("it nests more than " + MAX_DEPTH + " levels deep");
      }
      if (c == '{') {
        p++;
        Map<String, Object> m = new LinkedHashMap<>();
        while (!eat('}')) {
          Object key = value();
          if (!(key instanceof String)) throw bad("a key is not a string");
          if (!eat(':')) throw bad("expected ':'");
          m.put((String) key, value());
          if (!eat(',') && !peek('}')) throw bad("expected ',' or '}'");
        }
        depth--;
        return m;
      }
      if (c == '(' || c == '[') { // tuple or list: comma-separated, trailing comma allowed
        char close = c == '(' ? ')' : ']';
        p++;
        List<Object> list = new ArrayList<>();
        while (!eat(close)) {
          list.add(value());
          if (!eat(',') && !peek(close)) throw bad("expected ',' or '" + close + "'");
        }
        depth--;
        return list;
      }
      if (c == '\'' || c == '"') {
        StringBuilder sb = new StringBuilder();
        int start = p;
        for (p++; p < s.length() && s.charAt(p) != c; p++) {
          if (s.charAt(p) == '\\' && p + 1 < s.length()) p++;
          sb.append(s.charAt(p));
        }
        if (p >= s.length()) {
          p = start;
          throw bad("a string is not closed");
        }
        p++;
        return sb.toString();
      }
      for (String word : List.of("True", "False")) {
        if (s.startsWith(word, p)) {
          p += word.length();
          return word.equals("True");
        }
      }
      int start = p;
      if (c == '-') p++;
      while (p < s.length() && Character.isDigit(s.charAt(p))) p++;
      if (p > start && Character.isDigit(s.charAt(p - 1))) {
        long v;
        try {
          v = Long.parseLong(s.substring(start, p));
        } catch (NumberFormatException e) {
          throw bad("the number " + s.substring(start, p) + " is too large");
        }
        if (p < s.length() && s.charAt(p) == 'L') p++; // Python 2 long suffix
        return v;
      }
      p = start;
      throw bad("unexpected '" + c + "'");
    }

    private void skipSpace() {
      while (p < s.length() && Character.isWhitespace(s.charAt(p))) p++;
    }

    private boolean peek(char c) {
      skipSpace();
      return p < s.length() && s.charAt(p) == c;
    }

    private boolean eat(char c) {
      if (!peek(c)) return false;
      p++;
      return true;
    }

    private TftrtException bad(String what) {
      return badHeader(name, what + " at character " + p);
    }
  }

  // ---------------------------------------------------------------- writing

  /** Writes t atomically: a temporary file beside file is moved into place only on success. */
  public static void write(HostTensor t, Path file) {
    byte[] bytes = encode(t, file.toString());
    atomicWrite(file, out -> out.write(bytes));
  }

  /** The .npy encoding of t (version 1.0 unless the header needs 2.0, C order). */
  public static byte[] toBytes(HostTensor t) {
    return encode(t, "a .npy file");
  }

  /** target names the destination in error messages. */
  static byte[] encode(HostTensor t, String target) {
    long[] shape = t.shape();
    int n = (int) t.numElements();
    String descr;
    byte[] data;
    if (t.dtype() == DataType.DT_STRING) {
      int width = 1; // numpy gives even all-empty arrays an item size of at least 1
      for (int i = 0; i < n; i++) {
        byte[] v = t.string(i);
        if (v.length > 0 && v[v.length - 1] == 0) {
          throw new TftrtException("cannot write " + target + ": string element " + i
              + " ends with a NUL byte, which NumPy's |S dtype would drop.");
        }
        width = Math.max(width, v.length);
      }
      if ((long) width * n > Integer.MAX_VALUE - 1024) {
        throw new TftrtException("cannot write " + target + ": its strings are too large.");
      }
      descr = "|S" + width;
      data = new byte[width * n];
      for (int i = 0; i < n; i++) {
        byte[] v = t.string(i);
        System.arraycopy(v, 0, data, i * width, v.length);
      }
    } else {
      descr = DESCR_OF.get(t.dtype());
      if (descr == null) {
        throw new TftrtException("cannot write " + target + ": NumPy has no "
            + DTypes.name(t.dtype()) + " dtype, so convert the tensor to float32 first.");
      }
      ByteBuffer b = t.data();
      data = new byte[b.remaining()];
      b.get(data);
    }
    byte[] header = header(descr, shape);
    byte[] out = Arrays.copyOf(header, header.length + data.length);
    System.arraycopy(data, 0, out, header.length, data.length);
    return out;
  }

  /** Magic, version, length and the dict padded exactly as numpy.save pads it. */
  private static byte[] header(String descr, long[] shape) {
    StringBuilder dims = new StringBuilder("(");
    for (int i = 0; i < shape.length; i++) dims.append(i > 0 ? ", " : "").append(shape[i]);
    dims.append(shape.length == 1 ? ",)" : ")");
    String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + dims + ", }";
    if (shape.length > 0) {
      dict += " ".repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - Long.toString(shape[0]).length()));
    }
    for (int version = 1; ; version++) {
      int prefix = MAGIC.length + 2 + (version == 1 ? 2 : 4);
      int len = dict.length() + 1; // + the final newline
      len += ALIGN - (prefix + len) % ALIGN; // numpy pads by 1..64 spaces, never 0
      if (version == 1 && len > 0xffff) continue;
      ByteBuffer b = ByteBuffer.allocate(prefix + len).order(ByteOrder.LITTLE_ENDIAN);
      b.put(MAGIC).put((byte) version).put((byte) 0);
      if (version == 1) b.putShort((short) len); else b.putInt(len);
      b.put(dict.getBytes(StandardCharsets.ISO_8859_1));
      while (b.remaining() > 1) b.put((byte) ' ');
      b.put((byte) '\n');
      return b.array();
    }
  }

  /** Writes file all at once or not at all (see {@link AtomicFiles}). */
  static void atomicWrite(Path file, AtomicFiles.Writer body) {
    AtomicFiles.write(file, body);
  }

  static String reason(IOException e) {
    return AtomicFiles.reason(e);
  }

}
