package dev.tftrt.tensor;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.TftrtException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.DataType;

class NpyTest {
  @TempDir Path dir;

  // ------------------------------------------------------------------ fixtures

  /** A .npy file: magic, version, header length, dict padded to 64 bytes with a newline. */
  private static byte[] npy(int major, String dict, byte[] data) {
    int prefix = major == 1 ? 10 : 12;
    StringBuilder h = new StringBuilder(dict);
    while ((prefix + h.length() + 1) % 64 != 0) h.append(' ');
    h.append('\n');
    return raw(major, h.toString().getBytes(major == 3 ? UTF_8 : ISO_8859_1), data);
  }

  private static byte[] raw(int major, byte[] header, byte[] data) {
    ByteBuffer b = ByteBuffer.allocate((major == 1 ? 10 : 12) + header.length + data.length)
        .order(ByteOrder.LITTLE_ENDIAN);
    b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
    if (major == 1) b.putShort((short) header.length); else b.putInt(header.length);
    return b.put(header).put(data).array();
  }

  private static byte[] dict1(String descr, String shape, byte[] data) {
    return npy(1, "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape
        + ", }", data);
  }

  private static byte[] floatsLe(float... v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) b.putFloat(f);
    return b.array();
  }

  private static double[] values(HostTensor t) {
    double[] d = new double[(int) t.numElements()];
    for (int i = 0; i < d.length; i++) d[i] = t.getDouble(i);
    return d;
  }

  private static List<String> strings(HostTensor t) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < t.numElements(); i++) out.add(new String(t.string(i), UTF_8));
    return out;
  }

  private static String header(byte[] npy) {
    int len = (npy[8] & 0xff) | (npy[9] & 0xff) << 8;
    return new String(npy, 10, len, ISO_8859_1);
  }

  private static void assertMessage(String expected, Executable e) {
    assertEquals(expected, assertThrows(TftrtException.class, e).getMessage());
  }

  private static List<String> listing(Path d) throws IOException {
    try (Stream<Path> s = Files.list(d)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  // ------------------------------------------------------------------ reading fixtures

  @Test
  void readsFloat32ExactlyAsNumpyWritesIt() {
    // numpy 2.x pads the dict with 21 - len("2") spaces for axis growth, then to 64 bytes.
    String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    String header = dict + " ".repeat(128 - 10 - dict.length() - 1) + "\n";
    byte[] file = raw(1, header.getBytes(ISO_8859_1), floatsLe(0f, 1.5f, -2f, 3f, 4.25f, 1e30f));
    assertEquals(152, file.length);

    HostTensor t = Npy.read(file, "a.npy");
    assertEquals(DataType.DT_FLOAT, t.dtype());
    assertArrayEquals(new long[] {2, 3}, t.shape());
    assertArrayEquals(new double[] {0, 1.5, -2, 3, 4.25, 1e30f}, values(t));
    // and our writer produces the same bytes numpy does
    assertArrayEquals(file, Npy.toBytes(t));
  }

  @Test
  void readsBigEndianInt32() {
    ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.BIG_ENDIAN);
    b.putInt(1).putInt(-2).putInt(0x01020304).putInt(Integer.MIN_VALUE);
    HostTensor t = Npy.read(dict1(">i4", "(2, 2)", b.array()), "be.npy");
    assertEquals(DataType.DT_INT32, t.dtype());
    assertArrayEquals(new long[] {2, 2}, t.shape());
    assertArrayEquals(new double[] {1, -2, 0x01020304, Integer.MIN_VALUE}, values(t));
    assertEquals(0x04, t.data().get(8)); // stored little-endian now
  }

  @Test
  void readsBigEndianFloat64AndUint16() {
    ByteBuffer d = ByteBuffer.allocate(16).order(ByteOrder.BIG_ENDIAN).putDouble(-0.125)
        .putDouble(6.5e300);
    assertArrayEquals(new double[] {-0.125, 6.5e300},
        values(Npy.read(dict1(">f8", "(2,)", d.array()), "x.npy")));
    ByteBuffer u = ByteBuffer.allocate(4).order(ByteOrder.BIG_ENDIAN).putShort((short) 0xfffe)
        .putShort((short) 0x0102);
    HostTensor t = Npy.read(dict1(">u2", "(2,)", u.array()), "x.npy");
    assertEquals(DataType.DT_UINT16, t.dtype());
    assertArrayEquals(new double[] {65534, 258}, values(t));
  }

  @Test
  void readsFortranOrderIntoCOrder() {
    // [[0, 1, 2], [3, 4, 5]] stored column by column
    ByteBuffer b = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
    for (int v : new int[] {0, 3, 1, 4, 2, 5}) b.putShort((short) v);
    byte[] file = npy(1, "{'descr': '<i2', 'fortran_order': True, 'shape': (2, 3), }", b.array());
    HostTensor t = Npy.read(file, "f.npy");
    assertEquals(DataType.DT_INT16, t.dtype());
    assertArrayEquals(new long[] {2, 3}, t.shape());
    assertArrayEquals(new double[] {0, 1, 2, 3, 4, 5}, values(t));
  }

  @Test
  void readsFortranOrder3dAndStrings() {
    // element [i][j][k] holds its C index i*12 + j*4 + k; Fortran order turns i fastest.
    ByteBuffer b = ByteBuffer.allocate(24 * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (int k = 0; k < 4; k++) {
      for (int j = 0; j < 3; j++) {
        for (int i = 0; i < 2; i++) b.putLong(i * 12 + j * 4 + k);
      }
    }
    HostTensor t = Npy.read(npy(1,
        "{'descr': '<i8', 'fortran_order': True, 'shape': (2, 3, 4), }", b.array()), "f.npy");
    double[] expected = new double[24];
    for (int i = 0; i < 24; i++) expected[i] = i;
    assertArrayEquals(expected, values(t));

    byte[] s = "a\0c\0bbdd".getBytes(ISO_8859_1); // [[a, bb], [c, dd]] column by column
    HostTensor st = Npy.read(npy(1,
        "{'descr': '|S2', 'fortran_order': True, 'shape': (2, 2), }", s), "s.npy");
    assertEquals(List.of("a", "bb", "c", "dd"), strings(st));
  }

  @Test
  void readsVersion2And3Headers() {
    ByteBuffer b = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
    b.putDouble(1.25).putDouble(-7).putDouble(Double.MAX_VALUE);
    byte[] v2 = npy(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", b.array());
    assertEquals(0, (v2.length - 24) % 64);
    HostTensor t = Npy.read(v2, "v2.npy");
    assertEquals(DataType.DT_DOUBLE, t.dtype());
    assertArrayEquals(new long[] {3}, t.shape());
    assertArrayEquals(new double[] {1.25, -7, Double.MAX_VALUE}, values(t));

    // 3.0 is 2.0 with a UTF-8 header; '<U2' holds UTF-32 code points
    ByteBuffer u = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    u.putInt('h').putInt(0xe9).putInt(0x20ac).putInt(0);
    HostTensor s = Npy.read(npy(3,
        "{'descr': '<U2', 'fortran_order': False, 'shape': (2,), }", u.array()), "v3.npy");
    assertEquals(DataType.DT_STRING, s.dtype());
    assertEquals(List.of("h\u00e9", "\u20ac"), strings(s));
  }

  @Test
  void readsNulPaddedBytesAndNormalisesBools() {
    HostTensor s = Npy.read(dict1("|S3", "(3,)", "ab\0xyz\0\0\0".getBytes(ISO_8859_1)), "s.npy");
    assertArrayEquals(new long[] {3}, s.shape());
    assertEquals(List.of("ab", "xyz", ""), strings(s));

    HostTensor b = Npy.read(dict1("|b1", "(3,)", new byte[] {0, 1, 2}), "b.npy");
    assertEquals(DataType.DT_BOOL, b.dtype());
    assertEquals(1, b.data().get(2));
  }

  @Test
  void toleratesOldStyleHeaders() {
    // Python 2 numpy wrote 3L for longs; unpadded headers are still legal
    byte[] file = raw(1, "{'descr':'<i4','shape':(1L,),'fortran_order':False}\n"
        .getBytes(ISO_8859_1), new byte[] {7, 0, 0, 0});
    assertArrayEquals(new double[] {7}, values(Npy.read(file, "old.npy")));
  }

  // ------------------------------------------------------------------ round trips

  private static final Map<DataType, String> DESCR = new LinkedHashMap<>();

  static {
    DESCR.put(DataType.DT_FLOAT, "<f4");
    DESCR.put(DataType.DT_DOUBLE, "<f8");
    DESCR.put(DataType.DT_HALF, "<f2");
    DESCR.put(DataType.DT_INT8, "|i1");
    DESCR.put(DataType.DT_INT16, "<i2");
    DESCR.put(DataType.DT_INT32, "<i4");
    DESCR.put(DataType.DT_INT64, "<i8");
    DESCR.put(DataType.DT_UINT8, "|u1");
    DESCR.put(DataType.DT_UINT16, "<u2");
    DESCR.put(DataType.DT_UINT32, "<u4");
    DESCR.put(DataType.DT_UINT64, "<u8");
    DESCR.put(DataType.DT_BOOL, "|b1");
  }

  private static HostTensor filled(DataType type, long... shape) {
    int n = (int) HostTensor.numElements(shape);
    ByteBuffer b = ByteBuffer.allocate(n * DTypes.byteSize(type)).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      HostTensor.putDouble(b, i, type, type == DataType.DT_BOOL ? i % 2 : (i * 37 % 101) - 3);
    }
    return HostTensor.of(type, shape, b);
  }

  @Test
  void roundTripsEveryNumericDtypeAndShape() {
    long[][] shapes = {{2, 3}, {}, {0}, {3, 0}, {4}, {1, 2, 1, 3}};
    for (Map.Entry<DataType, String> e : DESCR.entrySet()) {
      for (long[] shape : shapes) {
        HostTensor t = filled(e.getKey(), shape);
        byte[] bytes = Npy.toBytes(t);
        assertTrue(header(bytes).startsWith("{'descr': '" + e.getValue() + "', "), e.getValue());
        assertEquals(0, (bytes.length - t.data().remaining()) % 64);
        HostTensor back = Npy.read(bytes, "rt.npy");
        assertTrue(t.contentEquals(back), t + " vs " + back);
      }
    }
    // a concrete check that values survive, not only bytes
    HostTensor h = Npy.read(Npy.toBytes(HostTensor.scalarOf(DataType.DT_HALF, -2.5)), "h.npy");
    assertEquals(-2.5, h.getDouble(0));
    HostTensor u = HostTensor.of(DataType.DT_UINT64, new long[] {1},
        ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1L));
    assertEquals(-1L, Npy.read(Npy.toBytes(u), "u.npy").data().getLong(0));
  }

  @Test
  void writesShapesLikeNumpy() {
    assertTrue(header(Npy.toBytes(filled(DataType.DT_INT32))).contains("'shape': (), }"));
    assertTrue(header(Npy.toBytes(filled(DataType.DT_INT32, 4))).contains("'shape': (4,), }"));
    assertTrue(header(Npy.toBytes(filled(DataType.DT_INT32, 3, 0)))
        .contains("'shape': (3, 0), }"));
    assertEquals(1, Npy.toBytes(filled(DataType.DT_INT32, 4))[6]); // version 1.0
  }

  @Test
  void roundTripsStrings() {
    byte[][] v = {"ab".getBytes(UTF_8), new byte[0], "x\0y\u00e9".getBytes(UTF_8)};
    HostTensor t = HostTensor.ofStrings(new long[] {3}, v);
    byte[] bytes = Npy.toBytes(t);
    assertTrue(header(bytes).startsWith("{'descr': '|S5', "), header(bytes));
    assertEquals(15, bytes.length - 128);
    HostTensor back = Npy.read(bytes, "s.npy");
    assertTrue(t.contentEquals(back));
    assertEquals(List.of("ab", "", "x\0y\u00e9"), strings(back));

    HostTensor scalar = HostTensor.ofStrings(new long[0], new byte[][] {"hi".getBytes(UTF_8)});
    assertTrue(scalar.contentEquals(Npy.read(Npy.toBytes(scalar), "s.npy")));

    HostTensor empty = HostTensor.ofStrings(new long[] {0, 2}, new byte[0][]);
    byte[] eb = Npy.toBytes(empty);
    assertTrue(header(eb).startsWith("{'descr': '|S1', "));
    assertTrue(empty.contentEquals(Npy.read(eb, "e.npy")));
  }

  @Test
  void writesVersion2WhenTheHeaderNeedsIt() {
    long[] shape = new long[25000]; // ", 1" each: a header over 65535 bytes
    java.util.Arrays.fill(shape, 1);
    HostTensor t = HostTensor.ofFloats(shape, 3.5f);
    byte[] bytes = Npy.toBytes(t);
    assertEquals(2, bytes[6]);
    int len = ByteBuffer.wrap(bytes, 8, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    assertEquals(0, (12 + len) % 64);
    assertEquals(12 + len + 4, bytes.length);
    HostTensor back = Npy.read(bytes, "big.npy");
    assertEquals(25000, back.rank());
    assertEquals(3.5, back.getDouble(0));
  }

  @Test
  void writesAndReadsFiles() throws IOException {
    Path p = dir.resolve("t.npy");
    HostTensor t = HostTensor.ofInts(new long[] {2, 2}, 1, -2, 3, Integer.MAX_VALUE);
    Npy.write(t, p);
    assertArrayEquals(Npy.toBytes(t), Files.readAllBytes(p));
    assertArrayEquals(new double[] {1, -2, 3, Integer.MAX_VALUE}, values(Npy.read(p)));
    // replacing an existing file works and leaves nothing else behind
    Npy.write(HostTensor.ofFloats(new long[] {1}, 9f), p);
    assertArrayEquals(new double[] {9}, values(Npy.read(p)));
    assertEquals(List.of("t.npy"), listing(dir));
  }

  // ------------------------------------------------------------------ malformed input

  @Test
  void rejectsMalformedFilesWithOneSentence() {
    assertMessage("x.npy is not a NumPy .npy file: it does not start with the \\x93NUMPY magic.",
        () -> Npy.read("PK\3\4 not numpy".getBytes(ISO_8859_1), "x.npy"));
    assertMessage("x.npy is not a NumPy .npy file: it does not start with the \\x93NUMPY magic.",
        () -> Npy.read(new byte[0], "x.npy"));
    byte[] full = dict1("<f4", "(2, 3)", floatsLe(1, 2, 3, 4, 5, 6));
    assertMessage("x.npy is truncated: its header promises 24 bytes of data but only 8 follow.",
        () -> Npy.read(java.util.Arrays.copyOf(full, full.length - 16), "x.npy"));
    assertMessage("x.npy is truncated: its header should be 118 bytes long but only 10 follow.",
        () -> Npy.read(java.util.Arrays.copyOf(full, 20), "x.npy"));
    assertMessage("x.npy is truncated: it ends inside its preamble.",
        () -> Npy.read(java.util.Arrays.copyOf(full, 7), "x.npy"));
    byte[] v4 = full.clone();
    v4[6] = 4;
    assertMessage("x.npy uses .npy format version 4.0, which tftrt does not support.",
        () -> Npy.read(v4, "x.npy"));
  }

  @Test
  void rejectsBadHeaders() {
    byte[] none = new byte[0];
    assertMessage("x.npy has a malformed .npy header: it lacks the 'shape' key.",
        () -> Npy.read(npy(1, "{'descr': '<f4', 'fortran_order': False}", none), "x.npy"));
    assertMessage("x.npy has a malformed .npy header: expected ':' at character 9.",
        () -> Npy.read(npy(1, "{'descr' '<f4'}", none), "x.npy"));
    assertMessage("x.npy has a malformed .npy header: it has an unexpected key 'extra'.",
        () -> Npy.read(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), "
            + "'extra': 1}", none), "x.npy"));
    assertMessage("x.npy has a malformed .npy header: its 'shape' [2, -1] holds something other"
            + " than a size.",
        () -> Npy.read(dict1("<f4", "(2, -1)", none), "x.npy"));
    assertMessage("x.npy has a malformed .npy header: its 'fortran_order' is not True or False.",
        () -> Npy.read(npy(1, "{'descr': '<f4', 'fortran_order': 0, 'shape': ()}", none),
            "x.npy"));
    assertMessage("x.npy has a malformed .npy header: it is not a Python dict.",
        () -> Npy.read(npy(1, "['descr']", none), "x.npy"));
    assertMessage("x.npy has a malformed .npy header: a string is not closed at character 10.",
        () -> Npy.read(npy(1, "{'descr': '<f4}", none), "x.npy"));
    assertMessage("x.npy has a malformed .npy header: its shape [4294967296, 4294967296] is too"
            + " large.",
        () -> Npy.read(dict1("<f4", "(4294967296, 4294967296)", none), "x.npy"));
  }

  @Test
  void rejectsUnsupportedDtypes() {
    byte[] none = new byte[0];
    assertMessage("x.npy holds dtype 'c16', which tftrt does not support.",
        () -> Npy.read(dict1("<c16", "(0,)", none), "x.npy"));
    assertMessage("x.npy holds dtype 'M8[ns]', which tftrt does not support.",
        () -> Npy.read(dict1("<M8[ns]", "(0,)", none), "x.npy"));
    assertMessage("x.npy holds dtype 'f16', which tftrt does not support.",
        () -> Npy.read(dict1("<f16", "(0,)", none), "x.npy"));
    assertMessage("x.npy holds Python objects (dtype 'O'), which tftrt cannot read without"
            + " unpickling them.",
        () -> Npy.read(dict1("|O", "(2,)", new byte[16]), "x.npy"));
    assertMessage("x.npy holds a structured dtype, which tftrt does not support.",
        () -> Npy.read(npy(1, "{'descr': [('a', '<f4'), ('b', '<i8')], 'fortran_order': False,"
            + " 'shape': (1,), }", new byte[12]), "x.npy"));
    assertMessage("cannot write a .npy file: NumPy has no bfloat16 dtype, so convert the tensor"
            + " to float32 first.",
        () -> Npy.toBytes(filled(DataType.DT_BFLOAT16, 2)));
  }

  @Test
  void rejectsMissingFiles() {
    Path p = dir.resolve("nope.npy");
    assertMessage(p + " does not exist.", () -> Npy.read(p));
    Path z = dir.resolve("nope.npz");
    assertMessage(z + " does not exist.", () -> Npz.read(z));
  }

  // ------------------------------------------------------------------ npz

  @Test
  void roundTripsNpzInOrder() throws IOException {
    Map<String, HostTensor> in = new LinkedHashMap<>();
    in.put("zeta", HostTensor.ofFloats(new long[] {2}, 1.5f, -3f));
    in.put("alpha", HostTensor.ofStrings(new long[] {1}, new byte[][] {"yes".getBytes(UTF_8)}));
    in.put("mid", HostTensor.scalarOf(DataType.DT_INT64, 42));
    for (boolean compress : new boolean[] {false, true}) {
      Path p = dir.resolve("a" + compress + ".npz");
      Npz.write(in, p, compress);
      try (ZipFile zip = new ZipFile(p.toFile())) {
        ZipEntry e = zip.getEntry("zeta.npy");
        assertEquals(compress ? ZipEntry.DEFLATED : ZipEntry.STORED, e.getMethod());
      }
      LinkedHashMap<String, HostTensor> out = Npz.read(p);
      assertEquals(List.of("zeta", "alpha", "mid"), new ArrayList<>(out.keySet()));
      assertArrayEquals(new double[] {1.5, -3}, values(out.get("zeta")));
      assertEquals(List.of("yes"), strings(out.get("alpha")));
      assertEquals(42, out.get("mid").getDouble(0));
      assertEquals(0, out.get("mid").rank());
    }
    Npz.write(Map.of(), dir.resolve("empty.npz"));
    assertTrue(Npz.read(dir.resolve("empty.npz")).isEmpty());
  }

  private Path zipOf(String name, Map<String, byte[]> entries) throws IOException {
    Path p = dir.resolve(name);
    try (OutputStream o = Files.newOutputStream(p); ZipOutputStream z = new ZipOutputStream(o)) {
      for (Map.Entry<String, byte[]> e : entries.entrySet()) {
        z.putNextEntry(new ZipEntry(e.getKey()));
        z.write(e.getValue());
        z.closeEntry();
      }
    }
    return p;
  }

  @Test
  void rejectsMalformedNpz() throws IOException {
    Path notZip = dir.resolve("plain.npz");
    Files.write(notZip, "hello".getBytes(UTF_8));
    assertMessage(notZip + " is not a NumPy .npz file: it is not a valid zip archive.",
        () -> Npz.read(notZip));

    Path txt = zipOf("txt.npz", Map.of("readme.txt", new byte[] {1}));
    assertMessage(txt + " holds the entry 'readme.txt', which is not a .npy file.",
        () -> Npz.read(txt));

    byte[] full = dict1("<f4", "(2, 3)", floatsLe(1, 2, 3, 4, 5, 6));
    Path cut = zipOf("cut.npz", Map.of("x.npy", java.util.Arrays.copyOf(full, full.length - 4)));
    assertMessage(cut + " entry 'x.npy' is truncated: its header promises 24 bytes of data but"
        + " only 20 follow.", () -> Npz.read(cut));
  }

  @Test
  void readsHandMadeDeflatedNpz() throws IOException {
    Map<String, byte[]> entries = new LinkedHashMap<>();
    entries.put("b.npy", dict1("<i4", "(1,)", new byte[] {5, 0, 0, 0}));
    entries.put("a.npy", dict1("|u1", "(2,)", new byte[] {(byte) 200, 1}));
    Map<String, HostTensor> m = Npz.read(zipOf("h.npz", entries));
    assertEquals(List.of("b", "a"), new ArrayList<>(m.keySet()));
    assertArrayEquals(new double[] {5}, values(m.get("b")));
    assertArrayEquals(new double[] {200, 1}, values(m.get("a")));
  }

  // ------------------------------------------------------------------ atomic writes

  @Test
  void failedWriteToMissingDirectoryLeavesNothing() {
    Path missing = dir.resolve("missing");
    Path p = missing.resolve("x.npy");
    HostTensor t = HostTensor.ofFloats(new long[] {1}, 1f);
    assertMessage("cannot write " + p + ": its folder does not exist.", () -> Npy.write(t, p));
    assertMessage("cannot write " + missing.resolve("x.npz") + ": its folder does not exist.",
        () -> Npz.write(Map.of("t", t), missing.resolve("x.npz")));
    assertFalse(Files.exists(missing));
  }

  @Test
  void failedWritesKeepTheExistingFile() throws IOException {
    // NumPy's |S drops trailing NULs, so such a string cannot be written faithfully.
    HostTensor bad = HostTensor.ofStrings(new long[] {2},
        new byte[][] {"ok".getBytes(UTF_8), {'a', 0}});
    HostTensor good = HostTensor.ofFloats(new long[] {3}, 1f, 2f, 3f);

    Path npy = dir.resolve("keep.npy");
    Files.write(npy, "original".getBytes(UTF_8));
    assertMessage("cannot write " + npy + ": string element 1 ends with a NUL byte, which"
        + " NumPy's |S dtype would drop.", () -> Npy.write(bad, npy));
    assertEquals("original", Files.readString(npy));

    // in an .npz the failure comes after the first entry is already in the temporary file
    Path npz = dir.resolve("keep.npz");
    Files.write(npz, "original".getBytes(UTF_8));
    Map<String, HostTensor> m = new LinkedHashMap<>();
    m.put("good", good);
    m.put("bad", bad);
    assertMessage("cannot write " + npz + " entry 'bad.npy': string element 1 ends with a NUL"
        + " byte, which NumPy's |S dtype would drop.", () -> Npz.write(m, npz));
    assertEquals("original", Files.readString(npz));
    assertEquals(List.of("keep.npy", "keep.npz"), listing(dir));
  }

  @Test
  void failedMoveRemovesTheTemporaryFile() throws IOException {
    // the target is a non-empty directory: the temp file is complete but cannot replace it
    Path target = dir.resolve("busy.npy");
    Files.createDirectory(target);
    Files.write(target.resolve("inside"), new byte[] {1});
    TftrtException e = assertThrows(TftrtException.class,
        () -> Npy.write(HostTensor.ofFloats(new long[] {1}, 1f), target));
    assertEquals("cannot write " + target + ": it is a folder.", e.getMessage());
    assertTrue(Files.isDirectory(target));
    assertEquals(List.of("busy.npy"), listing(dir));
  }
}
