package dev.tftrt.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.testing.Cli;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Graphs TensorFlow must not see: each is one sentence naming the node, exit 2, nothing written. */
class GraphChecksTest {
  @TempDir Path tmp;

  private static final String X = "node { name: \"x\" op: \"Placeholder\" attr { key: \"dtype\" value { type: DT_FLOAT } } }\n";

  private static String constNode(String name, String attrType, String tensor) {
    return "node { name: \"" + name + "\" op: \"Const\" attr { key: \"dtype\" value { type: " + attrType
        + " } } attr { key: \"value\" value { tensor { " + tensor + " } } } }\n";
  }

  private static final String RESHAPE = "node { name: \"y\" op: \"Reshape\" input: \"x\" input: \"s\" "
      + "attr { key: \"T\" value { type: DT_FLOAT } } attr { key: \"Tshape\" value { type: DT_INT32 } } }\n";

  private Path graph(String text) throws IOException {
    Path p = tmp.resolve("g.pbtxt");
    Files.writeString(p, text);
    return p;
  }

  private Cli.Result convert(Path model) {
    return Cli.run("convert", model.toString(), "-o", tmp.resolve("out").toString());
  }

  private void assertRefused(Cli.Result r, String sentence) {
    assertEquals(2, r.code(), r.toString());
    assertEquals("tftrt: " + sentence, r.firstErrLine(), r.toString());
    assertFalse(Files.exists(tmp.resolve("out")), "nothing is written");
  }

  @Test
  @DisplayName("a Const whose value's dtype differs from its dtype attribute: refused, not converted unverified")
  void constDtypeMismatch() throws IOException {
    Path g = graph(X + constNode("s", "DT_INT32", "dtype: DT_INT64 tensor_shape { dim { size: 1 } } int64_val: 1") + RESHAPE);
    assertRefused(convert(g), g + ": node 's' (Const) holds an int64 value but declares dtype int32.");
  }

  @Test
  @DisplayName("a Const with more values than its shape has room for")
  void tooManyValues() throws IOException {
    Path g = graph(X + constNode("s", "DT_INT32", "dtype: DT_INT32 tensor_shape { dim { size: 3 } } int_val: 1 int_val: 2 int_val: 3 int_val: 4") + RESHAPE);
    assertRefused(convert(g), g + ": node 's' (Const) attribute 'value' holds an int32 tensor of shape [3] with 4 values; it has room for 3.");
  }

  @Test
  @DisplayName("a Const whose raw content does not fill its shape")
  void contentSize() throws IOException {
    Path g = graph(X + constNode("s", "DT_INT32", "dtype: DT_INT32 tensor_shape { dim { size: 3 } } tensor_content: \"\\001\\000\\000\\000\"") + RESHAPE);
    assertRefused(convert(g), g + ": node 's' (Const) attribute 'value' holds an int32 tensor of shape [3] with 4 bytes of content; it needs 12.");
  }

  @Test
  @DisplayName("a Const of 4 TB is refused at once, not after minutes of allocating")
  void hugeConst() throws IOException {
    Path g = graph(constNode("c", "DT_FLOAT", "dtype: DT_FLOAT tensor_shape { dim { size: 1000000000000 } } float_val: 1")
        + "node { name: \"y\" op: \"Identity\" input: \"c\" attr { key: \"T\" value { type: DT_FLOAT } } }\n");
    long t0 = System.nanoTime();
    Cli.Result r = Cli.run("run", g.toString());
    assertEquals(2, r.code(), r.toString());
    assertTrue(r.firstErrLine().startsWith("tftrt: " + g + ": node 'c' (Const) attribute 'value' holds a float32 tensor of shape [1000000000000] (3.6 TB), more than this machine's "), r.toString());
    assertTrue(System.nanoTime() - t0 < 20e9, "refused before TensorFlow tries");
  }

  @Test
  @DisplayName("a 300-byte Fill asking for 4 TB is refused from its inferred shape")
  void hugeFill() throws IOException {
    Path g = graph(constNode("d", "DT_INT64", "dtype: DT_INT64 tensor_shape { dim { size: 2 } } int64_val: 1000000 int64_val: 1000000")
        + constNode("v", "DT_FLOAT", "dtype: DT_FLOAT tensor_shape { } float_val: 1")
        + "node { name: \"y\" op: \"Fill\" input: \"d\" input: \"v\" attr { key: \"T\" value { type: DT_FLOAT } } attr { key: \"index_type\" value { type: DT_INT64 } } }\n");
    long t0 = System.nanoTime();
    Cli.Result r = convert(g);
    assertEquals(2, r.code(), r.toString());
    assertTrue(r.firstErrLine().startsWith("tftrt: " + g + ": node 'y' (Fill) would produce a float32 tensor of shape [1000000, 1000000] (3.6 TB), more than this machine's "), r.toString());
    assertFalse(Files.exists(tmp.resolve("out")));
    assertTrue(System.nanoTime() - t0 < 20e9, "refused before TensorFlow tries");
  }

  @Test
  @DisplayName("--shape that makes inferred tensors larger than memory is refused before folding or running")
  void hugeAtShapes() throws IOException {
    Path g = graph(X + "node { name: \"y\" op: \"Neg\" input: \"x\" attr { key: \"T\" value { type: DT_FLOAT } } }\n");
    Cli.Result r = Cli.run("inspect", g.toString(), "--shape", "x=1000000,1000000");
    assertEquals(2, r.code(), r.toString());
    assertTrue(r.firstErrLine().startsWith("tftrt: " + g + " at the input shapes given: node 'x' (Placeholder) would produce a float32 tensor of shape [1000000, 1000000] (3.6 TB)"), r.toString());
  }

  @Test
  @DisplayName("an attribute of the wrong kind names the node and the kind the op takes")
  void wrongAttrKind() throws IOException {
    Path g = graph(X + "node { name: \"y\" op: \"Neg\" input: \"x\" attr { key: \"T\" value { list { type: DT_FLOAT } } } }\n");
    Cli.Result r = Cli.run("run", g.toString(), "--random");
    assertEquals(2, r.code(), r.toString());
    assertEquals("tftrt: " + g + ": node 'y' (Neg) has attribute 'T' of the wrong kind: the op takes type.", r.firstErrLine(), r.toString());
  }

  @Test
  @DisplayName("a shape attribute with a dimension below -1")
  void badShapeAttr() throws IOException {
    Path g = graph("node { name: \"x\" op: \"Placeholder\" attr { key: \"dtype\" value { type: DT_FLOAT } } attr { key: \"shape\" value { shape { dim { size: -7 } } } } }\n"
        + "node { name: \"y\" op: \"Neg\" input: \"x\" attr { key: \"T\" value { type: DT_FLOAT } } }\n");
    Cli.Result r = Cli.run("run", g.toString(), "--random");
    assertEquals(2, r.code(), r.toString());
    assertEquals("tftrt: " + g + ": node 'x' (Placeholder) attribute 'shape' has a shape with dimension -7 (sizes are -1 for unknown, else 0 or more).", r.firstErrLine(), r.toString());
  }
}
