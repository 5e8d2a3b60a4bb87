package dev.tftrt.convert.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.convert.ConverterTest;
import dev.tftrt.convert.Covers;
import dev.tftrt.convert.OnnxCheck;
import dev.tftrt.convert.TfBuilder;
import dev.tftrt.tensor.HostTensor;
import org.junit.jupiter.api.Test;
import org.tensorflow.GraphOperation;
import org.tensorflow.Output;
import org.tensorflow.proto.DataType;

class ShapeOpsTest extends ConverterTest {
  @Test
  @Covers({"Reshape", "Squeeze", "ExpandDims", "Transpose"})
  void reshapes() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 3, 4);
    Output<?> r = b.op("Reshape").in(x, b.ints(-1, 1, 12)).attr("T", F32).out();
    Output<?> e = b.op("ExpandDims").in(r, b.scalarInt(-1)).attr("T", F32).out(); // [n,1,12,1]
    Output<?> q = b.op("Squeeze").in(e).attr("T", F32).attr("squeeze_dims", s(1, -1)).out(); // [n,12]
    b.op("Transpose").name("out").in(b.op("Reshape").in(q, b.ints(-1, 6, 2)).attr("T", F32).out(), b.ints(2, 0, 1))
        .attr("T", F32).build();
    OnnxCheck.of(b).feed("x", rand.floats(2, 3, 4)).outputs("out").run();

    TfBuilder c = new TfBuilder();
    c.op("Squeeze").name("out").in(c.placeholder("x", I32, 1, 3, 1, 2)).attr("T", I32).build();
    OnnxCheck.of(c).feed("x", rand.ints(0, 9, 1, 3, 1, 2)).outputs("out").run();
  }

  @Test
  @Covers({"ConcatV2", "Concat", "Pack", "Unpack"})
  void concatAndStack() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 3);
    Output<?> y = b.placeholder("y", F32, -1, 2);
    b.op("ConcatV2").name("cat").inList(x, y, x).in(b.scalarInt(-1)).attr("T", F32).attr("N", 3).build();
    b.op("Concat").name("cat0").in(b.scalarInt(0)).inList(x, x).attr("T", F32).attr("N", 2).build();
    b.op("Pack").name("stack").inList(x, x, x).attr("T", F32).attr("N", 3).attr("axis", 1).build();
    GraphOperation u = b.op("Unpack").name("unstack").in(x).attr("T", F32).attr("num", 3).attr("axis", -1).build();
    b.op("AddV2").name("sum").in(u.output(0), u.output(2)).attr("T", F32).build();
    OnnxCheck.of(b).feed("x", rand.floats(2, 3)).feed("y", rand.floats(2, 2))
        .outputs("cat", "cat0", "stack", "unstack:1", "sum").run();
  }

  @Test
  @Covers({"Split", "SplitV"})
  void splits() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 6, 4);
    b.op("Split").name("sp").in(b.scalarInt(1), x).attr("T", F32).attr("num_split", 3).build();
    b.op("SplitV").name("sv").in(x, b.ints(1, -1, 2), b.scalarInt(1)).attr("T", F32).attr("num_split", 3)
        .attr("Tlen", I32).build();
    OnnxCheck.of(b).feed("x", rand.floats(2, 6, 4)).outputs("sp:0", "sp:1", "sp:2", "sv:0", "sv:1", "sv:2").run();
  }

  @Test
  @Covers({"Slice", "StridedSlice"})
  void slicing() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 5, 6);
    b.op("Slice").name("sl").in(x, b.ints(0, 1, 2), b.ints(-1, 3, -1)).attr("T", F32).attr("Index", I32).build();
    ss(b, "plain", x, new int[] {0, 1, 1}, new int[] {2, 4, 5}, new int[] {1, 1, 2}, 0, 0, 0, 0, 0);
    ss(b, "masks", x, new int[] {0, 1, 0}, new int[] {0, 0, 3}, new int[] {1, 2, 1}, 0b011, 0b101, 0, 0, 0);
    ss(b, "negstride", x, new int[] {0, -1, 0}, new int[] {0, 0, 0}, new int[] {1, -1, -2}, 0b101, 0b111, 0, 0, 0);
    ss(b, "shrink", x, new int[] {0, -1, 2}, new int[] {0, 0, 3}, new int[] {1, 1, 1}, 1, 1, 0, 0, 0b110);
    ss(b, "ellipsis", x, new int[] {0, 1}, new int[] {0, 3}, new int[] {1, 1}, 0, 0, 0b01, 0, 0);
    ss(b, "ellipsisfirst", x, new int[] {0, 2}, new int[] {0, 3}, new int[] {1, 1}, 0, 0, 0b01, 0, 0b10);
    ss(b, "newaxis", x, new int[] {0, 0, 1, 0}, new int[] {0, 0, 2, 0}, new int[] {1, 1, 1, 1}, 0b1001, 0b1001, 0, 0b0010, 0);
    ss(b, "lastrow", x, new int[] {-1}, new int[] {0}, new int[] {1}, 0, 0, 0, 0, 1);
    OnnxCheck.of(b).feed("x", rand.floats(3, 5, 6)).outputs("sl", "plain", "masks", "negstride", "shrink",
        "ellipsis", "ellipsisfirst", "newaxis", "lastrow").run();
  }

  private static void ss(TfBuilder b, String name, Output<?> x, int[] begin, int[] end, int[] strides,
      int bm, int em, int ell, int nm, int sm) {
    b.op("StridedSlice").name(name).in(x, b.ints(begin), b.ints(end), b.ints(strides)).attr("T", F32)
        .attr("Index", I32).attr("begin_mask", bm).attr("end_mask", em).attr("ellipsis_mask", ell)
        .attr("new_axis_mask", nm).attr("shrink_axis_mask", sm).build();
  }

  @Test
  @Covers({"GatherV2", "Gather", "GatherNd"})
  void gathers() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 5, 3);
    Output<?> idx = b.placeholder("i", I32, 2, 2);
    b.op("GatherV2").name("g1").in(x, idx, b.scalarInt(1)).attr("Tparams", F32).attr("Tindices", I32)
        .attr("Taxis", I32).build();
    b.op("GatherV2").name("g2").in(x, b.ints(2, 0), b.scalarInt(-1)).attr("Tparams", F32).attr("Tindices", I32)
        .attr("Taxis", I32).build();
    b.op("Gather").name("g0").in(x, b.ints(1, 0, 1)).attr("Tparams", F32).attr("Tindices", I32).build();
    b.op("GatherNd").name("gnd").in(x, b.constant(HostTensor.ofInts(s(2, 2), 0, 4, 1, 2)))
        .attr("Tparams", F32).attr("Tindices", I32).build();
    OnnxCheck.of(b).feed("x", rand.floats(2, 5, 3)).feed("i", rand.ints(0, 5, 2, 2))
        .outputs("g1", "g2", "g0", "gnd").run();
  }

  @Test
  @Covers({"Shape", "Fill", "ZerosLike", "OnesLike", "Tile", "Range"})
  void shapeBuilders() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 3);
    Output<?> shape = b.op("Shape").name("shape").in(x).attr("T", F32).attr("out_type", I32).out();
    b.op("Shape").name("shape64").in(x).attr("T", F32).attr("out_type", DataType.DT_INT64).build();
    b.op("Fill").name("fill").in(shape, b.constant(HostTensor.ofFloats(s(), 2.5f))).attr("T", F32)
        .attr("index_type", I32).build();
    b.op("Fill").name("fillc").in(b.ints(2, 2), b.constant(HostTensor.ofFloats(s(), 1.5f))).attr("T", F32)
        .attr("index_type", I32).build();
    b.op("ZerosLike").name("zeros").in(x).attr("T", F32).build();
    b.op("OnesLike").name("ones").in(x).attr("T", F32).build();
    b.op("Tile").name("tile").in(x, b.ints(2, 3)).attr("T", F32).attr("Tmultiples", I32).build();
    b.op("Tile").name("tiledyn").in(x, shape).attr("T", F32).attr("Tmultiples", I32).build();
    b.op("Range").name("range").in(b.scalarInt(1), b.placeholder("n", I32), b.scalarInt(2)).attr("Tidx", I32).build();
    OnnxCheck.of(b).feed("x", rand.floats(2, 3)).feed("n", HostTensor.ofInts(s(), 8))
        .outputs("shape", "shape64", "fill", "fillc", "zeros", "ones", "tile", "tiledyn", "range").run();
  }

  @Test
  @Covers({"Select", "SelectV2"})
  void selects() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, 4, 3);
    Output<?> y = b.placeholder("y", F32, 4, 3);
    b.op("Select").name("rows").in(b.placeholder("c", DataType.DT_BOOL, 4), x, y).attr("T", F32).build();
    b.op("Select").name("same").in(b.placeholder("d", DataType.DT_BOOL, 4, 3), x, y).attr("T", F32).build();
    b.op("SelectV2").name("bcast").in(b.placeholder("e", DataType.DT_BOOL, 3), x, y).attr("T", F32).build();
    OnnxCheck.of(b).feed("x", rand.floats(4, 3)).feed("y", rand.floats(4, 3)).feed("c", rand.bools(4))
        .feed("d", rand.bools(4, 3)).feed("e", rand.bools(3)).outputs("rows", "same", "bcast").run();
  }

  @Test
  void shapeRejections() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 3);
    b.op("Reshape").name("zero").in(x, b.ints(0, 3)).attr("T", F32).build();
    b.op("Reshape").name("dyn").in(x, b.placeholder("s", I32, 2)).attr("T", F32).build();
    b.op("Squeeze").name("sq").in(x).attr("T", F32).build();
    b.op("SplitV").name("sv").in(b.placeholder("y", F32, -1, 3), b.ints(1, -1), b.scalarInt(0))
        .attr("T", F32).attr("num_split", 2).attr("Tlen", I32).build();
    b.op("GatherV2").name("bd").in(b.placeholder("p", F32, 2, 3), b.placeholder("i", I32, 2, 2), b.scalarInt(1))
        .attr("Tparams", F32).attr("Tindices", I32).attr("Taxis", I32).attr("batch_dims", 1).build();
    b.op("Select").name("unk").in(b.placeholderUnknownRank("c", DataType.DT_BOOL), x, x).attr("T", F32).build();
    assertEquals("its target shape has a 0, which ONNX reads as 'copy this dimension'.", OnnxCheck.validate(b, "zero").orElseThrow());
    assertTrue(OnnxCheck.validate(b, "dyn").isEmpty(), "computed shapes convert (ONNX Reshape reads a shape tensor)");
    assertEquals("it squeezes every size-1 dimension, which needs the input shape, and float32[?,3] is not fully known.",
        OnnxCheck.validate(b, "sq").orElseThrow());
    assertEquals("a -1 in size_splits needs the size of the split dimension, and it is unknown.",
        OnnxCheck.validate(b, "sv").orElseThrow());
    assertEquals("batch_dims 1 is not supported; only 0 is.", OnnxCheck.validate(b, "bd").orElseThrow());
    assertEquals("Select needs the ranks of its condition and operands, and one is unknown.",
        OnnxCheck.validate(b, "unk").orElseThrow());
  }
}
